#!/bin/sh
# Benchmark of `shenzi bundle` for macOS: the python.org framework layout of corpus/macos
# (numpy, scipy, pillow, lxml, cryptography wheels) bundled from its recorded observation with
# --root, against `cp -a` of the tree it reads (target: shenzi <= 2x), both measured in this
# run (median of 5), plus shenzi's peak RSS. Needs corpus/macos/setup.sh to have run.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
layout="$root/target/corpus-macos/pyorg"
[ -f "$layout/manifest.json" ] || { echo "run corpus/macos/setup.sh first" >&2; exit 1; }
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target/bundle}"
cargo build --release --quiet --manifest-path "$root/Cargo.toml" --bin shenzi
shenzi="$CARGO_TARGET_DIR/release/shenzi"
work=$(mktemp -d "${TMPDIR:-/tmp}/shenzi-bench-macos.XXXXXX")
trap 'rm -rf "$work"' EXIT

now() { date +%s.%N; }
secs() { t0=$(now); "$@" >/dev/null 2>&1; t1=$(now); echo "$t1 - $t0" | bc -l; }
median5() { for _ in 1 2 3 4 5; do secs "$@"; done | sort -g | sed -n 3p; }

cp_run() { rm -rf "$work/cp"; cp -a "$layout/root" "$work/cp"; }
sh_run() {
    "$shenzi" bundle --manifest "$layout/manifest.json" --root "$layout/root" -o "$work/dist" --force
}
cp_run; sh_run >/dev/null 2>&1   # warm the page cache for both
cp_t=$(median5 cp_run)
sh_t=$(median5 sh_run)
/usr/bin/time -o "$work/rss" -f '%M' "$shenzi" bundle --manifest "$layout/manifest.json" \
    --root "$layout/root" -o "$work/dist" --force >/dev/null 2>&1
rss=$(tail -1 "$work/rss")
echo "shenzi bundle (macOS framework layout, --root): $(echo "$sh_t / $cp_t" | bc -l | xargs printf '%.2f')x the time of cp -a of the tree (target <= 2x)"
echo "tree $(du -sm "$layout/root" | cut -f1) MiB, bundle $(du -sm "$work/dist" | cut -f1) MiB, $(find "$work/dist" -type f | wc -l) files; peak RSS $((rss / 1024)) MiB"
