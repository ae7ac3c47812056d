#!/bin/bash
# Shows that the oracle can fail and can pass (run by setup.sh after build.sh):
#   1. test_oracle.py, its unit tests on hand-made Mach-O files;
#   2. each layout's unpatched tree arranged as a bundle: the oracle must fail and name the
#      absolute references that leave the tree (its reports: target/corpus-macos/check/*.txt);
#   3. the errors/ trees: the oracle must see each defect;
#   4. fixed_control.py's hand-fixed bundle: the oracle must find nothing.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$root/target/corpus-macos}
py=${PYTHON:-$root/target/macos-venv/bin/python}
mkdir -p "$out/check"
fw=Library/Frameworks/Python.framework/Versions/3.11
app=Resources/Python.app/Contents/MacOS/Python

"$py" "$here/test_oracle.py" 2>"$out/check/test_oracle.txt" || { cat "$out/check/test_oracle.txt"; exit 1; }

must_fail() { # name bundle exe [--expect file] -- needle...
    name=$1 bundle=$2 exe=$3; shift 3
    extra=()
    while [ "$1" != -- ]; do extra+=("$1"); shift; done
    shift
    report=$out/check/$name.txt
    if "$py" "$here/oracle.py" "$bundle" --exe "$exe" "${extra[@]}" >"$report" 2>&1; then
        echo "check: the oracle passed $name, which is broken" >&2; exit 1
    fi
    for needle in "$@"; do
        grep -qF -- "$needle" "$report" || { echo "check: $name: no line with: $needle" >&2; exit 1; }
    done
}

F=/Library/Frameworks/Python.framework/Versions/3.11
must_fail pyorg "$out/pyorg/root/$fw" "$app" -- \
    "$app: [arm64] LC_LOAD_DYLIB $F/Python does not resolve: absolute path outside the bundle" \
    "bin/python3.11: [arm64] LC_LOAD_DYLIB $F/Python does not resolve" \
    "lib/python3.11/lib-dynload/_ssl.cpython-311-darwin.so: [arm64] LC_LOAD_DYLIB $F/lib/libssl.3.dylib does not resolve" \
    "lib/libssl.3.dylib: [arm64] LC_LOAD_DYLIB $F/lib/libcrypto.3.dylib does not resolve" \
    "Python: [arm64] LC_ID_DYLIB $F/Python points outside the bundle" \
    "numpy/.dylibs/libopenblas64_.0.dylib: [arm64] LC_ID_DYLIB /DLC/numpy/.dylibs/libopenblas64_.0.dylib points outside" \
    "numpy/.dylibs/libopenblas64_.0.dylib: [arm64] LC_RPATH /opt/gfortran-darwin-arm64-cross/lib/gcc/arm64-apple-darwin20.0.0/11.3.0 appears twice"
H=/opt/homebrew/opt
must_fail homebrew "$out/homebrew/root/opt/homebrew/Cellar/python@3.11/3.11.9/Frameworks/Python.framework/Versions/3.11" "$app" -- \
    "$app: [arm64] LC_LOAD_DYLIB $H/python@3.11/Frameworks/Python.framework/Versions/3.11/Python does not resolve: absolute path outside the bundle" \
    "lib/python3.11/lib-dynload/_ssl.cpython-311-darwin.so: [arm64] LC_LOAD_DYLIB $H/openssl@3/lib/libssl.3.dylib does not resolve" \
    "lib/python3.11/site-packages: symbolic link to ../../../../../../../../../lib/python3.11/site-packages leaves the bundle"
must_fail homebrew-openssl "$out/homebrew/root/opt/homebrew/Cellar/openssl@3/3.3.1" lib/libssl.3.dylib -- \
    "lib/libssl.3.dylib: [arm64] LC_LOAD_DYLIB $H/openssl@3/lib/libcrypto.3.dylib does not resolve"
P=/Users/dev/.pyenv/versions/3.11.7
must_fail pyenv "$out/pyenv/root$P" bin/python3.11 -- \
    "bin/python3.11: [x86_64] LC_LOAD_DYLIB $P/lib/libpython3.11.dylib does not resolve: absolute path outside the bundle" \
    "lib/python3.11/lib-dynload/_ssl.cpython-311-darwin.so: [x86_64] LC_LOAD_DYLIB /usr/local/opt/openssl@3/lib/libssl.3.dylib does not resolve" \
    "lib/libpython3.11.dylib: [x86_64] LC_ID_DYLIB $P/lib/libpython3.11.dylib points outside the bundle"
S=lib/python3.11/site-packages/shenzifix
must_fail venv "$out/venv/root/Users/dev/proj/.venv" bin/python -- \
    "bin/python: symbolic link to $F/bin/python3.11 leads nowhere" \
    "$S/.dylibs/libshenzi_core.dylib: [arm64,x86_64] LC_RPATH @loader_path/ appears twice" \
    "$S/.dylibs/libshenzi_util.dylib: [arm64,x86_64] LC_ID_DYLIB /Users/runner/work/build/lib/libshenzi_util.dylib points outside the bundle" \
    "$S/_fix.cpython-311-darwin.so: [arm64,x86_64] LC_RPATH /Users/runner/work/build/lib is an absolute path outside the bundle"
must_fail venv-framework "$out/venv/root/$fw" "$app" -- \
    "$app: [arm64] LC_LOAD_DYLIB $F/Python does not resolve"

echo '{"archs": ["arm64"]}' >"$out/check/arm64.json"
E=$out/errors
must_fail arch-mismatch "$E/arch-mismatch/root/$fw" "$app" --expect "$out/check/arm64.json" -- \
    "$app: has archs ['x86_64'], expected ['arm64']"
must_fail missing-dependency "$E/missing-dependency/root/$fw" "$app" -- \
    "lib/python3.11/site-packages/brokenpkg/_broken.cpython-311-darwin.so: [arm64] LC_LOAD_DYLIB @rpath/libnowhere.1.dylib does not resolve"
must_fail hostile-macho "$E/hostile-macho/root/$fw" "$app" -- \
    "lib/python3.11/site-packages/hostile/.dylibs/libhostile.dylib: not a valid Mach-O" \
    "hostile/_hostile.cpython-311-darwin.so: [arm64] LC_LOAD_DYLIB @rpath/libhostile.dylib is not a valid Mach-O"

"$py" "$here/fixed_control.py" "$out"
if ! "$py" "$here/oracle.py" "$out/check/fixed" --expect "$out/check/fixed.expect.json" \
        >"$out/check/fixed.txt" 2>&1; then
    cat "$out/check/fixed.txt" >&2
    echo "check: the oracle rejects the hand-fixed bundle" >&2; exit 1
fi
echo "check: oracle ok (fails on the unpatched trees and errors/, passes the fixed bundle)"
