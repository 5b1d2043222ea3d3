# shellcheck shell=sh
# Variables set here (SCOPE, TOKEN_DIR, CA_FILE ...) are read by the hooks that include this file.
# shellcheck disable=SC2034
#
# orgconda: the input checks shared by pre_install.sh and post_install.sh (POSIX sh).
#
# One source: each hook includes this file with the line  . "$(dirname "$0")/lib/common.sh"
# and orgconda.hooks.staged_hooks("sh") replaces that line with this file's text, so the
# scripts an installer ships are standalone. The including script sets HOOK first.
#
# PKG installers pass the staged scripts through Jinja: never write an opening brace directly
# followed by another brace, a percent sign or a hash (orgconda.hooks refuses to stage that).

RULE='^[A-Za-z0-9_-]{1,36}$ (1 to 36 characters from A-Z a-z 0-9 _ -)'
CA_RULE='etc/orgconda/ followed by a file name of 1 to 128 characters from A-Z a-z 0-9 . _ - without ..'
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

# Print what is wrong with an ORGCONDA_CA_FILE value, or nothing when it is valid.
ca_file_problem() {
    case $1 in
        /*) echo "is an absolute path; it must be relative to the installation"; return ;;
        *..*) echo "contains .."; return ;;
        etc/orgconda/ | etc/orgconda/.) echo "names no file"; return ;;
        etc/orgconda/*/*) echo "names a subdirectory of etc/orgconda"; return ;;
        etc/orgconda/*[!A-Za-z0-9._-]*) echo "has a file name with characters outside A-Z a-z 0-9 . _ -"; return ;;
        etc/orgconda/*) ;;
        *) echo "is not in etc/orgconda/"; return ;;
    esac
    _n=$(printf '%s' "${1#etc/orgconda/}" | wc -c | tr -d ' ')
    if [ "$_n" -gt 128 ]; then
        echo "has a file name of $_n characters; the limit is 128"
    fi
}

# Sets CA_FILE from ORGCONDA_CA_FILE (unset or empty means no bundled CA certificate): the
# path of the certificate bundle relative to the prefix. Only the value is checked here.
check_ca_file() {
    CA_FILE=${ORGCONDA_CA_FILE:-}
    if [ -z "$CA_FILE" ]; then
        return
    fi
    _problem=$(ca_file_problem "$CA_FILE")
    if [ -n "$_problem" ]; then
        fail "ORGCONDA_CA_FILE $_problem; it must be $CA_RULE"
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

# Check every install-time input and the target directories, reporting all problems at once.
# Returns 1 when there was a problem (a missing or relative PREFIX exits at once).
check_inputs() {
    check_prefix
    check_token ORGCONDA_INSTALLER_TOKEN "${ORGCONDA_INSTALLER_TOKEN+set}" "${ORGCONDA_INSTALLER_TOKEN-}"
    check_token ORGCONDA_ORG_TOKEN "${ORGCONDA_ORG_TOKEN+set}" "${ORGCONDA_ORG_TOKEN-}"
    if [ -n "${ORGCONDA_MACHINE_TOKEN+set}" ]; then
        check_token ORGCONDA_MACHINE_TOKEN set "$ORGCONDA_MACHINE_TOKEN"
    fi
    check_ca_file
    resolve_scope
    if [ "$SCOPE" = system ]; then
        check_writable "$TOKEN_DIR" "the system tokens" "; ORGCONDA_TOKEN_SCOPE=system needs admin rights: run the installer as root (for example with sudo), or use an installer built with token scope prefix"
    fi
    check_writable "$PREFIX" "the installation's tokens and record"
    [ "$ERRORS" -eq 0 ]
}
