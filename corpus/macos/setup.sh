#!/bin/sh
# Prepares the macOS bundle corpus on a fresh Debian 12 machine (run as root; idempotent):
#   apt (only if missing): clang-19, lld-19 (ld64.lld), llvm-19 (objdump/otool/lipo/
#                          install-name-tool), python3-venv
#   target/macos-venv      a venv with macholib from PyPI (the oracle's Mach-O parser)
# then builds target/corpus-macos/ (build.sh: the four layouts and errors/, wheels downloaded
# once into target/wheels-macos/) and proves the oracle both ways (check.sh; CHECK=0 skips).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

need=""
for p in clang-19:clang-19 ld64.lld-19:lld-19 llvm-objdump-19:llvm-19 llvm-otool-19:llvm-19 \
         llvm-lipo-19:llvm-19 llvm-install-name-tool-19:llvm-19; do
    command -v "${p%%:*}" >/dev/null 2>&1 || need="$need ${p#*:}"
done
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need="$need python3-venv"
if [ -n "$need" ]; then
    apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need
fi

venv=$root/target/macos-venv
if ! "$venv/bin/python" -c 'import macholib' >/dev/null 2>&1; then
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check macholib
fi

PYTHON=$venv/bin/python "$here/build.sh"
if [ "${CHECK:-1}" = 1 ]; then
    PYTHON=$venv/bin/python "$here/check.sh"
fi
echo "macos corpus setup: ok ($root/target/corpus-macos)"
