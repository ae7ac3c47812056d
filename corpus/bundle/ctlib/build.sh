#!/bin/sh
# Builds the ctypes test libraries into DIR: libshenzidep.so and libshenzitest.so (which needs it).
set -eu
src=$(cd "$(dirname "$0")" && pwd)
out=$1
mkdir -p "$out"
gcc -shared -fPIC -O1 -o "$out/libshenzidep.so" "$src/shenzidep.c"
gcc -shared -fPIC -O1 -o "$out/libshenzitest.so" "$src/shenzitest.c" -L"$out" -lshenzidep
