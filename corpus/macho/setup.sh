#!/bin/sh
# Installs what the Mach-O tests need on a fresh Debian 12 machine (run as root; idempotent):
# LLVM 19 (clang, lld with ld64.lld, llvm-objdump/otool/lipo/install-name-tool) from apt, and
# a Python venv at target/macho-venv with macholib (the independent parser the tests use).
# Then builds the corpus and fetches the macOS wheels (FETCH_WHEELS=0 skips that).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

need_apt=""
for tool in clang-19 ld64.lld-19 llvm-objdump-19 llvm-otool-19 llvm-lipo-19 llvm-install-name-tool-19; do
    command -v "$tool" >/dev/null 2>&1 || need_apt=1
done
python3 -m venv --help >/dev/null 2>&1 || need_apt=1
if [ -n "$need_apt" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y llvm-19 lld-19 clang-19 python3-venv python3-pip
fi

venv=$root/target/macho-venv
if ! "$venv/bin/python" -c "import macholib" >/dev/null 2>&1; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet macholib
fi

"$here/build.sh" >/dev/null
if [ "${FETCH_WHEELS:-1}" = 1 ]; then
    "$here/fetch_wheels.sh" >/dev/null
fi
echo "macho test setup: ok"
