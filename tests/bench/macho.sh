#!/bin/sh
# Benchmark: edit + ad-hoc re-sign of a >= 100 MiB arm64 dylib, against llvm-install-name-tool
# (which also re-signs arm64) and against sha256sum of the same file, in the same run.
# Prints medians of 5 runs and the ratios. Usage: tests/bench/macho.sh
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target/macho}
cargo build --release --quiet --manifest-path "$root/Cargo.toml" --bin shenzi
shenzi=$CARGO_TARGET_DIR/release/shenzi
corpus=$root/target/corpus-macho
LARGE=1 "$root/corpus/macho/build.sh" "$corpus" >/dev/null
big=$corpus/large-arm64.dylib
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
lint=$(command -v llvm-install-name-tool-19 || command -v llvm-install-name-tool)

# median of 5 timings (seconds) of: $1 = setup command, $2 = timed command. Every timed command
# reads a file already in the page cache, as sha256sum does.
median() {
    for i in 1 2 3 4 5; do
        sh -c "$1"
        s=$(date +%s.%N)
        sh -c "$2" >/dev/null
        e=$(date +%s.%N)
        awk "BEGIN { print $e - $s }"
    done | sort -n | sed -n 3p
}
size=$(stat -c %s "$big")
cat "$big" >/dev/null
t_sha=$(median true "sha256sum '$big'")
t_cp=$(median "rm -f '$work/p.dylib'" "cp '$big' '$work/p.dylib'")
t_llvm=$(median "cp '$big' '$work/a.dylib' && cat '$work/a.dylib' >/dev/null" "'$lint' -add_rpath @loader_path/bench '$work/a.dylib'")
t_ours=$(median "cp '$big' '$work/b.dylib' && cat '$work/b.dylib' >/dev/null" "'$shenzi' install-name-tool -add_rpath @loader_path/bench '$work/b.dylib'")
t_grow=$(median "cp '$big' '$work/c.dylib' && cat '$work/c.dylib' >/dev/null" "'$shenzi' install-name-tool -add_rpath @loader_path/$(printf 'g%.0s' $(seq 1 200)) '$work/c.dylib'")
"$shenzi" codesign --verify "$work/b.dylib" "$work/c.dylib" >/dev/null
# Peak RSS (GNU time, KiB) of one in-place and one shifting edit.
rss() { cp "$big" "$work/r.dylib"; /usr/bin/time -o "$work/rss" -f '%M' "$shenzi" install-name-tool -add_rpath "$1" "$work/r.dylib"; tail -1 "$work/rss"; }
rss_ours=$(rss @loader_path/bench)
rss_grow=$(rss "@loader_path/$(printf 'g%.0s' $(seq 1 200))")
echo "file: $(basename "$big") ($((size / 1048576)) MiB)"
echo "sha256sum:                         ${t_sha}s"
echo "cp:                                ${t_cp}s"
echo "llvm-install-name-tool -add_rpath: ${t_llvm}s"
echo "shenzi (in place + re-sign):       ${t_ours}s"
echo "shenzi (shift + re-sign):          ${t_grow}s"
echo "ratio shenzi/llvm-install-name-tool: $(awk "BEGIN { printf \"%.2f\", $t_ours / $t_llvm }")"
echo "ratio shenzi/sha256sum:              $(awk "BEGIN { printf \"%.2f\", $t_ours / $t_sha }") (target <= 0.3)"
echo "ratio shenzi shift/(sha256sum + cp): $(awk "BEGIN { printf \"%.2f\", $t_grow / ($t_sha + $t_cp) }") (target <= 0.6)"
echo "peak RSS, in place + re-sign:        $((rss_ours / 1024)) MiB (target < 32 MiB; the file is $((size / 1048576)) MiB)"
echo "peak RSS, shift + re-sign:           $((rss_grow / 1024)) MiB (target < 64 MiB)"
