#!/usr/bin/env bash
# Builds equivalents of the cases patchelf's own test suite uses (tests/*.sh of NixOS/patchelf)
# into OUT (default: target/corpus/elf-upstream), one folder per architecture:
#   libshared-rpath.so   its rpath string is also a symbol name (one string in .dynstr)
#   phdr-noload.so       no PT_DYNAMIC: .dynamic is known only from its section header
#   pht-collision.so     the program header table moved to end where .adjacent_data starts
#   pht-collision-exe    the same in a program (prints "adjacent:zzzzzzzzzzzzzzzz")
#   main libfoo.so libbar.so    main needs libfoo needs libbar; exits 46 (resolution cache)
#   libmany-syms.so many-syms-main   300 functions and data words (symbol renames)
#   libversioned.so use-versioned    versioned symbols (clearing a symbol version)
#   librpath.so          DT_RPATH pointing into a build tree (rpath tag conversion)
# OUT/manifest.tsv lists the folders: name, arch, runner prefix. Missing cross toolchains are
# skipped.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$here/upstream
out=${1:-$here/../../target/corpus/elf-upstream}
mkdir -p "$out"
out=$(cd "$out" && pwd)
: > "$out/manifest.tsv.tmp"
have() { command -v "$1" > /dev/null 2>&1; }

# arch NAME CC RUNNER
arch() {
    local name=$1 cc=$2 runner=$3 d=$out/$1
    rm -rf "$d"; mkdir -p "$d"
    {
        cd "$d"
        python3 "$src/gen-many-syms.py" "$d" 300
        $cc -O1 -fPIC -shared -o libmany-syms.so many-syms.c -Wl,-soname,libmany-syms.so
        $cc -O1 -o many-syms-main many-syms-main.c -L. -lmany-syms
        $cc -O1 -fPIC -shared -o libversioned.so "$src/versioned.c" \
            -Wl,-soname,libversioned.so -Wl,--version-script="$src/versioned.map"
        $cc -O1 -o use-versioned "$src/use-versioned.c" -L. -lversioned
        $cc -O1 -fPIC -shared -o libbar.so "$src/bar.c" -Wl,-soname,libbar.so
        $cc -O1 -fPIC -shared -o libfoo.so "$src/foo.c" -Wl,-soname,libfoo.so -L. -lbar
        $cc -O1 -o main "$src/main.c" -L. -lfoo -Wl,-rpath-link,.
        $cc -O1 -fPIC -shared -o librpath.so "$src/bar.c" -Wl,--disable-new-dtags \
            -Wl,-rpath,/build/tree/of/somebody/else/lib
        $cc -O1 -fPIC -shared -o libshared-rpath.so "$src/shared-rpath.c" -Wl,-rpath,a_symbol_name
        $cc -fPIC -nostdlib -shared -o phdr-noload.so "$src/void.c" -Wl,-T"$src/phdr-noload.ld"
        $cc -fPIC -nostdlib -shared -o pht-collision.so "$src/pht-collision.c" \
            -Wl,-T"$src/pht-collision.ld"
        python3 "$src/move-pht.py" pht-collision.so
        $cc -O1 -o pht-collision-exe "$src/pht-collision-exe.c" -Wl,-T"$src/pht-collision.ld"
        python3 "$src/move-pht.py" pht-collision-exe
    } > "$d.log" 2>&1 || { echo "upstream corpus: $name failed:" >&2; cat "$d.log" >&2; rm -rf "$d"; return 0; }
    printf '%s\t%s\t%s\n' "$name" "$name" "$runner" >> "$out/manifest.tsv.tmp"
}

have gcc && arch x86_64 gcc ""
have aarch64-linux-gnu-gcc && have qemu-aarch64-static &&
    arch aarch64 aarch64-linux-gnu-gcc "qemu-aarch64-static -L /usr/aarch64-linux-gnu"
have i686-linux-gnu-gcc && have qemu-i386-static &&
    arch i686 i686-linux-gnu-gcc "qemu-i386-static -L /usr/i686-linux-gnu"
have powerpc64-linux-gnu-gcc && have qemu-ppc64-static &&
    arch ppc64 powerpc64-linux-gnu-gcc "qemu-ppc64-static -L /usr/powerpc64-linux-gnu"
have mips-linux-gnu-gcc && have qemu-mips-static &&
    arch mips mips-linux-gnu-gcc "qemu-mips-static -L /usr/mips-linux-gnu"
mv "$out/manifest.tsv.tmp" "$out/manifest.tsv"
echo "upstream corpus: $(wc -l < "$out/manifest.tsv") architectures in $out"
