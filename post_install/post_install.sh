#!/bin/sh
# orgconda post-install hook for .sh and .pkg installers (POSIX sh: dash, bash, macOS bash 3.2).
#
# Writes the system tokens that anaconda-anon-usage reads, one token per file:
#   .installer_token  <- ORGCONDA_INSTALLER_TOKEN (script_env_variables)
#   org_token         <- ORGCONDA_ORG_TOKEN       (script_env_variables)
#   machine_token     <- ORGCONDA_MACHINE_TOKEN from the installing environment if set, else the
#                        valid machine_token already there (reinstall / -u keeps the identity),
#                        else 22 URL-safe base64 characters from /dev/urandom
# into $PREFIX (ORGCONDA_TOKEN_SCOPE=prefix, the default) or /etc/conda (system; the
# ORGCONDA_SYSTEM_TOKEN_DIR variable replaces /etc/conda, for tests and unusual layouts).
# An all-users install (running as uid 0 on a prefix owned by uid 0) also seeds
# $PREFIX/etc/aau_token so the e/ token works for users who cannot write the prefix.
# Last it records what it did in $PREFIX/etc/orgconda/install.json (never the machine token).
#
# Every value is checked against ^[A-Za-z0-9_-]{1,36}$ before anything is written: a bad one
# stops the hook with exit status 1 and a message naming the variable, and nothing is written.
# Files are written to a temporary file in the target directory and renamed into place, mode
# 0644. PKG installers run this as root even for a prefix in a user's home, so files created
# under the prefix are given the prefix's owner.
#
# PKG installers pass this file through Jinja: it must never contain an opening brace directly
# followed by another brace, a percent sign or a hash (tests/test_hooks_sh.py checks).

set -u
umask 022
LC_ALL=C
export LC_ALL

HOOK=post_install

# --- shared with pre_install.sh: begin (tests check that both copies are identical) ---
RULE='^[A-Za-z0-9_-]{1,36}$ (1 to 36 characters from A-Z a-z 0-9 _ -)'
ERRORS=0

say() {
    printf 'orgconda %s: %s\n' "$HOOK" "$*"
}

fail() {
    printf 'orgconda %s: error: %s\n' "$HOOK" "$*" >&2
    ERRORS=$((ERRORS + 1))
}

die() {
    fail "$@"
    exit 1
}

# Print what is wrong with a token value, or nothing when it is valid.
token_problem() {
    case $1 in
        '') echo "is empty"; return ;;
        *[!A-Za-z0-9_-]*) echo "contains characters outside A-Z a-z 0-9 _ -"; return ;;
    esac
    # Only ASCII is left here, so bytes are characters.
    _n=$(printf '%s' "$1" | wc -c | tr -d ' ')
    if [ "$_n" -gt 36 ]; then
        echo "is $_n characters long; the limit is 36"
    fi
}

# check_token NAME SET VALUE: the variable NAME (SET is non-empty when it is set) must hold a
# valid token.
check_token() {
    if [ -z "$2" ]; then
        fail "$1 is not set; it must match $RULE"
        return
    fi
    _problem=$(token_problem "$3")
    if [ -n "$_problem" ]; then
        fail "$1 $_problem; it must match $RULE"
    fi
}

# Sets SCOPE and TOKEN_DIR from ORGCONDA_TOKEN_SCOPE (unset or empty means prefix).
resolve_scope() {
    SCOPE=${ORGCONDA_TOKEN_SCOPE:-prefix}
    case $SCOPE in
        prefix) TOKEN_DIR=$PREFIX ;;
        system)
            TOKEN_DIR=${ORGCONDA_SYSTEM_TOKEN_DIR:-/etc/conda}
            case $TOKEN_DIR in
                /*) ;;
                *) fail "ORGCONDA_SYSTEM_TOKEN_DIR must be an absolute path" ;;
            esac
            ;;
        *)
            fail "ORGCONDA_TOKEN_SCOPE must be 'prefix' or 'system'"
            TOKEN_DIR=$PREFIX
            ;;
    esac
}

check_prefix() {
    case ${PREFIX:-} in
        /*) ;;
        '') die "PREFIX is not set; this script is run by the installer, which sets it" ;;
        *) die "PREFIX must be an absolute path" ;;
    esac
}

# The nearest existing directory at or above $1.
existing_ancestor() {
    _d=$1
    while [ ! -e "$_d" ]; do
        _d=$(dirname "$_d")
    done
    printf '%s\n' "$_d"
}

# check_writable DIR WHAT [HINT]: DIR (or, if it does not exist yet, the directory it would be
# created in) must be a writable directory.
check_writable() {
    _at=$(existing_ancestor "$1")
    if [ ! -d "$_at" ]; then
        fail "cannot write $2 to $1: $_at is not a directory${3:-}"
    elif [ ! -w "$_at" ] || [ ! -x "$_at" ]; then
        fail "cannot write $2 to $1: $_at is not writable by uid $(id -u) (read-only file system, immutable directory or missing permission)${3:-}"
    fi
}

# Check every install-time input and the target directories; report all problems at once.
check_inputs() {
    check_prefix
    check_token ORGCONDA_INSTALLER_TOKEN "${ORGCONDA_INSTALLER_TOKEN+set}" "${ORGCONDA_INSTALLER_TOKEN-}"
    check_token ORGCONDA_ORG_TOKEN "${ORGCONDA_ORG_TOKEN+set}" "${ORGCONDA_ORG_TOKEN-}"
    if [ -n "${ORGCONDA_MACHINE_TOKEN+set}" ]; then
        check_token ORGCONDA_MACHINE_TOKEN set "$ORGCONDA_MACHINE_TOKEN"
    fi
    resolve_scope
    if [ "$SCOPE" = system ]; then
        check_writable "$TOKEN_DIR" "the system tokens" "; ORGCONDA_TOKEN_SCOPE=system needs admin rights: run the installer as root (for example with sudo), or use an installer built with token scope prefix"
    fi
    check_writable "$PREFIX" "the installation's tokens and record"
    if [ "$ERRORS" -gt 0 ]; then
        exit 1
    fi
}
# --- shared with pre_install.sh: end ---

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

FILES_JSON=
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
    if [ "$2" != install.json ]; then
        FILES_JSON="$FILES_JSON${FILES_JSON:+, }$(json_str "$1/$2")"
    fi
}

check_inputs

PREFIX=$(cd "$PREFIX" 2>/dev/null && pwd) || die "PREFIX $PREFIX is not a directory"
TOKEN_FILES_OWNED=system
if [ "$SCOPE" = prefix ]; then
    TOKEN_DIR=$PREFIX
    TOKEN_FILES_OWNED=owned
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

# The machine token: supplied, else kept, else generated. Decided before anything is written.
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
    if [ -z "$ENV_TOKEN" ]; then
        ENV_TOKEN=$(gen_token22) || die "cannot read 16 random bytes from /dev/urandom"
    fi
fi

# Write.
make_dir "$TOKEN_DIR" "$TOKEN_FILES_OWNED"
write_file "$TOKEN_DIR" .installer_token "$ORGCONDA_INSTALLER_TOKEN" yes "$TOKEN_FILES_OWNED"
write_file "$TOKEN_DIR" org_token "$ORGCONDA_ORG_TOKEN" yes "$TOKEN_FILES_OWNED"
write_file "$TOKEN_DIR" machine_token "$MACHINE_TOKEN" yes "$TOKEN_FILES_OWNED"
ENV_SEEDED=false
if [ -n "$ENV_TOKEN" ]; then
    make_dir "$PREFIX/etc" owned
    write_file "$PREFIX/etc" aau_token "$ENV_TOKEN" no owned
    ENV_SEEDED=true
fi

UNATTENDED=false
if [ "${INSTALLER_UNATTENDED:-0}" = 1 ]; then
    UNATTENDED=true
fi
RECORD=$(printf '{\n  "format": 1,\n  "hook": "post_install",\n  "installer_name": %s,\n  "installer_version": %s,\n  "installer_platform": %s,\n  "installer_type": %s,\n  "scope": "%s",\n  "token_dir": %s,\n  "files": [%s],\n  "installer_token": "%s",\n  "org_token": "%s",\n  "machine_token_source": "%s",\n  "env_token_seeded": %s,\n  "all_users": %s,\n  "unattended": %s\n}' \
    "$(json_str "${INSTALLER_NAME:-}")" "$(json_str "${INSTALLER_VER:-}")" \
    "$(json_str "${INSTALLER_PLAT:-}")" "$(json_str "${INSTALLER_TYPE:-}")" \
    "$SCOPE" "$(json_str "$TOKEN_DIR")" "$FILES_JSON" \
    "$ORGCONDA_INSTALLER_TOKEN" "$ORGCONDA_ORG_TOKEN" "$MACHINE_SOURCE" \
    "$ENV_SEEDED" "$ALL_USERS" "$UNATTENDED")
make_dir "$PREFIX/etc/orgconda" owned
write_file "$PREFIX/etc/orgconda" install.json "$RECORD" yes owned

say "wrote .installer_token, org_token and machine_token ($MACHINE_SOURCE) to $TOKEN_DIR (scope $SCOPE)"
if [ "$ENV_SEEDED" = true ]; then
    say "seeded $PREFIX/etc/aau_token (all-users install)"
fi
say "record: $PREFIX/etc/orgconda/install.json"
