#!/usr/bin/env bash
# Reads one large file inside an ISO through a FUSE mount: `discemu mount` against fuseiso, and against
# reading the same bytes from the plain file the ISO was made of. Every run starts cold for the bytes it
# reads: the plain file's and the ISO's pages are dropped from the page cache (dd iflag=nocache, i.e.
# posix_fadvise DONTNEED on those two files only) and the file system is mounted afresh, so neither the
# host's nor the mount's cache serves a second run. With BENCH_CACHE=warm the ISO and the plain file stay
# in the page cache instead (the mount is still fresh every run): that measures the FUSE path itself.
# Prints MiB/s per reader and the ratios discemu/fuseiso (target >= 1.0) and discemu/plain (target >= 0.8), for the
# default mount (FUSE page cache, kernel read-ahead) and for `--direct-io` (no FUSE page cache: one copy, as a plain read).
#
# usage: bench/mount.sh [SIZE_MIB]     (default 512)
# env:   BENCH_DIR    work files (default /tmp/discemu-bench-mount)
#        BENCH_RUNS   runs per reader, best kept (default 3)
#        BENCH_CACHE  cold (default) or warm
#        DISCEMU      the discemu launcher (default: ./discemu of this checkout)
#        BENCH_MOUNT_ARGS  extra `discemu mount` options for the first discemu reader
# needs: root (mount(2)), /dev/fuse, xorriso, fuseiso, python3.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
work=${BENCH_DIR:-/tmp/discemu-bench-mount}
runs=${BENCH_RUNS:-3}
cache=${BENCH_CACHE:-cold}
discemu=${DISCEMU:-$root/discemu}
export DISCEMU_AOT=${DISCEMU_AOT:-1}   # ./discemu runs the Native AOT build, as released (0 = ReadyToRun)
mib=${1:-512}
for tool in xorriso fuseiso python3; do command -v "$tool" >/dev/null || { echo "$tool is missing (apt-get install $tool)" >&2; exit 1; }; done
[ -e /dev/fuse ] || { echo "/dev/fuse is missing" >&2; exit 1; }
mkdir -p "$work/src" "$work/mnt"
"$discemu" --version >/dev/null   # build once, outside the timings

# shellcheck source=bench/lib-iso.sh
. "$here/lib-iso.sh"
make_big_iso "$work" "$mib"

drop() { [ "$cache" = warm ] || for f in "$@"; do dd if="$f" iflag=nocache count=0 status=none; done; }
warm() { [ "$cache" = warm ] && cat "$@" > /dev/null || true; }

# seconds to read $1 with dd (1 MiB blocks) to /dev/null
read_time() {
  python3 - "$1" <<'PY'
import subprocess, sys, time
t = time.monotonic()
subprocess.run(["dd", "if=" + sys.argv[1], "of=/dev/null", "bs=1M", "status=none"], check=True)
print(f"{time.monotonic() - t:.3f}")
PY
}

mount_discemu() {
  : > "$work/discemu.out"
  "$discemu" mount -r "$@" "$iso" "$work/mnt" > "$work/discemu.out" 2>&1 &
  dm_pid=$!
  for ((w = 0; w < 600; w++)); do
    grep -q '^mounted' "$work/discemu.out" && return 0
    kill -0 "$dm_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "discemu mount failed: $(cat "$work/discemu.out")" >&2; exit 1
}
umount_discemu() { "$discemu" umount "$work/mnt"; wait "$dm_pid" || true; }
mount_fuseiso() { fuseiso "$iso" "$work/mnt"; }
umount_fuseiso() { fusermount3 -u "$work/mnt" 2>/dev/null || fusermount -u "$work/mnt" 2>/dev/null || umount "$work/mnt"; }

best() { sort -g | head -1; }

plain=$(for ((k = 0; k < runs; k++)); do drop "$big" "$iso"; warm "$big"; read_time "$big"; done | best)
# time_discemu [MOUNT OPTIONS...]: best read time through `discemu mount -r OPTIONS`.
time_discemu() {
  for ((k = 0; k < runs; k++)); do
    drop "$big" "$iso"; warm "$iso"; mount_discemu "$@"
    read_time "$work/mnt/big.bin"; cmp -s "$work/mnt/big.bin" "$big" || echo "discemu: content differs" >&2
    umount_discemu
  done | best
}
# shellcheck disable=SC2086
dm=$(time_discemu ${BENCH_MOUNT_ARGS:-})
dd_=$(time_discemu --direct-io)
fi_=$(for ((k = 0; k < runs; k++)); do
  drop "$big" "$iso"; warm "$iso"; mount_fuseiso
  read_time "$work/mnt/big.bin"; umount_fuseiso
done | best)

rate() { awk -v m="$mib" -v t="$1" 'BEGIN { printf "%.0f", m / t }'; }
echo "file: $mib MiB in an ISO (xorriso -R), cache: $cache, best of $runs"
printf '%-20s %8s s %8s MiB/s\n' plain "$plain" "$(rate "$plain")" discemu "$dm" "$(rate "$dm")" "discemu --direct-io" "$dd_" "$(rate "$dd_")" fuseiso "$fi_" "$(rate "$fi_")"
awk -v d="$dm" -v x="$dd_" -v f="$fi_" -v p="$plain" 'BEGIN {
  printf "discemu/fuseiso throughput ratio:             %.2f (target >= 1.0)\n", f / d
  printf "discemu/plain throughput ratio:               %.2f (target >= 0.8)\n", p / d
  printf "discemu --direct-io/plain throughput ratio:   %.2f (target >= 0.8)\n", p / x }'
