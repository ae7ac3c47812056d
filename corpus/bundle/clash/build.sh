#!/bin/sh
# Builds OUT/one/{libclash.so,liba.so} and OUT/two/{libclash.so,libb.so}: same-named libclash.so
# with different content, each user linked to its own through an absolute DT_RPATH (searched before LD_LIBRARY_PATH).
set -eu
src=$(cd "$(dirname "$0")" && pwd)
out=$1
mkdir -p "$out/one" "$out/two"
gcc -shared -fPIC -DCLASH_VALUE=1 -o "$out/one/libclash.so" "$src/clash.c"
gcc -shared -fPIC -DCLASH_VALUE=2 -o "$out/two/libclash.so" "$src/clash.c"
gcc -shared -fPIC -DUSER_FN=a_value -o "$out/one/liba.so" "$src/user.c" -L"$out/one" -lclash -Wl,--disable-new-dtags,-rpath,"$out/one"
gcc -shared -fPIC -DUSER_FN=b_value -o "$out/two/libb.so" "$src/user.c" -L"$out/two" -lclash -Wl,--disable-new-dtags,-rpath,"$out/two"
