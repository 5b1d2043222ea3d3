#!/bin/sh
# orgconda pre-install hook for .sh and .pkg installers (POSIX sh: dash, bash, macOS bash 3.2).
#
# Runs after the installer has unpacked its packages into the prefix and before anything is
# linked, and only checks: the installer and organization tokens (script_env_variables), the
# optional ORGCONDA_MACHINE_TOKEN from the installing environment (each against
# ^[A-Za-z0-9_-]{1,36}$), ORGCONDA_TOKEN_SCOPE (prefix or system), the form of ORGCONDA_CA_FILE
# (the bundled CA certificate arrives after this hook, so only post_install.sh checks the file),
# and that the directories the post-install hook will write are writable (for scope system:
# /etc/conda, which needs admin rights). Any problem stops the installation here, with exit
# status 1 and a message naming the variable; post_install.sh checks everything again.
#
# It writes nothing. When it refuses, it removes the prefix if that is provably this attempt's
# (see prefix_is_this_attempts), so that running the installer again is not stopped by
# "File or directory already exists"; otherwise it says how to retry.
#
# The checks shared with post_install.sh are in lib/common.sh; the installer gets this file
# with that one included (orgconda.hooks.staged_hooks).
# shellcheck source-path=SCRIPTDIR

set -u
umask 022
LC_ALL=C
export LC_ALL

# shellcheck disable=SC2034 # read by lib/common.sh
HOOK=pre_install

# shellcheck source=lib/common.sh disable=SC1091 # followed when lib/common.sh is checked too
. "$(dirname "$0")/lib/common.sh"

note() {
    printf 'orgconda %s: %s\n' "$HOOK" "$*" >&2
}

# installer_run FILE NAME: FILE holds a command line as /proc/<pid>/cmdline does (each argument
# ended by a NUL byte). Prints "fresh" when it runs the installer file NAME without -f or -u
# (parsed as the installer's own getopts "bifhkp:smutc" does), "update" when it has -f or -u,
# and "unknown" when it cannot be read exactly: no such file or argument, an argument holding
# a line end, an option the installer does not know.
installer_run() {
    if [ ! -f "$1" ] || [ ! -r "$1" ]; then
        echo unknown
        return
    fi
    _args=$(tr -cd '\000' <"$1" | wc -c | tr -d ' ')
    _lines=$(tr '\000' '\n' <"$1" | wc -l | tr -d ' ')
    if [ "$_args" -eq 0 ] || [ "$_args" != "$_lines" ]; then
        echo unknown
        return
    fi
    tr '\000' '\n' <"$1" | ORGCONDA_INSTALLER_FILE=$2 awk '
        BEGIN { me = ENVIRON["ORGCONDA_INSTALLER_FILE"]; state = 0; bad = 0; force = 0; want = 0 }
        state == 0 {
            n = split($0, part, "/")
            if (n > 0 && part[n] == me) state = 1
            next
        }
        state == 1 && want { want = 0; next }
        state == 1 {
            if ($0 == "--" || $0 !~ /^-./) { state = 2; next }
            for (i = 2; i <= length($0); i++) {
                c = substr($0, i, 1)
                if (c == "p") { if (i == length($0)) want = 1; break }
                if (c == "f" || c == "u") force = 1
                else if (index("bihkmstc", c) == 0) bad = 1
            }
        }
        END {
            if (state == 0 || bad || want) print "unknown"
            else if (force) print "update"
            else print "fresh"
        }'
}

# Succeeds when PREFIX is provably this attempt's and holds nothing but what it unpacked
# (read in constructor 3.16.3's header.sh):
#  - a .sh installer stops when PREFIX exists unless it was given -f or -u, then creates it:
#    run without both (its command line, the parent of this hook), PREFIX is this run's;
#  - postconda.tar.bz2 is in PREFIX only from unpacking until the end of an install;
#  - nothing is linked yet: conda-meta holds no package record (*.json).
prefix_is_this_attempts() {
    if [ "${INSTALLER_TYPE:-}" != SH ] || [ -z "${INSTALLER_PATH:-}" ]; then
        return 1
    fi
    if [ ! -d "$PREFIX" ] || [ ! -f "$PREFIX/postconda.tar.bz2" ]; then
        return 1
    fi
    if [ "$(cd "$PREFIX" && pwd -P)" = / ]; then
        return 1
    fi
    for _record in "$PREFIX"/conda-meta/*.json; do
        if [ -e "$_record" ]; then
            return 1
        fi
    done
    [ "$(installer_run "/proc/$PPID/cmdline" "$(basename "$INSTALLER_PATH")")" = fresh ]
}

# After a refusal: leave nothing that stops the next attempt, or say how to retry.
after_refusal() {
    if prefix_is_this_attempts; then
        if rm -rf "$PREFIX" 2>/dev/null && [ ! -e "$PREFIX" ]; then
            note "removed $PREFIX, which this install created and had only unpacked its packages into; fix the problem above and run the same command again"
        else
            note "could not remove $PREFIX, which this install created and had only unpacked its packages into: remove it (rm -rf '$PREFIX'), fix the problem above and run the same command again"
        fi
        return
    fi
    if [ "${INSTALLER_TYPE:-}" != SH ]; then
        return
    fi
    if [ "$(installer_run "/proc/$PPID/cmdline" "$(basename "${INSTALLER_PATH:-installer.sh}")")" = update ]; then
        # header.sh has unpacked its payload over the installation, an empty conda-meta/history
        # included (checked with constructor 3.16.3); a completed install writes it again.
        note "no package was installed, but the installer has already emptied $PREFIX/conda-meta/history while unpacking: fix the problem above and run the same command again, which writes it again"
        return
    fi
    note "no package was installed. If $PREFIX did not exist before, it now holds only what this installer unpacked, and a new attempt stops with \"File or directory already exists\": remove it (rm -rf '$PREFIX') before running the installer again, or add -u to the installer's options to reuse it"
}

if ! check_inputs; then
    after_refusal
    exit 1
fi
if [ -n "${ORGCONDA_MACHINE_TOKEN+set}" ]; then
    MACHINE_NOTE="supplied by ORGCONDA_MACHINE_TOKEN"
else
    MACHINE_NOTE="kept or generated by post_install"
fi
CA_NOTE="no bundled CA certificate"
if [ -n "$CA_FILE" ]; then
    CA_NOTE="CA certificate $CA_FILE (post_install checks the file)"
fi
say "inputs OK: scope $SCOPE, tokens go to $TOKEN_DIR, machine token $MACHINE_NOTE, $CA_NOTE"
