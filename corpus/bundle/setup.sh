#!/bin/sh
# Prepares what the bundle tests and benchmark need, idempotently (run as root on Debian 12):
#   target/bundle-venv   a venv with numpy, pillow, lxml and cryptography from PyPI, and
#                        shenzi_scripts (corpus/bundle/scripts: plain, console and GUI scripts)
#   target/bundle-tools  a separate venv with pyinstaller (benchmark peer only)
# and the Debian packages used by the tests (gcc for the ctypes test library, util-linux for
# unshare, time for peak RSS, zstd to check archives, bc for the benchmark).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
py=${SHENZI_PYTHON:-python3}

need=""
for p in gcc:gcc unshare:util-linux /usr/bin/time:time zstd:zstd bc:bc; do
    cmd=${p%%:*}; pkg=${p#*:}
    command -v "$cmd" >/dev/null 2>&1 || need="$need $pkg"
done
if [ -n "$need" ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need
fi

venv="$root/target/bundle-venv"
if ! "$venv/bin/python" -c 'import numpy, PIL, lxml, cryptography' 2>/dev/null; then
    "$py" -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check --only-binary=:all: \
        numpy pillow lxml cryptography
fi
# A distribution with a plain script, a console script and a GUI script (built here).
if ! "$venv/bin/python" -c 'import shenzi_scripts' 2>/dev/null; then
    wheels="$root/target/corpus-wheels"
    mkdir -p "$wheels"
    whl=$("$venv/bin/python" "$root/corpus/bundle/scripts/make_wheel.py" "$wheels")
    "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-index "$whl"
fi

tools="$root/target/bundle-tools"
if ! "$tools/bin/pyinstaller" --version >/dev/null 2>&1; then
    "$py" -m venv "$tools"
    "$tools/bin/python" -m pip install -q --disable-pip-version-check pyinstaller
fi
echo "bundle setup: $venv, $tools ready"
