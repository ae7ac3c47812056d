#!/usr/bin/env bash
# ELF rpath-edit benchmark against patchelf, measured in the same run.
#
# Builds a 256 MiB shared library, then times (median of N runs, each on a fresh, synced copy):
#   1. an rpath edit that fits in place   (target: shenzi >= 100x faster, peak RSS < 16 MiB)
#   2. an rpath edit that must grow       (target: shenzi >=   5x faster, peak RSS < 32 MiB)
# and prints the ratios. Usage: tests/bench/elf.sh [RUNS]   (needs gcc, patchelf, GNU time)
set -euo pipefail
runs=${1:-7}
root=$(cd "$(dirname "$0")/../.." && pwd)
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
shenzi=$root/target/release/shenzi
work=$(mktemp -d "${TMPDIR:-/tmp}/shenzi-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

cat > "$work/big.c" <<'C'
/* 256 MiB of read-only data in a shared library. */
__attribute__((used)) const char big_blob[256u << 20] = { 1 };
int big_value(void) { return big_blob[12345]; }
C
gcc -O1 -shared -fPIC -o "$work/libbig.so" "$work/big.c" \
    -Wl,-rpath,/opt/placeholder/rpath/entry/that/leaves/room/for/a/shorter/one -Wl,--enable-new-dtags
size=$(stat -c %s "$work/libbig.so")
echo "input: libbig.so, $((size >> 20)) MiB"

long=$(for i in $(seq 1 150); do printf '/opt/bench/long/rpath/entry/%03d:' "$i"; done)x

# measure LABEL RPATH CMD...  -> prints "median_seconds max_rss_kib"
measure() {
    local rpath=$1; shift
    local times=() rss=0
    for _ in $(seq 1 "$runs"); do
        cp "$work/libbig.so" "$work/t.so"
        sync "$work/t.so"
        local t0 t1
        t0=$(date +%s%N)
        /usr/bin/time -f %M -o "$work/rss" "$@" "$rpath" "$work/t.so" > /dev/null
        t1=$(date +%s%N)
        times+=($(( t1 - t0 )))
        local r; r=$(cat "$work/rss"); [ "$r" -gt "$rss" ] && rss=$r
        case "$(readelf -d "$work/t.so")" in *"$rpath"*) ;; *) echo "FAILED: rpath not set by $1" >&2; exit 1;; esac
    done
    local median
    median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")
    echo "$median $rss"
}

report() {
    local label=$1 target_ratio=$2 target_rss=$3 rpath=$4
    read -r pt prss < <(measure "$rpath" patchelf --set-rpath)
    read -r st srss < <(measure "$rpath" "$shenzi" patch --rpath)
    local ratio; ratio=$(awk -v a="$pt" -v b="$st" 'BEGIN { printf "%.1f", a / b }')
    printf '%-22s patchelf %8.2f ms %7d KiB | shenzi %8.2f ms %6d KiB | %6sx faster (target >= %sx), shenzi RSS %s (target < %d MiB)\n' \
        "$label" "$(awk -v t="$pt" 'BEGIN{print t/1e6}')" "$prss" "$(awk -v t="$st" 'BEGIN{print t/1e6}')" "$srss" "$ratio" "$target_ratio" \
        "$(awk -v r="$srss" -v m="$target_rss" 'BEGIN { print (r < m * 1024) ? "ok" : "OVER" }')" "$target_rss"
}

report "rpath edit, in place" 100 16 '/opt/short'
report "rpath edit, grows" 5 32 "$long"
