#!/usr/bin/env bash
# Times discemu serve against qemu-nbd serving the same mixed qcow2, read-only, both over TCP on
# 127.0.0.1, in one run: a sequential read of the whole export with nbdcopy (to null:), and random
# 4 KiB reads (a fixed-seed list of offsets, 16 in flight, sent by qemu-io's aio_read). Prints best-of
# times and throughput ratios (discemu / qemu-nbd; above 1.0 means discemu is faster).
#
# usage: bench/serve.sh [SIZE_GIB]             (default 1)
# env:   BENCH_DIR   work files (default /tmp/discemu-bench)
#        BENCH_RUNS  runs per case, best kept (default 3)
#        BENCH_RANDOM  random reads per run (default 20000)
#        DISCEMU     the discemu launcher (default: ./discemu of this checkout)
# needs: qemu-utils (qemu-img, qemu-nbd, qemu-io), libnbd-bin (nbdcopy).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
work=${BENCH_DIR:-/tmp/discemu-bench}
runs=${BENCH_RUNS:-3}
nrandom=${BENCH_RANDOM:-20000}
discemu=${DISCEMU:-$root/discemu}
export DISCEMU_AOT=${DISCEMU_AOT:-1}   # ./discemu runs the Native AOT build, as released (0 = ReadyToRun)
gib=${1:-1}
mkdir -p "$work"
for t in qemu-img qemu-nbd qemu-io nbdcopy; do command -v $t >/dev/null || { echo "$t is missing" >&2; exit 1; }; done
"$discemu" --version >/dev/null   # build once, outside the timings

# A mixed image: per 64 MiB, 16 MiB random, 16 MiB zeros, 16 MiB text, 16 MiB hole; as a qcow2.
img="$work/serve-${gib}g.qcow2"
if [ ! -f "$img" ]; then
  raw="$work/serve-${gib}g.raw"
  echo "making $img ..." >&2
  rm -f "$raw"; truncate -s $((gib << 30)) "$raw"
  { for _ in $(seq 1 600); do cat /usr/share/common-licenses/GPL-3 2>/dev/null || seq 1 5000; done; } | head -c $((16 << 20)) > "$work/text.16m" || true
  for ((i = 0; i < gib * 16; i++)); do
    b=$((i * 64))
    head -c $((16 << 20)) /dev/urandom | dd of="$raw" bs=1M seek=$b conv=notrunc status=none
    dd if=/dev/zero of="$raw" bs=1M seek=$((b + 16)) count=16 conv=notrunc status=none
    dd if="$work/text.16m" of="$raw" bs=1M seek=$((b + 32)) conv=notrunc status=none
  done
  qemu-img convert -f raw -O qcow2 "$raw" "$img"
  rm -f "$raw"
fi
size=$(qemu-img info --output=json "$img" | sed -n 's/.*"virtual-size": \([0-9]*\).*/\1/p')

# Random reads: qemu-io commands, 16 aio_reads then a drain, offsets from a fixed seed.
cmds="$work/random.cmds"
awk -v n="$nrandom" -v blocks=$((size / 4096)) 'BEGIN { srand(42); for (i = 0; i < n; i++) { printf "aio_read -q %d 4k\n", int(rand() * blocks) * 4096; if (i % 16 == 15) print "aio_flush" } print "aio_flush" }' > "$cmds"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

port_d=$((20000 + RANDOM % 20000)); port_q=$((port_d + 1))
"$discemu" serve -r --port $port_d --export disk="$img" > "$work/serve.uris" 2> "$work/serve.err" & pids+=($!)
qemu-nbd -r -f qcow2 -b 127.0.0.1 -p $port_q -x disk --shared=16 --persistent "$img" & pids+=($!)
for _ in $(seq 1 100); do
  nbdinfo --size "nbd://127.0.0.1:$port_d/disk" >/dev/null 2>&1 && nbdinfo --size "nbd://127.0.0.1:$port_q/disk" >/dev/null 2>&1 && break
  sleep 0.2
done

# best CMD...: best wall time (seconds) of $runs runs after one warm-up run.
best() {
  local b="" s e t
  "$@" >/dev/null 2>&1
  for ((k = 0; k < runs; k++)); do
    s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N)
    t=$(awk "BEGIN{print $e - $s}")
    if [ -z "$b" ] || awk "BEGIN{exit !($t < $b)}"; then b=$t; fi
  done
  echo "$b"
}

d="nbd://127.0.0.1:$port_d/disk"; q="nbd://127.0.0.1:$port_q/disk"
cmp -s <(nbdcopy "$d" - | md5sum) <(nbdcopy "$q" - | md5sum) || { echo "exports differ!" >&2; exit 1; }
mib=$((size >> 20))
printf '%-34s %10s %10s %8s\n' case discemu_s qemu-nbd_s ratio
row() {
  local label=$1 amount=$2 td=$3 tq=$4
  printf '%-34s %10.3f %10.3f %8.2f   (%s: discemu %.0f, qemu-nbd %.0f)\n' "$label" "$td" "$tq" "$(awk "BEGIN{print $tq / $td}")" \
    "$5" "$(awk "BEGIN{print $amount / $td}")" "$(awk "BEGIN{print $amount / $tq}")"
}
td=$(best nbdcopy "$d" null:); tq=$(best nbdcopy "$q" null:)
row "sequential nbdcopy ${mib} MiB" "$mib" "$td" "$tq" "MiB/s"
td=$(best nbdcopy --connections=1 --requests=1 "$d" null:); tq=$(best nbdcopy --connections=1 --requests=1 "$q" null:)
row "sequential 1 conn, 1 req in flight" "$mib" "$td" "$tq" "MiB/s"
td=$(best sh -c "qemu-io -f raw -r '$d' < '$cmds'"); tq=$(best sh -c "qemu-io -f raw -r '$q' < '$cmds'")
row "random 4k reads x$nrandom, QD16" "$nrandom" "$td" "$tq" "IOPS"
