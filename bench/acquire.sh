#!/usr/bin/env bash
# Times `discemu acquire` against the peer imagers on the same mixed-content image, side by side, in one
# run: each case images the file with discemu and with the peer tool, and prints both throughputs, the
# ratio (discemu throughput / peer throughput: above 1.0 discemu is faster), peak memory, and whether
# the two tools produced the same image and the same MD5.
#
# Cases (one line each in the `cases` list below):
#   raw + MD5, SHA-1, SHA-256:  discemu acquire --hash md5,sha1,sha256   vs   dc3dd hash=md5 hash=sha1 hash=sha256
#   the same with --no-sparse:  discemu writes the zero runs as data too, as dc3dd does (a fully allocated file)
#
# usage: bench/acquire.sh [SIZE]      size of the image, with a K/M/G suffix (default 2G; e.g. 1G, 512M)
# env:   BENCH_DIR   work files (default /tmp/discemu-bench)
#        BENCH_RUNS  runs per tool and case, best kept (default 1)
#        DISCEMU     the discemu launcher to time (default: ./discemu of this checkout)
# needs: dc3dd, GNU time (package "time").
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
work=${BENCH_DIR:-/tmp/discemu-bench}
runs=${BENCH_RUNS:-1}
discemu=${DISCEMU:-$root/discemu}
export DISCEMU_AOT=${DISCEMU_AOT:-1}   # ./discemu runs the Native AOT build, as released (0 = ReadyToRun)
size=$(numfmt --from=iec "${1:-2G}")
mib=$((size >> 20))
[ $((mib % 64)) -eq 0 ] && [ "$mib" -gt 0 ] || { echo "the size must be a multiple of 64 MiB" >&2; exit 1; }
mkdir -p "$work"
command -v dc3dd >/dev/null || { echo "dc3dd is missing: apt-get install dc3dd" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "GNU time is missing: apt-get install time" >&2; exit 1; }

"$discemu" --version >/dev/null   # build once, outside the timings

# make_image FILE MIB: per 64 MiB region: 16 MiB random, 16 MiB zeros, 16 MiB text, 16 MiB hole.
make_image() {
  local f=$1 mib=$2
  [ -f "$f" ] && [ "$(stat -c %s "$f")" -eq $((mib << 20)) ] && return
  echo "making $f ($mib MiB of mixed content)..." >&2
  local text="$work/text.16m"
  if [ ! -f "$text" ] || [ "$(stat -c %s "$text")" -ne $((16 << 20)) ]; then
    { for _ in $(seq 1 600); do cat /usr/share/common-licenses/GPL-3 2>/dev/null || seq 1 5000; done; } | head -c $((16 << 20)) > "$text" || true
  fi
  rm -f "$f"; truncate -s $((mib << 20)) "$f"
  local i
  for ((i = 0; i < mib / 64; i++)); do
    local base=$((i * 64))
    head -c $((16 << 20)) /dev/urandom | dd of="$f" bs=1M seek=$base conv=notrunc status=none
    dd if=/dev/zero of="$f" bs=1M seek=$((base + 16)) count=16 conv=notrunc status=none
    dd if="$text" of="$f" bs=1M seek=$((base + 32)) conv=notrunc status=none
  done
}

# measure CMD...: best wall time of $runs runs and that run's peak RSS (KiB). Outputs (out.*) are deleted
# and the source is read once into the page cache before every run, so both tools start from the same state.
measure() {
  local best="" rss="" t r
  for ((k = 0; k < runs; k++)); do
    rm -f "$work"/out.*
    cat "$src" > /dev/null
    /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" >/dev/null 2>"$work/err.txt" || { cat "$work/err.txt" >&2; return 1; }
    read -r t r < "$work/time.txt"
    if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; rss=$r; fi
  done
  echo "$best $rss"
}

# Checks: "same" when both tools wrote the same image and computed the same MD5 (as the source's).
check_raw() {
  local want d p
  want=$(md5sum < "$src" | cut -d' ' -f1)
  d=$(grep -o '"md5": *"[0-9a-f]*"' "$work/out.d.raw.log.json" | grep -o '[0-9a-f]\{32\}')
  p=$(grep -o '[0-9a-f]\{32\} (md5)' "$work/out.p.log" | head -1 | cut -d' ' -f1)
  if cmp -s "$work/out.d.raw" "$work/out.p.raw" && [ "$d" = "$want" ] && [ "$p" = "$want" ]; then echo same; else echo DIFF; fi
}

src="$work/acquire-${mib}m.raw"
make_image "$src" "$mib"

# label | peer name | discemu arguments | peer command | check (after both ran once more untimed; outputs out.d.* and out.p.*)
cases=(
  "raw md5+sha1+sha256|dc3dd|acquire -q --hash md5,sha1,sha256 $src $work/out.d.raw|dc3dd if=$src of=$work/out.p.raw hash=md5 hash=sha1 hash=sha256 log=$work/out.p.log|check_raw"
  "raw md5+sha1+sha256 full|dc3dd|acquire -q --no-sparse --hash md5,sha1,sha256 $src $work/out.d.raw|dc3dd if=$src of=$work/out.p.raw hash=md5 hash=sha1 hash=sha256 log=$work/out.p.log|check_raw"
)

printf '%-6s %-24s %-10s %9s %9s %10s %10s %6s %8s %8s %7s\n' MiB case peer disc_s peer_s disc_MiB/s peer_MiB/s ratio disc_RSS peer_RSS output
for c in "${cases[@]}"; do
  IFS='|' read -r label peer dargs pcmd check <<< "$c"
  # shellcheck disable=SC2086
  read -r dt drss < <(measure "$discemu" $dargs)
  # shellcheck disable=SC2086
  read -r pt prss < <(measure $pcmd)
  rm -f "$work"/out.*
  # shellcheck disable=SC2086
  "$discemu" $dargs >/dev/null 2>&1
  # shellcheck disable=SC2086
  $pcmd >/dev/null 2>&1
  same=$("$check")
  rm -f "$work"/out.*
  drate=$(awk "BEGIN{printf \"%.0f\", $mib / ($dt > 0 ? $dt : 0.001)}")
  prate=$(awk "BEGIN{printf \"%.0f\", $mib / ($pt > 0 ? $pt : 0.001)}")
  ratio=$(awk "BEGIN{printf \"%.2f\", $pt / ($dt > 0 ? $dt : 0.001)}")
  printf '%-6s %-24s %-10s %9s %9s %10s %10s %6s %8d %8d %7s\n' "$mib" "$label" "$peer" "$dt" "$pt" "$drate" "$prate" "$ratio" $((drss / 1024)) $((prss / 1024)) "$same"
done
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg); runs per tool: $runs (best kept); page cache hot"
