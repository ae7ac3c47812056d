#!/bin/sh
# Builds shenzi's wheels with maturin (from PyPI, in target/maturin-venv), zig from PyPI as the
# C compiler and linker, one release build per target:
#   x86_64-unknown-linux-gnu   manylinux_2_17 (zig links against glibc 2.17; maturin checks the
#                              symbol versions against the tag)
#   aarch64-apple-darwin       macosx_11_0_arm64
#   x86_64-apple-darwin        macosx_10_12_x86_64
# plus the sdist, into target/corpus-selfhost/wheels/. The binaries are also taken out of the
# wheels as target/corpus-selfhost/shenzi-<target>: code that only runs on a Mac must at least
# compile and link, and the results are real zig-linked Mach-O files (linker signatures with
# 16 KiB pages) for the Mach-O tests. Idempotent (cargo rebuilds what changed); prints how long
# it took.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
venv=$root/target/maturin-venv
out=$root/target/corpus-selfhost
wheels=$out/wheels
start=$(date +%s)

if ! "$venv/bin/maturin" --version > /dev/null 2>&1 ||
    ! "$venv/bin/python" -m ziglang version > /dev/null 2>&1; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check maturin ziglang
fi
targets="x86_64-unknown-linux-gnu aarch64-apple-darwin x86_64-apple-darwin"
# shellcheck disable=SC2086
rustup target add $targets > /dev/null 2>&1 || rustup target add $targets

# Built beside the old set and swapped in at the end, so a failed run leaves no partial set.
new=$wheels.new
log=$out/build.log
rm -rf "$new"
mkdir -p "$new"
: > "$log"
cd "$root"
build() {
    PATH=$venv/bin:$PATH CARGO_TARGET_DIR=$root/target/selfhost "$@" >> "$log" 2>&1 || {
        tail -n 40 "$log" >&2
        echo "selfhost setup: $* failed; the whole log is $log" >&2
        exit 1
    }
}
for target in $targets; do
    case $target in
        # Stripped: the line tables would triple the binary (Mach-O keeps them out anyway).
        *-linux-*) compat="--compatibility manylinux_2_17 --strip" ;;
        *) compat="" ;;
    esac
    # shellcheck disable=SC2086
    build maturin build --release --locked --zig --target "$target" $compat --out "$new"
done
build maturin sdist --out "$new"
rm -rf "$wheels"
mv "$new" "$wheels"

# The binaries, out of the wheels (`shenzi-V.data/scripts/shenzi`).
"$venv/bin/python" - "$wheels" "$out" << 'EOF'
import pathlib, sys, zipfile

wheels, out = map(pathlib.Path, sys.argv[1:])
for whl in sorted(wheels.glob("*.whl")):
    tag = whl.stem.split("-")[-1]
    if "manylinux" in tag:
        target = "x86_64-unknown-linux-gnu"
    elif tag.endswith("_arm64"):
        target = "aarch64-apple-darwin"
    else:
        target = "x86_64-apple-darwin"
    with zipfile.ZipFile(whl) as z:
        [name] = [n for n in z.namelist() if n.endswith(".data/scripts/shenzi")]
        dest = out / f"shenzi-{target}"
        tmp = dest.with_suffix(".tmp")
        tmp.write_bytes(z.read(name))
        tmp.chmod(0o755)
        tmp.replace(dest)
EOF
echo "selfhost setup: $(cd "$wheels" && ls | tr "\n" " ")in $(($(date +%s) - start)) s"
