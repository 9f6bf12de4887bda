#!/usr/bin/env bash
# Times discemu convert against qemu-img convert on the same mixed-content image, side by side,
# and prints time ratios (discemu / qemu-img; below 1.0 means discemu is faster) and peak memory.
#
# usage: bench/convert.sh [SIZE_GIB ...]     (default: 2; e.g. "bench/convert.sh 1 8" checks memory stays flat)
# needs: qemu-img (qemu-utils), GNU time (package "time"). Work files go to $BENCH_DIR (default /tmp/discemu-bench).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
work=${BENCH_DIR:-/tmp/discemu-bench}
runs=${BENCH_RUNS:-3}
sizes=("${@:-2}")
mkdir -p "$work"
command -v qemu-img >/dev/null || { echo "qemu-img is missing: apt-get install qemu-utils" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "GNU time is missing: apt-get install time" >&2; exit 1; }

"$root/discemu" --version >/dev/null   # build once, outside the timings

# make_image FILE GIB: per 64 MiB region: 16 MiB random, 16 MiB explicit zeros, 16 MiB text, 16 MiB hole.
make_image() {
  local f=$1 gib=$2
  [ -f "$f" ] && [ "$(stat -c %s "$f")" -eq $((gib << 30)) ] && return
  echo "making $f ($gib GiB of mixed content)..." >&2
  local text="$work/text.16m"
  if [ ! -f "$text" ]; then
    { for _ in $(seq 1 400); do cat /usr/share/common-licenses/GPL-3 2>/dev/null || seq 1 5000; done; } | head -c $((16 << 20)) > "$text"
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

# measure LABEL CMD...: best wall time of $runs runs and the peak RSS (KiB) of the best run.
measure() {
  local best="" rss="" t r
  for ((k = 0; k < runs; k++)); do
    rm -f "$work/out".*
    sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
    /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" >/dev/null 2>"$work/err.txt" || { cat "$work/err.txt" >&2; return 1; }
    read -r t r < "$work/time.txt"
    if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; rss=$r; fi
  done
  echo "$best $rss"
}

printf '%-6s %-28s %10s %10s %8s %12s %12s\n' GiB case discemu_s qemu-img_s ratio disc_rss_MiB qemu_rss_MiB
for gib in "${sizes[@]}"; do
  src="$work/mixed-${gib}g.raw"
  make_image "$src" "$gib"
  qemu-img convert -f raw -O qcow2 "$src" "$work/src-${gib}g.qcow2"
  declare -a cases=(
    "raw->qcow2|-f raw -O qcow2 $src $work/out.qcow2"
    "qcow2->raw|-f qcow2 -O raw $work/src-${gib}g.qcow2 $work/out.raw"
    "raw->qcow2 zstd compressed|-f raw -O qcow2 -c -o compression_type=zstd $src $work/out.qcow2"
  )
  for c in "${cases[@]}"; do
    label=${c%%|*}; args=${c#*|}
    # shellcheck disable=SC2086
    read -r dt drss < <(measure "$root/discemu" convert $args)
    # shellcheck disable=SC2086
    read -r qt qrss < <(measure qemu-img convert $args)
    ratio=$(awk "BEGIN{printf \"%.2f\", $dt / ($qt > 0 ? $qt : 0.001)}")
    printf '%-6s %-28s %10s %10s %8s %12d %12d\n' "$gib" "$label" "$dt" "$qt" "$ratio" $((drss / 1024)) $((qrss / 1024))
  done
done
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r); runs per case: $runs (best kept)"
