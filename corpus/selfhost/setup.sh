#!/bin/sh
# Builds shenzi itself for macOS (arm64 and x86_64) with cargo-zigbuild, zig from PyPI as the C
# compiler and linker: code that only runs on a Mac must at least compile and link, and the
# results are real zig-linked Mach-O files (linker signatures with 16 KiB pages) for the Mach-O
# tests. Output: target/corpus-selfhost/shenzi-<target>. Idempotent (cargo rebuilds what changed).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
venv=$root/target/zig-venv
out=$root/target/corpus-selfhost
if [ ! -x "$venv/bin/cargo-zigbuild" ] || [ ! -d "$venv/lib" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q cargo-zigbuild ziglang
fi
rustup target add aarch64-apple-darwin x86_64-apple-darwin > /dev/null 2>&1 ||
    rustup target add aarch64-apple-darwin x86_64-apple-darwin
mkdir -p "$out"
cd "$root"
for target in aarch64-apple-darwin x86_64-apple-darwin; do
    PATH=$venv/bin:$PATH CARGO_TARGET_DIR=$root/target/selfhost \
        cargo zigbuild --quiet --release --locked --target "$target" -p shenzi --bin shenzi
    cp "$root/target/selfhost/$target/release/shenzi" "$out/shenzi-$target"
done
