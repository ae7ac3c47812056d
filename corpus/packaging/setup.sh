#!/bin/sh
# Prepares what tests/packaging.rs and tests/cli_docs.rs need besides the wheels of
# corpus/selfhost/setup.sh, idempotently (run as root on Debian 12):
#   Debian: python3-dev and python3-venv (the demo extension module, fresh venvs), gcc,
#           binutils (readelf, objdump), groff-base and man-db (rendering the manual pages),
#           zsh and fish (parsing their completion scripts)
#   target/auditwheel-venv   auditwheel from PyPI
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)

need=""
for p in /usr/include/python3*/Python.h:python3-dev gcc:gcc readelf:binutils groff:groff-base \
    man:man-db zsh:zsh fish:fish; do
    cmd=${p%%:*}; pkg=${p#*:}
    case $cmd in
        /*) ls $cmd > /dev/null 2>&1 || need="$need $pkg" ;;
        *) command -v "$cmd" > /dev/null 2>&1 || need="$need $pkg" ;;
    esac
done
/usr/bin/python3 -m venv --help > /dev/null 2>&1 || need="$need python3-venv"
if [ -n "$need" ]; then
    apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need > /dev/null
fi

venv=$root/target/auditwheel-venv
if ! "$venv/bin/auditwheel" --version > /dev/null 2>&1; then
    /usr/bin/python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check auditwheel
fi
echo "packaging setup: $("$venv/bin/auditwheel" --version | head -1)"
