#!/bin/sh
# Builds the Mach-O test inputs with LLVM 19 on Linux (no Apple SDK): a stub libSystem provides
# the few symbols the programs import. Output: target/corpus-macho/ (or $1).
#
#   arm64-*.dylib / arm64-main     macOS 11 target: dyld info opcodes (rebase/bind/lazy/weak)
#   arm64cf-*                      macOS 12 target with -fixup_chains: chained fixups
#   x86_64-*                       x86_64, dyld info opcodes, ad-hoc linker signature
#   universal-*                    llvm-lipo of the arm64 and x86_64 builds
#   *-roomy.dylib                  -headerpad 0x1000: edits always fit
#   *-libcxx*.dylib                C++: personality/LSDA unwind entries, static initialisers
#   arm64-libfoo-unsigned.dylib    no code signature (shenzi must add one)
#   *-obj.o                        object files (MH_OBJECT): relocations, data in code, linker
#                                  optimisation hints (arm64); universal-obj.o holds both
#   large-arm64.dylib              only with LARGE=1: a >= 100 MiB dylib for the benchmark
#                                  (incompressible data and 262144 rebased pointers)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$root/target/corpus-macho}
src=$here/src
mkdir -p "$out"
cd "$out"
CC=${CC:-clang-19}
CXX=${CXX:-clang++-19}
LIPO=${LIPO:-llvm-lipo-19}

build() { # tag target extra-ldflags
    tag=$1 t=$2; shift 2
    mkdir -p "sdk-$tag"
    $CC -target "$t" -fuse-ld=lld -shared -nostdlib -o "sdk-$tag/libSystem.B.dylib" \
        "$src/libsystem_stub.c" -Wl,-install_name,/usr/lib/libSystem.B.dylib "$@"
    $CC -target "$t" -fuse-ld=lld -shared -nostdlib -L"sdk-$tag" -lSystem.B -O1 \
        -o "$tag-libfoo.dylib" "$src/foo.c" -Wl,-install_name,@rpath/libfoo.dylib \
        -Wl,-rpath,@loader_path/../lib "$@"
    $CC -target "$t" -fuse-ld=lld -shared -nostdlib -L"sdk-$tag" -lSystem.B -O1 \
        -o "$tag-libbar-roomy.dylib" "$src/foo.c" -Wl,-install_name,/opt/lib/libbar.dylib \
        -Wl,-headerpad,0x1000 "$@"
    $CC -target "$t" -fuse-ld=lld -nostdlib -L"sdk-$tag" -lSystem.B -O1 \
        -o "$tag-main" "$src/main.c" "$tag-libfoo.dylib" -Wl,-rpath,@executable_path/../lib \
        -Wl,-weak_library,"sdk-$tag/libSystem.B.dylib" "$@" 2>/dev/null ||
    $CC -target "$t" -fuse-ld=lld -nostdlib -L"sdk-$tag" -lSystem.B -O1 \
        -o "$tag-main" "$src/main.c" "$tag-libfoo.dylib" -Wl,-rpath,@executable_path/../lib "$@"
    # C++ (exceptions, RTTI, static init) without a C++ runtime: link what resolves, leave the
    # rest to dyld via -undefined dynamic_lookup.
    if $CXX -target "$t" -fuse-ld=lld -shared -nostdlib -L"sdk-$tag" -lSystem.B -O1 \
        -o "$tag-libcxx.dylib" "$src/cxx.cpp" -Wl,-install_name,@rpath/libcxx.dylib \
        -Wl,-undefined,dynamic_lookup "$@" 2>/dev/null; then :; else rm -f "$tag-libcxx.dylib"; fi
}

build arm64 arm64-apple-macos11
$CC -target arm64-apple-macos11 -fuse-ld=lld -shared -nostdlib -L"sdk-arm64" -lSystem.B -O1 \
    -o arm64-libfoo-unsigned.dylib "$src/foo.c" -Wl,-install_name,@rpath/libfoo.dylib \
    -Wl,-no_adhoc_codesign
build arm64cf arm64-apple-macos12 -Wl,-fixup_chains
# Static initialisers as image offsets in __TEXT,__init_offsets.
$CXX -target arm64-apple-macos12 -fuse-ld=lld -shared -nostdlib -L"sdk-arm64cf" -lSystem.B -O1 \
    -o arm64cf-libcxx-initoffsets.dylib "$src/cxx.cpp" -Wl,-install_name,@rpath/libcxx.dylib \
    -Wl,-fixup_chains -Wl,-init_offsets -Wl,-undefined,dynamic_lookup
build x86_64 x86_64-apple-macos10.15 -Wl,-adhoc_codesign

for f in libfoo.dylib libbar-roomy.dylib main; do
    $LIPO -create "arm64-$f" "x86_64-$f" -output "universal-$f"
done
# A 64-bit fat header (llvm-lipo writes one when asked to).
$LIPO -create "arm64cf-libfoo.dylib" "x86_64-libfoo.dylib" -fat64 -output "universal64-libfoo.dylib" 2>/dev/null ||
    rm -f "universal64-libfoo.dylib"

# Object files: growing them moves file offsets only (see macho/src/grow_object.rs).
$CC -target arm64-apple-macos11 -O2 -c -o arm64-obj.o "$src/obj.c"
$CC -target x86_64-apple-macos10.15 -O2 -c -o x86_64-obj.o "$src/obj.c"
$LIPO -create arm64-obj.o x86_64-obj.o -output universal-obj.o

if [ "${LARGE:-0}" = 1 ] && [ ! -f large-arm64.dylib ]; then
    # 128 MiB of constant data that does not compress (seeded pseudo-random bytes, included by
    # the assembler), a 2 MiB table of 262144 rebased pointers, and the usual code.
    python3 - "$(pwd)" <<'PY'
import random, sys
out = sys.argv[1]
with open(out + "/large.bin", "wb") as f:
    f.write(random.Random(20261201).randbytes(128 << 20))
with open(out + "/large.c", "w") as f:
    f.write('#include "foo.c"\n')
    f.write('__asm__(".section __TEXT,__const\\n.globl _big_blob\\n.p2align 4\\n_big_blob:\\n'
            '.incbin \\"%s/large.bin\\"\\n");\n' % out)
    f.write("int anchors[64];\n")
    f.write("int *const pointer_table[262144] = {\n")
    f.write(",\n".join("anchors + %d" % (i % 64) for i in range(262144)))
    f.write("\n};\n")
PY
    $CC -target arm64-apple-macos11 -fuse-ld=lld -shared -nostdlib -L"sdk-arm64" -lSystem.B \
        -I"$src" -o large-arm64.dylib large.c -Wl,-install_name,@rpath/liblarge.dylib
    rm -f large.bin large.c
fi
ls -1 "$out"/*.dylib "$out"/*-main "$out"/*.o
