#!/usr/bin/env bash
# Times discemu against qemu-img on the same mixed-content image, side by side: convert raw->raw,
# raw->qcow2 compressed with zstd, compare, and every VM format both ways (raw->FORMAT, FORMAT->raw). Prints time ratios
# (discemu / qemu-img; below 1.0 means discemu is faster), peak memory, and whether the outputs match.
#
# usage: bench/convert.sh [SIZE_GIB ...]     (default: 2; e.g. "bench/convert.sh 1 8" checks memory stays flat)
# env:   BENCH_DIR   work files (default /tmp/discemu-bench)
#        BENCH_RUNS  runs per case, best kept (default 3)
#        BENCH_COLD  1 = drop the page cache before every run (needs root; slows everyone else on the machine)
#        DISCEMU     the discemu launcher to time (default: ./discemu of this checkout)
#        BENCH_FORMATS  formats to time both ways, FORMAT[:option=value] each
#                    (default: qcow2 vpc vpc:subformat=fixed vhdx vdi vmdk vmdk:subformat=streamOptimized)
# needs: qemu-img (qemu-utils), GNU time (package "time").
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
work=${BENCH_DIR:-/tmp/discemu-bench}
runs=${BENCH_RUNS:-3}
cold=${BENCH_COLD:-0}
discemu=${DISCEMU:-$root/discemu}
export DISCEMU_AOT=${DISCEMU_AOT:-1}   # ./discemu runs the Native AOT build, as released (0 = ReadyToRun)
sizes=("${@:-2}")
mkdir -p "$work"
command -v qemu-img >/dev/null || { echo "qemu-img is missing: apt-get install qemu-utils" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "GNU time is missing: apt-get install time" >&2; exit 1; }

"$discemu" --version >/dev/null   # build once, outside the timings

# make_image FILE GIB: per 64 MiB region: 16 MiB random, 16 MiB explicit zeros, 16 MiB text, 16 MiB hole.
make_image() {
  local f=$1 gib=$2
  [ -f "$f" ] && [ "$(stat -c %s "$f")" -eq $((gib << 30)) ] && return
  echo "making $f ($gib GiB of mixed content)..." >&2
  local text="$work/text.16m"
  if [ ! -f "$text" ] || [ "$(stat -c %s "$text")" -ne $((16 << 20)) ]; then
    { for _ in $(seq 1 600); do cat /usr/share/common-licenses/GPL-3 2>/dev/null || seq 1 5000; done; } | head -c $((16 << 20)) > "$text" || true
  fi
  rm -f "$f"; truncate -s $((gib << 30)) "$f"
  local regions=$((gib * 16)) i
  for ((i = 0; i < regions; i++)); do
    local base=$((i * 64))
    head -c $((16 << 20)) /dev/urandom | dd of="$f" bs=1M seek=$base conv=notrunc status=none
    dd if=/dev/zero of="$f" bs=1M seek=$((base + 16)) count=16 conv=notrunc status=none
    dd if="$text" of="$f" bs=1M seek=$((base + 32)) conv=notrunc status=none
  done
}

# measure CMD...: best wall time of $runs runs and the peak RSS (KiB) of the best run. Outputs
# (out.*) are deleted before every run; without BENCH_COLD one untimed run warms the page cache.
measure() {
  local best="" rss="" t r
  if [ "$cold" != 1 ]; then rm -f "$work"/out.*; "$@" >/dev/null 2>&1 || true; fi
  for ((k = 0; k < runs; k++)); do
    rm -f "$work"/out.*
    if [ "$cold" = 1 ]; then sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true; fi
    /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" >/dev/null 2>"$work/err.txt" || { cat "$work/err.txt" >&2; return 1; }
    read -r t r < "$work/time.txt"
    if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; rss=$r; fi
  done
  echo "$best $rss"
}

# same OUT_FMT DISCEMU_OUT QEMU_OUT: "same" when both outputs hold the same content (and, for raw, the same bytes).
same() {
  local fmt=$1 a=$2 b=$3
  qemu-img compare -q -f "$fmt" -F "$fmt" "$a" "$b" || { echo "DIFF"; return; }
  if [ "$fmt" = raw ] && ! cmp -s "$a" "$b"; then echo "DIFF"; return; fi
  echo "same"
}

printf '%-4s %-36s %10s %10s %6s %9s %9s %7s\n' GiB case discemu_s qemu-img_s ratio disc_MiB qemu_MiB output
for gib in "${sizes[@]}"; do
  src="$work/mixed-${gib}g.raw"
  make_image "$src" "$gib"
  qemu-img convert -f raw -O raw "$src" "$work/copy-${gib}g.raw"
  # label|output format ("-" for compare)|arguments (out.X is the output, deleted before each run)
  declare -a cases=(
    "raw->raw|raw|convert -f raw -O raw $src $work/out.raw"
    "compare raw raw|-|compare -f raw -F raw $src $work/copy-${gib}g.raw"
    "raw->qcow2 zstd compressed|qcow2|convert -f raw -O qcow2 -c -o compression_type=zstd $src $work/out.qcow2"
  )
  # Every VM format both ways: FORMAT[:subformat option] (source images made by qemu-img).
  for spec in ${BENCH_FORMATS:-qcow2 vpc vpc:subformat=fixed vhdx vdi vmdk vmdk:subformat=streamOptimized}; do
    fmt=${spec%%:*}; opt=""; tag=$fmt
    if [ "$spec" != "$fmt" ]; then opt="-o ${spec#*:}"; tag="$fmt ${spec#*:}"; fi
    srcimg="$work/src-${gib}g-${spec//[:=]/-}.$fmt"
    # shellcheck disable=SC2086
    [ -f "$srcimg" ] || qemu-img convert -f raw -O "$fmt" $opt "$src" "$srcimg"
    cases+=("raw->$tag|$fmt|convert -f raw -O $fmt $opt $src $work/out.$fmt")
    cases+=("$tag->raw|raw|convert -f $fmt -O raw $srcimg $work/out.raw")
  done
  for c in "${cases[@]}"; do
    IFS='|' read -r label fmt args <<< "$c"
    # shellcheck disable=SC2086
    if ! read -r dt drss < <(measure "$discemu" $args); then
      printf '%-4s %-36s %10s\n' "$gib" "$label" "failed"; continue
    fi
    # shellcheck disable=SC2086
    read -r qt qrss < <(measure qemu-img $args)
    ratio=$(awk "BEGIN{printf \"%.2f\", $dt / ($qt > 0 ? $qt : 0.001)}")
    check="-"
    if [ "$fmt" != "-" ]; then
      out="$work/out.$fmt"
      rm -f "$work"/out.* "$work"/cmp.*
      # shellcheck disable=SC2086
      "$discemu" $args >/dev/null && mv "$out" "$work/cmp.d.$fmt"
      # shellcheck disable=SC2086
      qemu-img $args >/dev/null && mv "$out" "$work/cmp.q.$fmt"
      check=$(same "$fmt" "$work/cmp.d.$fmt" "$work/cmp.q.$fmt")
      rm -f "$work"/cmp.*
    fi
    printf '%-4s %-36s %10s %10s %6s %9d %9d %7s\n' "$gib" "$label" "$dt" "$qt" "$ratio" $((drss / 1024)) $((qrss / 1024)) "$check"
  done
done
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r); runs per case: $runs (best kept); page cache: $([ "$cold" = 1 ] && echo dropped before each run || echo hot)"
