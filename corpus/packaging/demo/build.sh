#!/bin/sh
# Builds, under OUT (default: a new temporary directory; its path is printed last):
#   OUT/lib/libshenzidemo.so.1             the outside library (soname libshenzidemo.so.1)
#   OUT/wheel/shenzidemo-1.0-cpXY-cpXY-linux_x86_64.whl
#                                          one extension module linking it, with a RUNPATH to
#                                          OUT/lib, as a build tree leaves it
# for the interpreter PY (default /usr/bin/python3; its headers come from Debian's python3-dev).
# Usage: build.sh [OUT] [PY]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$(mktemp -d)}
py=${2:-/usr/bin/python3}
mkdir -p "$out/lib" "$out/ext" "$out/wheel"
out=$(cd "$out" && pwd)
cc=${CC:-gcc}

"$cc" -shared -fPIC -O2 -Wl,-soname,libshenzidemo.so.1 -o "$out/lib/libshenzidemo.so.1" \
    "$here/libshenzidemo.c"
ln -sf libshenzidemo.so.1 "$out/lib/libshenzidemo.so"

include=$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
suffix=$("$py" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
"$cc" -shared -fPIC -O2 -I"$include" -o "$out/ext/shenzidemo$suffix" "$here/shenzidemo.c" \
    -L"$out/lib" -lshenzidemo -Wl,--enable-new-dtags,-rpath,"$out/lib"

"$py" "$here/make_wheel.py" "$out/ext/shenzidemo$suffix" "$out/wheel" > /dev/null
echo "$out"
