#!/bin/sh
# Benchmark of `shenzi bundle` on the numpy/pillow/lxml/cryptography test app, against
#   - `cp -a` of the same venv (target: shenzi <= 1x), and
#   - `pyinstaller --onedir` of the same script (target: shenzi >= 10x faster; with
#     `--strip --compact`, a bundle no larger than PyInstaller's),
# all measured in this run (median of 5 for cp and shenzi, one PyInstaller run), plus shenzi's
# peak RSS and the sizes split by kind of file. Needs corpus/bundle/setup.sh to have run.
# Prints ratios, not bare times.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
venv="$root/target/bundle-venv"
tools="$root/target/bundle-tools"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target/bundle}"
cargo build --release --quiet --manifest-path "$root/Cargo.toml" --bin shenzi
shenzi="$CARGO_TARGET_DIR/release/shenzi"
work=$(mktemp -d "${TMPDIR:-/tmp}/shenzi-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
app="$root/corpus/bundle/sci/app.py"
sh "$root/corpus/bundle/ctlib/build.sh" "$work/ctlib"
export LD_LIBRARY_PATH="$work/ctlib"

now() { date +%s.%N; }
# secs CMD...: wall time of one run
secs() { t0=$(now); "$@" >/dev/null 2>&1; t1=$(now); echo "$t1 - $t0" | bc -l; }
# median5 CMD...: median wall time of five runs
median5() { for _ in 1 2 3 4 5; do secs "$@"; done | sort -g | sed -n 3p; }

"$shenzi" observe --python "$venv/bin/python" "$app" --out "$work/m.json" >/dev/null 2>&1
site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')

cp_run() { rm -rf "$work/cp"; cp -a "$venv" "$work/cp"; }
sh_run() { "$shenzi" bundle --manifest "$work/m.json" -o "$work/dist" --force; }
small_run() { "$shenzi" bundle --manifest "$work/m.json" -o "$work/small" --force --strip --compact; }
e2e_run() { "$shenzi" bundle --python "$venv/bin/python" "$app" -o "$work/dist2" --force; }
obs_run() { "$shenzi" observe --python "$venv/bin/python" "$app" --out "$work/m2.json"; }
cp_run; sh_run >/dev/null 2>&1   # warm the page cache for both
cp_t=$(median5 cp_run)
sh_t=$(median5 sh_run)
e2e_t=$(median5 e2e_run)
obs_t=$(median5 obs_run)
small_t=$(median5 small_run)
/usr/bin/time -o "$work/rss" -f '%M' "$shenzi" bundle --manifest "$work/m.json" -o "$work/dist" --force >/dev/null 2>&1
rss=$(tail -1 "$work/rss")
/usr/bin/time -o "$work/rss" -f '%M' "$shenzi" bundle --python "$venv/bin/python" "$app" -o "$work/dist2" --force >/dev/null 2>&1
rss_e2e=$(tail -1 "$work/rss")

pi_t=""
if [ -x "$tools/bin/pyinstaller" ]; then
    pi_run() {
        (cd "$work" && "$tools/bin/pyinstaller" --onedir --noconfirm --clean --log-level ERROR \
            --paths "$site" --distpath "$work/pi-dist" --workpath "$work/pi-build" \
            --specpath "$work" "$app")
    }
    pi_t=$(secs pi_run)
    [ -x "$work/pi-dist/app/app" ] || { echo "pyinstaller produced no app" >&2; exit 1; }
fi

# Bytes of the files under a folder (hard links once), by kind: ELF files, Python code
# (sources, byte-code, zip archives of them), everything else.
split() {
    "$venv/bin/python" - "$1" <<'PY'
import os, sys
seen, kinds = set(), {"ELF": 0, "Python code": 0, "other": 0}
for d, _, files in os.walk(sys.argv[1]):
    for f in files:
        p = os.path.join(d, f)
        st = os.lstat(p)
        if not os.path.isfile(p) or os.path.islink(p) or (st.st_dev, st.st_ino) in seen:
            continue
        seen.add((st.st_dev, st.st_ino))
        with open(p, "rb") as fh:
            magic = fh.read(4)
        kind = "ELF" if magic == b"\x7fELF" else "Python code" if f.endswith((".py", ".pyc", ".zip")) else "other"
        kinds[kind] += st.st_size
total = sum(kinds.values())
print(total, " ".join(f"{k} {v / 2**20:.1f} MiB," for k, v in kinds.items()).rstrip(","))
PY
}
du_bundle=$(du -sm "$work/dist" | cut -f1)
du_venv=$(du -sm "$venv" | cut -f1)
echo "shenzi bundle --manifest: $(echo "$sh_t / $cp_t" | bc -l | xargs printf '%.2f')x the time of cp -a of the venv (target <= 1x)"
echo "shenzi bundle (with the observed run): $(echo "$e2e_t / $cp_t" | bc -l | xargs printf '%.2f')x cp -a"
echo "  split: the app's observed run $(printf '%.2f' "$obs_t") s, bundling from its record $(printf '%.2f' "$sh_t") s, cp -a $(printf '%.2f' "$cp_t") s"
if [ -n "$pi_t" ]; then
    echo "pyinstaller --onedir / shenzi bundle --manifest: $(echo "$pi_t / $sh_t" | bc -l | xargs printf '%.1f')x (target >= 10x)"
    echo "pyinstaller --onedir / shenzi bundle (with the observed run): $(echo "$pi_t / $e2e_t" | bc -l | xargs printf '%.1f')x"
else
    echo "pyinstaller: not installed in $tools (run corpus/bundle/setup.sh)"
fi
echo "peak RSS of shenzi itself: ${rss} KiB (--manifest), ${rss_e2e} KiB (with the observed run, not counting the app)"
echo "shenzi bundle --strip --compact --manifest: $(echo "$small_t / $cp_t" | bc -l | xargs printf '%.2f')x cp -a"
echo "sizes: bundle ${du_bundle} MiB (with interpreter and stdlib), venv ${du_venv} MiB"
set -- $(split "$work/dist"); plain=$1; shift; echo "  shenzi bundle:                    $(echo "$plain / 1048576" | bc -l | xargs printf '%.1f') MiB ($*)"
set -- $(split "$work/small"); small=$1; shift; echo "  shenzi bundle --strip --compact:  $(echo "$small / 1048576" | bc -l | xargs printf '%.1f') MiB ($*)"
if [ -n "$pi_t" ]; then
    set -- $(split "$work/pi-dist/app"); pi=$1; shift
    echo "  pyinstaller --onedir:             $(echo "$pi / 1048576" | bc -l | xargs printf '%.1f') MiB ($*)"
    echo "  --strip --compact / pyinstaller: $(echo "$small / $pi" | bc -l | xargs printf '%.2f')x the bytes (target <= 1x); plain bundle $(echo "$plain / $pi" | bc -l | xargs printf '%.2f')x"
fi
# The small bundle works: the app's output equals the plain bundle's.
[ "$("$work/small/run.sh" x 'y z' 2>&1)" = "$("$work/dist/run.sh" x 'y z' 2>&1)" ] \
    || { echo "the --strip --compact bundle's output differs" >&2; exit 1; }
