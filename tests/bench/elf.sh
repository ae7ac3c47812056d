#!/usr/bin/env bash
# ELF rpath-edit benchmark against patchelf, measured in the same run.
#
# Builds a 256 MiB shared library, then times (median of N runs, each on a fresh, synced copy;
# peak RSS from GNU time):
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

# Times each tool on fresh, synced copies (copying is not timed) and reports median wall time
# and peak RSS (from wait4) of the tool's process.
python3 - "$work" "$runs" "$shenzi" "$long" <<'PY'
import os, shutil, subprocess, sys, time

work, runs, shenzi, long = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
src, dst = os.path.join(work, "libbig.so"), os.path.join(work, "t.so")

def measure(cmd, rpath):
    times, rss = [], 0
    for _ in range(runs):
        shutil.copyfile(src, dst)
        os.sync()
        t0 = time.perf_counter()
        status = subprocess.run(cmd + [rpath, dst], stdout=subprocess.DEVNULL).returncode
        times.append(time.perf_counter() - t0)
        if status != 0:
            sys.exit(f"FAILED: {cmd[0]} exited with {status}")
        # Peak RSS from a separate run under GNU time (a forked Python would count its own pages).
        shutil.copyfile(src, dst)
        os.sync()
        rss_file = os.path.join(work, "rss")
        subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss_file] + cmd + [rpath, dst], stdout=subprocess.DEVNULL, check=True)
        rss = max(rss, int(open(rss_file).read().split()[-1]))
        out = subprocess.run(["readelf", "-d", dst], capture_output=True, text=True).stdout
        if rpath not in out:
            sys.exit(f"FAILED: {cmd[0]} did not set the rpath")
    times.sort()
    return times[len(times) // 2], rss

def report(label, target_ratio, target_rss_mib, rpath):
    pt, prss = measure(["patchelf", "--set-rpath"], rpath)
    st, srss = measure([shenzi, "patch", "--rpath"], rpath)
    ok = "ok" if srss < target_rss_mib * 1024 else "OVER"
    print(f"{label:<22} patchelf {pt*1e3:8.2f} ms {prss:7d} KiB | shenzi {st*1e3:7.2f} ms {srss:6d} KiB | "
          f"{pt/st:6.1f}x faster (target >= {target_ratio}x) | shenzi peak RSS {ok} (target < {target_rss_mib} MiB)")

report("rpath edit, in place", 100, 16, "/opt/short")
report("rpath edit, grows", 5, 32, long)
PY
