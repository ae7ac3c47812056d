#!/bin/sh
# Benchmark of `shenzi bundle` on the numpy/pillow/lxml/cryptography test app, against
#   - `cp -a` of the same venv (target: shenzi <= 2x), and
#   - `pyinstaller --onedir` of the same script (target: shenzi >= 10x faster),
# all measured in this run (median of 5 for cp and shenzi, one PyInstaller run), plus shenzi's
# peak RSS. Needs corpus/bundle/setup.sh to have run. Prints ratios, not bare times.
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
e2e_run() { "$shenzi" bundle --python "$venv/bin/python" "$app" -o "$work/dist2" --force; }
cp_run; sh_run >/dev/null 2>&1   # warm the page cache for both
cp_t=$(median5 cp_run)
sh_t=$(median5 sh_run)
e2e_t=$(median5 e2e_run)
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

du_bundle=$(du -sm "$work/dist" | cut -f1)
du_venv=$(du -sm "$venv" | cut -f1)
echo "shenzi bundle --manifest: $(echo "$sh_t / $cp_t" | bc -l | xargs printf '%.2f')x the time of cp -a of the venv (target <= 2x)"
echo "shenzi bundle (with the observed run): $(echo "$e2e_t / $cp_t" | bc -l | xargs printf '%.2f')x cp -a"
if [ -n "$pi_t" ]; then
    echo "pyinstaller --onedir / shenzi bundle --manifest: $(echo "$pi_t / $sh_t" | bc -l | xargs printf '%.1f')x (target >= 10x)"
    echo "pyinstaller --onedir / shenzi bundle (with the observed run): $(echo "$pi_t / $e2e_t" | bc -l | xargs printf '%.1f')x"
else
    echo "pyinstaller: not installed in $tools (run corpus/bundle/setup.sh)"
fi
echo "peak RSS of shenzi itself: ${rss} KiB (--manifest), ${rss_e2e} KiB (with the observed run, not counting the app)"
echo "sizes: bundle ${du_bundle} MiB (with interpreter and stdlib), venv ${du_venv} MiB"
