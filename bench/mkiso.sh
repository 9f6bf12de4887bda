#!/usr/bin/env bash
# Times `discemu mkiso` against `xorriso -as mkisofs` authoring the same tree with Rock Ridge and Joliet, side by
# side in one run, for trees of several sizes (the first N files and links of a copy of /usr/share). Prints both
# wall times, the ratio (xorriso time / discemu time: above 1.0 discemu is faster), both CPU times (user + sys) and
# their ratio (steadier than wall time on a loaded machine), both peak RSS (GNU time), the largest directory's
# entries, and whether both images list the same tree (xorriso -find on each).
#
# usage: bench/mkiso.sh [FILES ...]   tree sizes in files (default: 15000 60000)
# env:   BENCH_DIR   work files (default /tmp/discemu-bench-mkiso; the tree copies are kept for later runs)
#        BENCH_RUNS  runs per tool and size, best kept (default 1)
#        DISCEMU     the discemu launcher to time (default: ./discemu of this checkout)
# needs: xorriso, GNU time (package "time").
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
work=${BENCH_DIR:-/tmp/discemu-bench-mkiso}
runs=${BENCH_RUNS:-1}
discemu=${DISCEMU:-$root/discemu}
export DISCEMU_AOT=${DISCEMU_AOT:-1}   # ./discemu runs the Native AOT build, as released (0 = ReadyToRun)
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(15000 60000)
mkdir -p "$work"
command -v xorriso >/dev/null || { echo "xorriso is missing: apt-get install xorriso" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "GNU time is missing: apt-get install time" >&2; exit 1; }

"$discemu" --version >/dev/null   # build once, outside the timings

# make_tree N: the first N files and symbolic links of /usr/share (sorted), copied once with their directories.
make_tree() {
  local n=$1 dir="$work/tree-$1"
  if [ ! -d "$dir" ]; then
    echo "copying $n entries of /usr/share to $dir..." >&2
    mkdir -p "$dir.tmp"
    (cd / && find usr/share -xdev \( -type f -o -type l \) -readable 2>/dev/null | LC_ALL=C sort | head -n "$n" \
      | tar -cf - --no-recursion -T - 2>/dev/null) | tar -xf - -C "$dir.tmp"
    mv "$dir.tmp" "$dir"
  fi
  echo "$dir"
}

# measure CMD...: best wall time of $runs runs, the best CPU time (user + sys) and the lowest peak RSS (KiB) of
# those runs; the output is deleted before each run.
measure() {
  local best="" cpu="" rss="" t u s r c
  for ((k = 0; k < runs; k++)); do
    rm -f "$work"/out.*
    /usr/bin/time -f "%e %U %S %M" -o "$work/time.txt" "$@" >/dev/null 2>"$work/err.txt" || { cat "$work/err.txt" >&2; return 1; }
    read -r t u s r < "$work/time.txt"
    c=$(awk "BEGIN{printf \"%.2f\", $u + $s}")
    if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; fi
    if [ -z "$cpu" ] || awk "BEGIN{exit !($c < $cpu)}"; then cpu=$c; fi
    if [ -z "$rss" ] || [ "$r" -lt "$rss" ]; then rss=$r; fi
  done
  echo "$best $cpu $rss"
}

listing() { xorriso -indev "$1" -find / -exec lsdl 2>/dev/null | awk '{ $2=""; $6=""; $7=""; $8=""; print }' | LC_ALL=C sort; }

printf '| files | dirs | largest dir | MiB | discemu s | xorriso s | ratio | discemu CPU s | xorriso CPU s | CPU ratio | discemu RSS MiB | xorriso RSS MiB | same tree |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n'
for n in "${sizes[@]}"; do
  tree=$(make_tree "$n")
  dirs=$(find "$tree" -type d | wc -l)
  largest=$(find "$tree" -mindepth 1 -printf '%h\n' | sort | uniq -c | sort -rn | awk 'NR == 1 { print $1 }')
  mib=$(du -sm "$tree" | cut -f1)
  find "$tree" -type f -exec cat {} + > /dev/null   # page cache hot for both tools
  read -r dt dc dr < <(measure "$discemu" mkiso -quiet -o "$work/out.discemu.iso" "$tree")
  cp "$work/out.discemu.iso" "$work/keep.discemu.iso"
  read -r xt xc xr < <(measure xorriso -as mkisofs -quiet -R -J -o "$work/out.xorriso.iso" "$tree")
  same=no
  [ "$(listing "$work/keep.discemu.iso" | md5sum)" = "$(listing "$work/out.xorriso.iso" | md5sum)" ] && same=yes
  rm -f "$work"/out.* "$work/keep.discemu.iso"
  ratio=$(awk "BEGIN{printf \"%.2f\", $xt / ($dt > 0 ? $dt : 0.01)}")
  cratio=$(awk "BEGIN{printf \"%.2f\", $xc / ($dc > 0 ? $dc : 0.01)}")
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$n" "$dirs" "$largest" "$mib" "$dt" "$xt" "$ratio" "$dc" "$xc" "$cratio" \
    $((dr >> 10)) $((xr >> 10)) "$same"
done
