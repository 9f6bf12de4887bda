#!/usr/bin/env bash
# Times E01 writing: `ewfacquire -c fast` against `discemu convert -O ewf -o compression=fast` on the
# same mixed-content file (per 4 MiB region: random, zeros, text, low-entropy bytes), checks both sets
# with ewfverify and prints the throughput ratio (ewfacquire time / discemu time; above 1.0 means
# discemu is faster), peak memory and set sizes.
#
# usage: bench/ewf.sh [SIZE_MIB]     (default 512)
# env:   BENCH_DIR   work files (default /tmp/discemu-bench-ewf)
#        BENCH_RUNS  runs per tool, best kept (default 3)
#        BENCH_LEVEL compression level for both tools: fast (default) or best
#        DISCEMU     the discemu launcher to time (default: ./discemu of this checkout)
# needs: ewf-tools (ewfacquire, ewfverify), GNU time (package "time"), python3.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
work=${BENCH_DIR:-/tmp/discemu-bench-ewf}
runs=${BENCH_RUNS:-3}
level=${BENCH_LEVEL:-fast}
discemu=${DISCEMU:-$root/discemu}
export DISCEMU_AOT=${DISCEMU_AOT:-1}   # ./discemu runs the Native AOT build, as released (0 = ReadyToRun)
mib=${1:-512}
mkdir -p "$work"
command -v ewfacquire >/dev/null || { echo "ewfacquire is missing: apt-get install ewf-tools" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "GNU time is missing: apt-get install time" >&2; exit 1; }
"$discemu" --version >/dev/null   # build once, outside the timings

src="$work/mixed-$mib.bin"
if [ ! -f "$src" ] || [ "$(stat -c %s "$src")" -ne $((mib << 20)) ]; then
  echo "making $src ($mib MiB of mixed content)..." >&2
  python3 - "$src" "$mib" <<'PY'
import os, random, sys
path, mib = sys.argv[1], int(sys.argv[2])
rng = random.Random(1)
words = [bytes(rng.choice(b"etaoinshrdlucmfwyp") for _ in range(rng.randint(2, 9))) for _ in range(4000)]
with open(path, "wb") as f:
    for i in range(mib // 4):
        k = i % 4
        if k == 0: f.write(os.urandom(4 << 20))
        elif k == 1: f.write(bytes(4 << 20))
        elif k == 2:
            text = b" ".join(rng.choice(words) for _ in range(700000))[: 4 << 20]
            f.write(text.ljust(4 << 20, b" "))
        else: f.write(bytes(rng.getrandbits(3) for _ in range(1 << 16)) * 64)
PY
fi

# measure CMD...: best wall time of $runs runs and the peak RSS (KiB) of that run.
measure() {
  local best="" rss="" t r
  for ((k = 0; k < runs; k++)); do
    rm -f "$work"/out.* "$work"/ref.*
    /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" >/dev/null 2>"$work/err.txt" || { cat "$work/err.txt" >&2; return 1; }
    read -r t r < "$work/time.txt"
    if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; rss=$r; fi
  done
  echo "$best $rss"
}

read -r tref rref < <(measure ewfacquire -u -q -c "$level" -t "$work/ref" "$src")
ewfacquire -u -q -c "$level" -t "$work/ref" "$src" >/dev/null
refsize=$(cat "$work"/ref.E* | wc -c)
ewfverify -q "$work/ref.E01" | grep -q SUCCESS || { echo "ewfverify rejected ewfacquire's set" >&2; exit 1; }
read -r tours rours < <(measure "$discemu" convert -O ewf -o "compression=$level" "$src" "$work/out.E01")
"$discemu" convert -O ewf -o "compression=$level" "$src" "$work/out.E01"
oursize=$(cat "$work"/out.E* | wc -c)
ewfverify -q "$work/out.E01" | grep -q SUCCESS || { echo "ewfverify rejected discemu's set" >&2; exit 1; }
mbps() { awk "BEGIN{printf \"%.0f\", $mib / $1}"; }
echo "| MiB | level | ewfacquire s (MiB/s) | discemu s (MiB/s) | throughput ratio | ewfacquire RSS KiB | discemu RSS KiB | ewfacquire set | discemu set |"
echo "|---|---|---|---|---|---|---|---|---|"
echo "| $mib | $level | $tref ($(mbps "$tref")) | $tours ($(mbps "$tours")) | $(awk "BEGIN{printf \"%.2f\", $tref / $tours}") | $rref | $rours | $refsize | $oursize |"
