#!/bin/sh
# Builds OUT/a/librpa.so (DT_RPATH OUT/c) -> OUT/a/librpb.so -> OUT/c/librpc.so (see chain.c).
set -eu
src=$(cd "$(dirname "$0")" && pwd)
out=$1
mkdir -p "$out/a" "$out/c"
gcc -shared -fPIC -DCHAIN_C -o "$out/c/librpc.so" "$src/chain.c"
gcc -shared -fPIC -DCHAIN_B -o "$out/a/librpb.so" "$src/chain.c" -L"$out/c" -lrpc
gcc -shared -fPIC -o "$out/a/librpa.so" "$src/chain.c" -L"$out/a" -lrpb \
    -Wl,--disable-new-dtags,-rpath,"$out/c"
