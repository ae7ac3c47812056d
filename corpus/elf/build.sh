#!/usr/bin/env bash
# Builds the ELF test corpus into OUT (default: target/corpus/elf).
#
# Every variant is a folder holding `prog` (an executable that needs lib/libdemo.so and libm, with
# an rpath of "$ORIGIN/lib" plus a long placeholder entry, so short edits fit in place) and
# lib/{libdemo,libalt,libextra}.so. OUT/manifest.tsv lists the variants that were built:
#   name  arch  runner-prefix  expected-output
# A cross toolchain that is missing is skipped (and absent from the manifest).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../../target/corpus/elf}
mkdir -p "$out"
out=$(cd "$out" && pwd)
src=$here/src
manifest=$out/manifest.tsv
: > "$manifest.tmp"
placeholder=/nonexistent/placeholder/directory/that/makes/room/for/in/place/edits

# variant NAME ARCH CC CXX RUNNER CFLAGS LDFLAGS EXE-ONLY-FLAGS [LANG]
variant() {
    local name=$1 arch=$2 cc=$3 cxx=$4 runner=$5 cflags=$6 ldflags=$7 exeflags=$8 lang=${9:-c}
    local d=$out/$name
    rm -rf "$d"; mkdir -p "$d/lib"
    # shellcheck disable=SC2086
    {
        $cc $cflags -fPIC -shared -o "$d/lib/libdemo.so" "$src/demo.c" -Wl,-soname,libdemo.so -lm $ldflags -Wl,-rpath,'$ORIGIN'
        $cc $cflags -fPIC -shared -o "$d/lib/libalt.so" "$src/alt.c" -Wl,-soname,libalt.so $ldflags
        $cc $cflags -fPIC -shared -o "$d/lib/libextra.so" "$src/extra.c" -Wl,-soname,libextra.so $ldflags
        if [ "$lang" = c++ ]; then
            $cxx $cflags $exeflags -o "$d/prog" "$src/prog.cc" -L"$d/lib" -ldemo -lm $ldflags -Wl,-rpath,"\$ORIGIN/lib:$placeholder"
        else
            $cc $cflags $exeflags -o "$d/prog" "$src/prog.c" -L"$d/lib" -ldemo -lm $ldflags -Wl,-rpath,"\$ORIGIN/lib:$placeholder"
        fi
    } 2> "$d/build.log" || { echo "corpus: $name failed to build:" >&2; cat "$d/build.log" >&2; rm -rf "$d"; return 0; }
    printf '%s\t%s\t%s\t%s\n' "$name" "$arch" "$runner" "demo:42 sqrt:4" >> "$manifest.tmp"
}

have() { command -v "$1" > /dev/null 2>&1; }

if have gcc; then
    variant pie x86_64 gcc g++ "" "-O1" "-Wl,--enable-new-dtags" "-pie"
    variant nopie x86_64 gcc g++ "" "-O1" "-Wl,--enable-new-dtags" "-fno-pie -no-pie"
    variant rpath x86_64 gcc g++ "" "-O1" "-Wl,--disable-new-dtags" ""
    variant nopie-rpath x86_64 gcc g++ "" "-O1" "-Wl,--disable-new-dtags" "-fno-pie -no-pie"
    variant sepcode x86_64 gcc g++ "" "-O1" "-Wl,-z,separate-code" ""
    variant noseparate x86_64 gcc g++ "" "-O1" "-Wl,-z,noseparate-code" ""
    variant sysv x86_64 gcc g++ "" "-O1" "-Wl,--hash-style=sysv" ""
    variant gnuhash x86_64 gcc g++ "" "-O1" "-Wl,--hash-style=gnu" ""
    variant bothhash x86_64 gcc g++ "" "-O1" "-Wl,--hash-style=both" ""
    variant norelro x86_64 gcc g++ "" "-O1" "-Wl,-z,norelro" ""
    variant relro-now x86_64 gcc g++ "" "-O1" "-Wl,-z,relro,-z,now" ""
    variant packrel x86_64 gcc g++ "" "-O1" "-Wl,-z,pack-relative-relocs" ""
    variant page64k x86_64 gcc g++ "" "-O1" "-Wl,-z,max-page-size=0x10000" ""
    variant cxx x86_64 gcc g++ "" "-O1" "" "" c++
    variant nopie-cxx x86_64 gcc g++ "" "-O1" "" "-fno-pie -no-pie" c++
    # With debug information (what `--strip-debug` removes).
    variant debug x86_64 gcc g++ "" "-O1 -g" "" ""
    variant debug-cxx x86_64 gcc g++ "" "-O1 -g" "" "" c++
    if have ld.lld; then
        variant lld x86_64 gcc g++ "" "-O1" "-fuse-ld=lld" ""
        variant lld-nopie x86_64 gcc g++ "" "-O1" "-fuse-ld=lld" "-fno-pie -no-pie"
        variant lld-cxx x86_64 gcc g++ "" "-O1" "-fuse-ld=lld" "" c++
        variant debug-lld-gz x86_64 gcc g++ "" "-O1 -g -gz" "-fuse-ld=lld" ""
    fi
    # A static PIE for the refusal test (not in the manifest: it has no libraries).
    gcc -O1 -static-pie -o "$out/static-pie" "$src/static.c" 2> /dev/null || true
fi
if have aarch64-linux-gnu-gcc && have qemu-aarch64-static; then
    variant aarch64 aarch64 aarch64-linux-gnu-gcc aarch64-linux-gnu-g++ "qemu-aarch64-static -L /usr/aarch64-linux-gnu" "-O1" "" ""
    variant aarch64-debug aarch64 aarch64-linux-gnu-gcc aarch64-linux-gnu-g++ "qemu-aarch64-static -L /usr/aarch64-linux-gnu" "-O1 -g" "" ""
    variant aarch64-cxx aarch64 aarch64-linux-gnu-gcc aarch64-linux-gnu-g++ "qemu-aarch64-static -L /usr/aarch64-linux-gnu" "-O1" "" "" c++
fi
if have i686-linux-gnu-gcc && have qemu-i386-static; then
    variant i686 i686 i686-linux-gnu-gcc i686-linux-gnu-g++ "qemu-i386-static -L /usr/i686-linux-gnu" "-O1" "" ""
    variant i686-debug i686 i686-linux-gnu-gcc i686-linux-gnu-g++ "qemu-i386-static -L /usr/i686-linux-gnu" "-O1 -g" "" ""
    variant i686-nopie i686 i686-linux-gnu-gcc i686-linux-gnu-g++ "qemu-i386-static -L /usr/i686-linux-gnu" "-O1" "" "-fno-pie -no-pie"
fi
if have powerpc64-linux-gnu-gcc && have qemu-ppc64-static; then
    variant ppc64 ppc64 powerpc64-linux-gnu-gcc powerpc64-linux-gnu-g++ "qemu-ppc64-static -L /usr/powerpc64-linux-gnu" "-O1" "" ""
    variant ppc64-debug ppc64 powerpc64-linux-gnu-gcc powerpc64-linux-gnu-g++ "qemu-ppc64-static -L /usr/powerpc64-linux-gnu" "-O1 -g" "" ""
fi
if have powerpc-linux-gnu-gcc && have qemu-ppc-static; then
    variant ppc ppc powerpc-linux-gnu-gcc powerpc-linux-gnu-g++ "qemu-ppc-static -L /usr/powerpc-linux-gnu" "-O1" "" ""
fi
if have mips-linux-gnu-gcc && have qemu-mips-static; then
    variant mips mips mips-linux-gnu-gcc mips-linux-gnu-g++ "qemu-mips-static -L /usr/mips-linux-gnu" "-O1" "" ""
    variant mips-debug mips mips-linux-gnu-gcc mips-linux-gnu-g++ "qemu-mips-static -L /usr/mips-linux-gnu" "-O1 -g" "" ""
fi
if have arm-linux-gnueabihf-gcc && have qemu-arm-static; then
    variant armhf armhf arm-linux-gnueabihf-gcc arm-linux-gnueabihf-g++ "qemu-arm-static -L /usr/arm-linux-gnueabihf" "-O1" "" ""
    variant armhf-debug armhf arm-linux-gnueabihf-gcc arm-linux-gnueabihf-g++ "qemu-arm-static -L /usr/arm-linux-gnueabihf" "-O1 -g" "" ""
fi
if have riscv64-linux-gnu-gcc && have qemu-riscv64-static; then
    variant riscv64 riscv64 riscv64-linux-gnu-gcc riscv64-linux-gnu-g++ "qemu-riscv64-static -L /usr/riscv64-linux-gnu" "-O1" "" ""
    variant riscv64-debug riscv64 riscv64-linux-gnu-gcc riscv64-linux-gnu-g++ "qemu-riscv64-static -L /usr/riscv64-linux-gnu" "-O1 -g" "" ""
fi
mv "$manifest.tmp" "$manifest"
echo "corpus: $(wc -l < "$manifest") variants in $out"
