#!/usr/bin/env bash
# Runs every fuzz target and prints executions and crashes; exits 1 if any target crashed.
#   run.sh [SECONDS]     each target for SECONDS (default 60), a random seed each time
#   run.sh --runs N      each target for exactly N inputs with a fixed seed: the same result on
#                        every machine (what CI uses, so a run there is reproducible here)
# Seeds come from the corpus builds. Needs cargo-fuzz; uses RUSTC_BOOTSTRAP where only a stable
# toolchain exists. Targets build with debug assertions, so arithmetic overflow is a crash.
set -uo pipefail
if [ "${1:-}" = "--runs" ]; then
    limit=(-runs="${2:?--runs needs a count}" -seed=1)
else
    limit=(-max_total_time="${1:-60}")
fi
here=$(cd "$(dirname "$0")" && pwd)
root=$here/..
export RUSTC_BOOTSTRAP=1
export ASAN_OPTIONS=detect_leaks=0
if [ ! -f "$root/target/corpus/elf/manifest.tsv" ]; then
    bash "$root/corpus/elf/build.sh" "$root/target/corpus/elf" > /dev/null
fi
mkdir -p "$here/corpus/elf_parse" "$here/corpus/elf_edit" "$here/corpus/elf_strip" "$here/corpus/macho_parse" \
    "$here/corpus/macho_edit" "$here/corpus/macho_fat" "$here/corpus/codesign"
for f in "$root"/target/corpus/elf/*/prog "$root"/target/corpus/elf/*/lib/libdemo.so; do
    key=$(echo "$f" | sed 's#.*/elf/##; s#/#_#g')
    cp "$f" "$here/corpus/elf_parse/$key"
    cp "$f" "$here/corpus/elf_strip/$key"
    { printf '\001\077\001\002\003\040\040\040'; cat "$f"; } > "$here/corpus/elf_edit/$key"
done
# Mach-O seeds: the corpus builds and wheel binaries of corpus/macho/setup.sh, when present.
for f in "$root"/target/corpus-macho/* $(find "$root/target/wheels-macho" -name '*.so' -o -name '*.dylib' 2>/dev/null | head -40); do
    [ -f "$f" ] || continue
    # Not the benchmark's 131 MiB dylib: a seed that large slows every execution.
    [ "$(stat -c %s "$f")" -le 16777216 ] || continue
    key=$(echo "$f" | md5sum | cut -c1-16)
    cp "$f" "$here/corpus/macho_parse/$key"
    { printf '\001\037\001\040\040\002\040\040'; cat "$f"; } > "$here/corpus/macho_edit/$key"
    case "$(head -c 4 "$f" | od -An -tx1 | tr -d ' ')" in
        cafebabe|cafebabf) cp "$here/corpus/macho_edit/$key" "$here/corpus/macho_fat/$key" ;;
    esac
done
status=0
cd "$here"
for t in $(cargo fuzz list 2>/dev/null); do
    log=$(mktemp)
    cargo fuzz run "$t" -- "${limit[@]}" -rss_limit_mb=2048 -timeout=5 -detect_leaks=0 -print_final_stats=1 > "$log" 2>&1
    rc=$?
    execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}' | tail -1)
    crashes=$(ls "$here/artifacts/$t" 2>/dev/null | wc -l)
    printf '%-14s %10s execs  %3s crash files  exit %s\n' "$t" "${execs:-?}" "$crashes" "$rc"
    [ "$rc" -eq 0 ] || { status=1; tail -30 "$log"; }
    rm -f "$log"
done
exit $status
