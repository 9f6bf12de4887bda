# Sourced by bench/mount.sh and bench/mount-user.sh.
# make_big_iso WORK MIB: makes WORK/src/big.bin (MIB MiB of random bytes) and WORK/big-MIB.iso (xorriso, Rock
# Ridge, ISO level 3) unless both are there already; sets $big and $iso to their paths.
make_big_iso() {
  local work=$1 mib=$2
  big="$work/src/big.bin"
  iso="$work/big-$mib.iso"
  if [ ! -f "$iso" ] || [ "$(stat -c %s "$big" 2>/dev/null || echo 0)" -ne $((mib << 20)) ]; then
    echo "making $iso ($mib MiB file)..." >&2
    head -c $((mib << 20)) /dev/urandom > "$big"
    xorriso -as mkisofs -quiet -R -iso-level 3 -o "$iso" "$work/src" 2>/dev/null
  fi
}
