#!/usr/bin/env bash
# Mounting as a user other than root (fusermount3) against mounting as root (mount(2)), and against fuseiso run by
# the same user: reads one large file inside an ISO through each fresh mount (ISO kept in the page cache, so this
# measures the FUSE path) and records the serving process's CPU time (user+sys) and peak RSS with GNU time, plus
# the read's wall time. Also times `discemu mount --daemon` (the parent's return) as the user.
#
# usage: bench/mount-user.sh [SIZE_MIB]     (default 256)
# env:   BENCH_DIR    work files (default /tmp/discemu-bench-mount-user, made world-readable)
#        BENCH_RUNS   runs per case, best kept (default 3)
#        BENCH_USER   the unprivileged uid:gid (default 65534:65534, nobody)
#        DISCEMU      the discemu launcher (default: ./discemu of this checkout; its build must be readable by the user)
# needs: root (to switch users), /dev/fuse readable and writable by others (0666), fusermount3 (fuse3), setpriv,
#        xorriso, fuseiso, GNU time.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
work=${BENCH_DIR:-/tmp/discemu-bench-mount-user}
runs=${BENCH_RUNS:-3}
ids=${BENCH_USER:-65534:65534}
discemu=${DISCEMU:-$root/discemu}
export DISCEMU_AOT=${DISCEMU_AOT:-1}   # ./discemu runs the Native AOT build, as released (0 = ReadyToRun)
mib=${1:-256}
for tool in xorriso fuseiso fusermount3 setpriv /usr/bin/time; do command -v "$tool" >/dev/null || { echo "$tool is missing" >&2; exit 1; }; done
[ "$(id -u)" = 0 ] || { echo "run as root (the script switches to $ids itself)" >&2; exit 1; }
[ "$(stat -c %a /dev/fuse)" = 666 ] || { echo "/dev/fuse must be mode 0666 for fusermount3 (udev's default)" >&2; exit 1; }
as_user=(setpriv --reuid="${ids%%:*}" --regid="${ids##*:}" --clear-groups env HOME="$work")
mkdir -p "$work/src" "$work/mnt"
chmod 0777 "$work" "$work/mnt"
"$discemu" --version >/dev/null   # build once, outside the timings

# shellcheck source=bench/lib-iso.sh
. "$here/lib-iso.sh"
make_big_iso "$work" "$mib"
chmod 0644 "$iso"
cat "$iso" > /dev/null

wait_mounted() {
  for ((w = 0; w < 600; w++)); do
    grep -q " $work/mnt " /proc/self/mountinfo && return 0
    kill -0 "$1" 2>/dev/null || break
    sleep 0.05
  done
  echo "mount did not appear: $(cat "$work/server.out")" >&2; exit 1
}
# one run: $1 = label, $2 = prefix (as_user or nothing), rest = server command; prints "label wall cpu rss"
one() {
  local label=$1 who=$2; shift 2
  local prefix=(); [ "$who" = user ] && prefix=("${as_user[@]}")
  rm -f "$work/time.txt" "$work/server.out"
  "${prefix[@]}" /usr/bin/time -o "$work/time.txt" -f '%U %S %M' "$@" > "$work/server.out" 2>&1 &
  local pid=$!
  wait_mounted "$pid"
  local t0 t1
  t0=$(date +%s.%N)
  "${prefix[@]}" cat "$work/mnt/big.bin" > /dev/null
  t1=$(date +%s.%N)
  if [ "$who" = user ]; then "${prefix[@]}" fusermount3 -u "$work/mnt"; else umount "$work/mnt"; fi
  wait "$pid" || true
  read -r u s m < <(tail -n 1 "$work/time.txt")
  awk -v l="$label" -v a="$t0" -v b="$t1" -v u="$u" -v s="$s" -v m="$m" 'BEGIN { printf "%s %.3f %.2f %d\n", l, b - a, u + s, m }'
}
best() { sort -k2 -g | head -1; }   # fastest read; its CPU and RSS are printed with it

echo "file: $mib MiB in an ISO, ISO cached, best of $runs (read wall s | server CPU user+sys s | server peak RSS KiB)"
for ((k = 0; k < runs; k++)); do one "discemu-root" root "$discemu" mount -r "$iso" "$work/mnt"; done | best
for ((k = 0; k < runs; k++)); do one "discemu-user" user "$discemu" mount -r "$iso" "$work/mnt"; done | best
for ((k = 0; k < runs; k++)); do one "fuseiso-user" user fuseiso -n "$iso" "$work/mnt" -f; done | best
for ((k = 0; k < runs; k++)); do
  t0=$(date +%s.%N)
  "${as_user[@]}" "$discemu" mount --daemon -r "$iso" "$work/mnt" > /dev/null
  t1=$(date +%s.%N)
  "${as_user[@]}" "$discemu" umount "$work/mnt"
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
done | sort -g | head -1 | sed 's/^/discemu mount --daemon (user) returns after s: /'
