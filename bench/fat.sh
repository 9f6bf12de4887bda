#!/usr/bin/env bash
# Times copying a tree of small files into a FAT32 image: `mcopy -s` against `discemu put -r`, each into a
# fresh image made by mkfs.fat, checks both with fsck.fat -n, and prints the ratio (mcopy time / discemu
# time; above 1.0 means discemu is faster) and the peak memory of each.
#
# usage: bench/fat.sh [FILES]     (default 10000: 100 directories of FILES/100 files of 1-4 KiB)
# env:   BENCH_DIR   work files (default /tmp/discemu-bench-fat)
#        BENCH_RUNS  runs per tool, best kept (default 3)
#        DISCEMU     the discemu launcher to time (default: ./discemu of this checkout)
# needs: dosfstools (mkfs.fat, fsck.fat), mtools (mcopy), GNU time (package "time").
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
work=${BENCH_DIR:-/tmp/discemu-bench-fat}
runs=${BENCH_RUNS:-3}
discemu=${DISCEMU:-$root/discemu}
export DISCEMU_AOT=${DISCEMU_AOT:-1}   # ./discemu runs the Native AOT build, as released (0 = ReadyToRun)
files=${1:-10000}
export TZ=UTC
mkdir -p "$work"
command -v mcopy >/dev/null || { echo "mcopy is missing: apt-get install mtools" >&2; exit 1; }
command -v mkfs.fat >/dev/null || { echo "mkfs.fat is missing: apt-get install dosfstools" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "GNU time is missing: apt-get install time" >&2; exit 1; }
"$discemu" --version >/dev/null   # build once, outside the timings

src="$work/tree-$files"
if [ ! -d "$src" ]; then
  echo "making $src ($files files)..." >&2
  python3 - "$src" "$files" <<'PY'
import os, random, sys
path, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(1)
dirs = 100
for i in range(n):
    d = os.path.join(path, f"directory {i % dirs:03d}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"small file number {i:05d}.txt"), "wb") as f:
        f.write(os.urandom(rng.randint(1024, 4096)))
PY
fi
image_mib=$(( files * 6 / 1024 + 64 ))

# measure NAME CMD...: best wall time of $runs runs (each on a fresh image) and that run's peak RSS (KiB).
measure() {
  local name=$1 best="" rss="" t r
  shift
  for ((k = 0; k < runs; k++)); do
    rm -f "$work/$name.img"
    mkfs.fat -C -F 32 "$work/$name.img" $(( image_mib * 1024 )) >/dev/null
    /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" >/dev/null 2>"$work/err.txt" || { cat "$work/err.txt" >&2; return 1; }
    read -r t r < "$work/time.txt"
    if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; rss=$r; fi
  done
  echo "$best $rss"
}

read -r tref rref < <(measure ref mcopy -s -i "$work/ref.img" "$src" ::/)
read -r tours rours < <(measure ours "$discemu" put -r "$src" "$work/ours.img:/")
fsck.fat -n "$work/ref.img" >/dev/null
fsck.fat -n "$work/ours.img" | tail -1
count=$(mdir -/ -b -i "$work/ours.img" ::/ | grep -c "small file number" || true)
[ "$count" -eq "$files" ] || { echo "discemu's image holds $count files, not $files" >&2; exit 1; }
echo "files: $files in 100 directories, image: ${image_mib} MiB FAT32"
echo "mcopy -s:       ${tref} s, peak RSS $((rref / 1024)) MiB"
echo "discemu put -r: ${tours} s, peak RSS $((rours / 1024)) MiB"
awk "BEGIN{printf \"ratio (mcopy / discemu): %.2f\n\", $tref / $tours}"
