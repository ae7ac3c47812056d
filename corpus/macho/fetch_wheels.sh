#!/bin/sh
# Downloads macOS wheels from PyPI and extracts every .so/.dylib into
# target/wheels-macho/<wheel>/ (idempotent). These are real ld64-built files: the tests edit,
# grow and re-sign each one.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$root/target/wheels-macho
venv=$root/target/macho-venv
py=$venv/bin/python
[ -x "$py" ] || py=python3
mkdir -p "$out/dl"

fetch() { # arch package... (pip wants exact platform tags: offer the usual deployment targets)
    arch=$1; shift
    plats=""
    for v in 10_9 10_10 10_12 10_13 10_14 10_15 11_0 12_0; do
        plats="$plats --platform macosx_${v}_${arch}"
    done
    for pkg in "$@"; do
        # shellcheck disable=SC2086
        "$py" -m pip download --quiet --no-deps --only-binary=:all: $plats \
            --python-version 3.11 --implementation cp -d "$out/dl" "$pkg"
    done
}
fetch arm64 numpy==1.26.4 pillow==10.3.0 pyyaml==6.0.1 cffi==1.16.0
fetch x86_64 numpy==1.26.4 pillow==10.3.0 pyyaml==6.0.1 cffi==1.16.0
fetch universal2 cryptography==42.0.5 markupsafe==2.1.5

"$py" - "$out" <<'PY'
import pathlib, sys, zipfile
out = pathlib.Path(sys.argv[1])
for whl in sorted((out / "dl").glob("*.whl")):
    dest = out / whl.stem
    if dest.exists():
        continue
    with zipfile.ZipFile(whl) as z:
        for name in z.namelist():
            if name.endswith((".so", ".dylib")):
                target = dest / name.replace("/", "__")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(z.read(name))
PY
find "$out" -name '*.so' -o -name '*.dylib' | grep -v /dl/ | wc -l
