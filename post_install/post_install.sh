#!/bin/sh
# orgconda post-install hook for .sh and .pkg installers (POSIX sh: dash, bash, macOS bash 3.2).
#
# Writes the system tokens that anaconda-anon-usage reads, one token per file:
#   .installer_token  <- ORGCONDA_INSTALLER_TOKEN (script_env_variables)
#   org_token         <- ORGCONDA_ORG_TOKEN       (script_env_variables)
#   machine_token     <- ORGCONDA_MACHINE_TOKEN from the installing environment if set, else the
#                        valid machine_token already in the token directory (reinstall / -u
#                        keeps the identity), else 22 URL-safe base64 characters from /dev/urandom
# into $PREFIX (ORGCONDA_TOKEN_SCOPE=prefix, the default) or /etc/conda (system; the
# ORGCONDA_SYSTEM_TOKEN_DIR variable replaces /etc/conda, for tests and unusual layouts).
# An all-users install (running as uid 0 on a prefix owned by uid 0) also seeds
# $PREFIX/etc/aau_token so the e/ token works for users who cannot write the prefix.
# With a bundled CA certificate (ORGCONDA_CA_FILE=etc/orgconda/<file>, set by builds without
# the configuration package) it writes $PREFIX/condarc.d/orgconda-ca.yml, which points conda's
# ssl_verify at the file by its absolute path (conda refuses a path with variables in it).
# Last it records what it did in $PREFIX/etc/orgconda/install.json (never the machine token).
#
# Every value is checked before anything is written: a bad one stops the hook with exit status
# 1 and a message naming the variable, and nothing is written. Files are written to a temporary
# file in the target directory and renamed into place, mode 0644. PKG installers run this as
# root even for a prefix in a user's home, so files created under the prefix are given the
# prefix's owner.
#
# The checks shared with pre_install.sh are in lib/common.sh; the installer gets this file
# with that one included (orgconda.hooks.staged_hooks).
# shellcheck source-path=SCRIPTDIR

set -u
umask 022
LC_ALL=C
export LC_ALL

# shellcheck disable=SC2034 # read by lib/common.sh
HOOK=post_install

# shellcheck source=lib/common.sh disable=SC1091 # followed when lib/common.sh is checked too
. "$(dirname "$0")/lib/common.sh"

# 22 characters of URL-safe base64 from 16 bytes of /dev/urandom (what anaconda-anon-usage
# itself makes for its own tokens). od and awk instead of base64/head -c: both are POSIX.
gen_token22() {
    od -An -v -tu1 -N16 /dev/urandom | awk '
        BEGIN { a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" }
        { for (i = 1; i <= NF; i++) b[n++] = $i }
        END {
            if (n != 16) exit 1
            out = ""; acc = 0; bits = 0
            for (i = 0; i < n; i++) {
                acc = acc * 256 + b[i]; bits += 8
                while (bits >= 6) {
                    bits -= 6; d = int(acc / 2 ^ bits)
                    out = out substr(a, d + 1, 1); acc -= d * 2 ^ bits
                }
            }
            out = out substr(a, acc * 2 ^ (6 - bits) + 1, 1)
            print out
        }'
}

# First non-blank line of a file, surrounding blanks removed (how anaconda-anon-usage reads it).
first_value() {
    awk '{ sub(/^[ \t\r]+/, ""); sub(/[ \t\r]+$/, "") } $0 != "" { print; exit }' "$1" 2>/dev/null
}

json_str() {
    printf '"%s"' "$(printf '%s' "$1" | tr -d '\000-\037' | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')"
}

# Give a file or directory created under the prefix the prefix's owner (PKG runs as root).
own_like_prefix() {
    if [ -n "$PREFIX_OWNER" ]; then
        chown "$PREFIX_OWNER" "$1" || die "cannot give $1 the owner of $PREFIX ($PREFIX_OWNER)"
    fi
}

# make_dir DIR OWNED: create DIR and its missing parents (mode 0755).
make_dir() {
    if [ -d "$1" ]; then
        return
    fi
    make_dir "$(dirname "$1")" "$2"
    mkdir "$1" 2>/dev/null || [ -d "$1" ] || die "cannot create directory $1"
    chmod 0755 "$1" || die "cannot set the mode of $1"
    if [ "$2" = owned ]; then
        own_like_prefix "$1"
    fi
}

TMPFILE=
cleanup() {
    if [ -n "$TMPFILE" ]; then
        rm -f "$TMPFILE"
    fi
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

# write_file DIR NAME CONTENT NEWLINE(yes|no) OWNED(owned|system): atomic, mode 0644.
write_file() {
    if [ -d "$1/$2" ]; then
        die "cannot write $1/$2: it is a directory"
    fi
    TMPFILE=$(mktemp "$1/.$2.XXXXXX") || die "cannot create a temporary file in $1 (is it writable?)"
    if [ "$4" = yes ]; then
        printf '%s\n' "$3" >"$TMPFILE" || die "cannot write $TMPFILE"
    else
        printf '%s' "$3" >"$TMPFILE" || die "cannot write $TMPFILE"
    fi
    chmod 0644 "$TMPFILE" || die "cannot set the mode of $TMPFILE"
    if [ "$5" = owned ]; then
        own_like_prefix "$TMPFILE"
    fi
    mv -f "$TMPFILE" "$1/$2" || die "cannot move $TMPFILE to $1/$2"
    TMPFILE=
}

# The token files written, for the record.
FILES_JSON=
write_token_file() {
    write_file "$@"
    FILES_JSON="$FILES_JSON${FILES_JSON:+, }$(json_str "$1/$2")"
}

# A value for YAML's single quotes: each ' doubled.
yaml_single_quoted() {
    printf "'%s'" "$(printf '%s' "$1" | sed "s/'/''/g")"
}

# Every problem is reported before the hook stops: the inputs, then the bundled CA certificate,
# which must be in the prefix now (the installer ships it) and whose absolute path must fit in
# one YAML line.
check_inputs
if [ -n "$CA_FILE" ] && [ -z "$(ca_file_problem "$CA_FILE")" ]; then
    case $PREFIX in
        *[[:cntrl:]]*) fail "PREFIX contains a control character (a line end, a tab ...), so condarc.d/orgconda-ca.yml cannot name the CA certificate ORGCONDA_CA_FILE=$CA_FILE in it; install into a directory without one" ;;
    esac
    if [ ! -f "$PREFIX/$CA_FILE" ]; then
        fail "ORGCONDA_CA_FILE names $PREFIX/$CA_FILE, which is not a file: the installer ships it as an extra file; rebuild the installer if it is missing"
    elif [ ! -s "$PREFIX/$CA_FILE" ]; then
        fail "ORGCONDA_CA_FILE names $PREFIX/$CA_FILE, which is empty: rebuild the installer with the CA certificate"
    fi
fi
if [ "$ERRORS" -gt 0 ]; then
    exit 1
fi

PREFIX=$(cd "$PREFIX" 2>/dev/null && pwd) || die "PREFIX $PREFIX is not a directory"
TOKEN_FILES_OWNED=system
if [ "$SCOPE" = prefix ]; then
    TOKEN_DIR=$PREFIX
    TOKEN_FILES_OWNED=owned
fi
CA_PATH=
if [ -n "$CA_FILE" ]; then
    CA_PATH=$PREFIX/$CA_FILE
fi

UID_NOW=$(id -u)
# ls -n is the portable way to read numeric owner ids (stat's options differ between GNU and BSD).
# shellcheck disable=SC2012
PREFIX_IDS=$(ls -ldn "$PREFIX" | awk '{ print $3 ":" $4 }')
PREFIX_OWNER=
if [ "$UID_NOW" = 0 ] && [ "$PREFIX_IDS" != "0:0" ]; then
    PREFIX_OWNER=$PREFIX_IDS
fi
ALL_USERS=false
if [ "$UID_NOW" = 0 ] && [ "${PREFIX_IDS%%:*}" = 0 ]; then
    ALL_USERS=true
fi

# The machine token: supplied, else kept from the token directory (the system one for scope
# system, never the prefix), else generated. Decided before anything is written.
if [ -n "${ORGCONDA_MACHINE_TOKEN+set}" ]; then
    MACHINE_TOKEN=$ORGCONDA_MACHINE_TOKEN
    MACHINE_SOURCE=supplied
else
    MACHINE_TOKEN=
    if [ -f "$TOKEN_DIR/machine_token" ]; then
        MACHINE_TOKEN=$(first_value "$TOKEN_DIR/machine_token")
    fi
    if [ -n "$MACHINE_TOKEN" ] && [ -z "$(token_problem "$MACHINE_TOKEN")" ]; then
        MACHINE_SOURCE=kept
    else
        MACHINE_TOKEN=$(gen_token22) || die "cannot read 16 random bytes from /dev/urandom"
        MACHINE_SOURCE=generated
    fi
fi
if [ -n "$(token_problem "$MACHINE_TOKEN")" ]; then
    die "the machine token ($MACHINE_SOURCE) is not valid; it must match $RULE"
fi

# All-users installs: seed the environment token (22+ URL-safe characters, no newline, as
# anaconda-anon-usage writes it), keeping a valid one from an earlier install.
ENV_TOKEN=
ENV_SOURCE=
if [ "$ALL_USERS" = true ]; then
    if [ -f "$PREFIX/etc/aau_token" ]; then
        ENV_TOKEN=$(first_value "$PREFIX/etc/aau_token")
    fi
    case $ENV_TOKEN in
        *[!A-Za-z0-9_-]* | '') ENV_TOKEN= ;;
    esac
    if [ -n "$ENV_TOKEN" ] && [ "$(printf '%s' "$ENV_TOKEN" | wc -c | tr -d ' ')" -lt 22 ]; then
        ENV_TOKEN=
    fi
    ENV_SOURCE=kept
    if [ -z "$ENV_TOKEN" ]; then
        ENV_TOKEN=$(gen_token22) || die "cannot read 16 random bytes from /dev/urandom"
        ENV_SOURCE=generated
    fi
fi

# Write.
make_dir "$TOKEN_DIR" "$TOKEN_FILES_OWNED"
write_token_file "$TOKEN_DIR" .installer_token "$ORGCONDA_INSTALLER_TOKEN" yes "$TOKEN_FILES_OWNED"
write_token_file "$TOKEN_DIR" org_token "$ORGCONDA_ORG_TOKEN" yes "$TOKEN_FILES_OWNED"
write_token_file "$TOKEN_DIR" machine_token "$MACHINE_TOKEN" yes "$TOKEN_FILES_OWNED"
ENV_SEEDED=false
if [ -n "$ENV_TOKEN" ]; then
    make_dir "$PREFIX/etc" owned
    write_token_file "$PREFIX/etc" aau_token "$ENV_TOKEN" no owned
    ENV_SEEDED=true
fi

CA_YML=$PREFIX/condarc.d/orgconda-ca.yml
CA_JSON=null
CA_NOTE=
if [ -n "$CA_PATH" ]; then
    make_dir "$PREFIX/condarc.d" owned
    write_file "$PREFIX/condarc.d" orgconda-ca.yml "ssl_verify: $(yaml_single_quoted "$CA_PATH")" yes owned
    CA_JSON=$(json_str "$CA_PATH")
    CA_NOTE="wrote $CA_YML: ssl_verify is $CA_PATH"
elif [ -f "$CA_YML" ]; then
    # An earlier installer bundled a CA certificate and this one does not: its setting goes.
    rm -f "$CA_YML" || die "cannot remove $CA_YML, left by an earlier install"
    CA_NOTE="removed $CA_YML, left by an earlier install: this installer bundles no CA certificate"
fi

UNATTENDED=false
if [ "${INSTALLER_UNATTENDED:-0}" = 1 ]; then
    UNATTENDED=true
fi
RECORD=$(printf '{\n  "format": 1,\n  "hook": "post_install",\n  "installer_name": %s,\n  "installer_version": %s,\n  "installer_platform": %s,\n  "installer_type": %s,\n  "scope": "%s",\n  "token_dir": %s,\n  "files": [%s],\n  "installer_token": "%s",\n  "org_token": "%s",\n  "machine_token_source": "%s",\n  "env_token_seeded": %s,\n  "all_users": %s,\n  "unattended": %s,\n  "ca_certificate": %s\n}' \
    "$(json_str "${INSTALLER_NAME:-}")" "$(json_str "${INSTALLER_VER:-}")" \
    "$(json_str "${INSTALLER_PLAT:-}")" "$(json_str "${INSTALLER_TYPE:-}")" \
    "$SCOPE" "$(json_str "$TOKEN_DIR")" "$FILES_JSON" \
    "$ORGCONDA_INSTALLER_TOKEN" "$ORGCONDA_ORG_TOKEN" "$MACHINE_SOURCE" \
    "$ENV_SEEDED" "$ALL_USERS" "$UNATTENDED" "$CA_JSON")
make_dir "$PREFIX/etc/orgconda" owned
write_file "$PREFIX/etc/orgconda" install.json "$RECORD" yes owned

say "wrote .installer_token, org_token and machine_token ($MACHINE_SOURCE) to $TOKEN_DIR (scope $SCOPE)"
if [ "$ENV_SOURCE" = kept ]; then
    say "kept the environment token in $PREFIX/etc/aau_token from an earlier install (all-users install)"
elif [ "$ENV_SOURCE" = generated ]; then
    say "seeded $PREFIX/etc/aau_token with a new environment token (all-users install)"
fi
if [ -n "$CA_NOTE" ]; then
    say "$CA_NOTE"
fi
say "record: $PREFIX/etc/orgconda/install.json"
