using System.Buffers.Binary;
using static Discemu.Formats.Qcow2.Qcow2Constants;

namespace Discemu.Formats.Qcow2;

/// <summary>
/// Creating, applying and deleting internal snapshots (what <c>qemu-img snapshot -c/-a/-d</c> do).
/// </summary>
/// <remarks>
/// Reference counts follow the spec's rule: every L1 table (the active one and each snapshot's) counts once for
/// each L2 table it reaches and once for each cluster those tables reach, shared tables included. Each change is
/// ordered so that a crash part-way can only leak clusters (refcounts too high, which <c>check -r leaks</c>
/// repairs), never leave a reachable cluster with too low a count: increments are written before the tables
/// that need them are published in the header, and decrements only after the header stops naming what they drop.
/// </remarks>
public sealed partial class Qcow2Image
{
    /// <inheritdoc/>
    public SnapshotInfo CreateSnapshot(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        RequireWritableForSnapshots();
        if (name.Length == 0) throw new BadArgumentException("A snapshot needs a name.", Path);
        if (System.Text.Encoding.UTF8.GetByteCount(name) > ushort.MaxValue) throw new BadArgumentException("The snapshot name is longer than 65535 bytes.", Path);
        lock (_lock)
        {
            if (_snapshots.Count >= MaxSnapshots) throw new UnsupportedFeatureException($"The image already has {MaxSnapshots} snapshots, the most the format allows.", Path);
            FlushLocked(durable: true);

            // 1. One more reference to everything the active tables reach, so nothing of theirs has refcount one:
            //    their COPIED flags are cleared and written first (a flag missing only costs a copy on the next
            //    write; a flag left on a shared cluster would let a write change the snapshot), then the refcounts.
            var refs = CountReferences(_l1);
            CheckReferences(refs);
            RefreshCopiedFlags(clearAll: true);
            WriteBackMetadata();
            File.Flush();
            AddReferences(refs);

            // 2. The snapshot's copy of the L1 table.
            long l1Offset = _l1.Length == 0 ? 0 : WriteNewTable(_l1);

            // 3. The snapshot table with the new entry appended.
            string id = NextSnapshotId();
            var now = DateTimeOffset.UtcNow;
            long micros = now.ToUnixTimeMilliseconds() * 1000 + (now.Ticks / 10 % 1000);
            var entry = Qcow2SnapshotEntry.Encode(l1Offset, (uint)_l1.Length, id, name,
                seconds: (uint)(micros / 1_000_000), nanoseconds: (uint)(micros % 1_000_000 * 1000), diskSize: (ulong)_size);
            var entries = ReadSnapshotEntries();
            entries.Add(entry);
            PublishSnapshotTable(entries);
            return _snapshots[^1].Info;
        }
    }

    /// <inheritdoc/>
    public void DeleteSnapshot(string idOrName)
    {
        lock (_lock)
        {
            var (index, snapshot, l1) = BeginEdit(idOrName);
            var refs = CountReferences(l1);

            // The table stops naming the snapshot first; then its references are dropped.
            var entries = ReadSnapshotEntries();
            entries.RemoveAt(index);
            PublishSnapshotTable(entries);

            foreach (var (cluster, count) in refs) FreeClusterLater(cluster, count);
            FreeTableClusters(snapshot.L1Offset, snapshot.L1Size);
            ApplyPendingFrees();
            RefreshCopiedFlags();
            WriteBackMetadata();
            File.Flush();
        }
    }

    /// <inheritdoc/>
    public void ApplySnapshot(string idOrName)
    {
        lock (_lock)
        {
            var (_, snapshot, snapL1) = BeginEdit(idOrName);
            long size = snapshot.Info.VirtualSize;
            long needed = _layout.L1EntriesFor(size);
            if (needed > MaxL1Entries) throw new CorruptImageException($"Snapshot '{snapshot.Info.Name}' has a disk size too large for its cluster size.", Path);

            // 1. References for the tables about to become active, written before the header points at them.
            AddReferences(CountReferences(snapL1));
            var l1 = new ulong[Math.Max(snapL1.Length, needed)];
            for (int i = 0; i < snapL1.Length; i++) l1[i] = snapL1[i] & ~EntryCopied;
            long l1Offset = l1.Length == 0 ? 0 : WriteNewTable(l1);
            WriteDirtyRefBlocks();
            File.Flush();

            // 2. The switch: size, L1 size and L1 offset in one write of the header.
            var oldL1 = _l1;
            long oldL1Offset = _header.L1TableOffset;
            var oldRefs = CountReferences(oldL1);
            Span<byte> b = stackalloc byte[24];
            BinaryPrimitives.WriteUInt64BigEndian(b, (ulong)size);
            BinaryPrimitives.WriteUInt32BigEndian(b[8..], _header.CryptMethod);
            BinaryPrimitives.WriteUInt32BigEndian(b[12..], (uint)l1.Length);
            BinaryPrimitives.WriteUInt64BigEndian(b[16..], (ulong)l1Offset);
            File.Write(24, b);
            File.Flush();
            _header = _header with { Size = size, L1Size = (uint)l1.Length, L1TableOffset = l1Offset };
            _l1 = l1;
            _l1Dirty = false;
            Volatile.Write(ref _size, size);

            // 3. What only the old active tables reached is given back.
            foreach (var (cluster, count) in oldRefs) FreeClusterLater(cluster, count);
            FreeTableClusters(oldL1Offset, (uint)oldL1.Length);
            ApplyPendingFrees();
            RefreshCopiedFlags();
            WriteBackMetadata();
            File.Flush();
        }
    }

    private void RequireWritableForSnapshots()
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if (!CanWrite) throw new NotSupportedException("The device is read-only.");
    }

    /// <summary>Finds the snapshot to apply or delete, makes all pending changes durable and reads its L1 table. Caller holds the lock.</summary>
    private (int Index, Qcow2Snapshot Snapshot, ulong[] L1) BeginEdit(string idOrName)
    {
        ArgumentNullException.ThrowIfNull(idOrName);
        RequireWritableForSnapshots();
        int index = FindSnapshot(idOrName);
        FlushLocked(durable: true);
        var snapshot = _snapshots[index];
        return (index, snapshot, ReadSnapshotL1(snapshot));
    }

    /// <summary>The index of the snapshot whose id, else whose name, is <paramref name="idOrName"/> (as qemu looks them up).</summary>
    private int FindSnapshot(string idOrName)
    {
        int i = _snapshots.FindIndex(s => s.Info.Id == idOrName);
        if (i < 0) i = _snapshots.FindIndex(s => s.Info.Name == idOrName);
        return i >= 0 ? i : throw new BadArgumentException($"No snapshot with id or name '{idOrName}'.", Path);
    }

    /// <summary>One more than the largest numeric id in use.</summary>
    private string NextSnapshotId()
    {
        ulong max = 0;
        foreach (var s in _snapshots)
            if (ulong.TryParse(s.Info.Id, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out ulong n) && n > max) max = n;
        return (max + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// How many references each host cluster gets from <paramref name="l1"/>: one for each L2 table and one for
    /// each data cluster (or cluster a compressed extent touches) those tables name. Caller holds the lock.
    /// </summary>
    /// <exception cref="CorruptImageException">A table or cluster offset lies outside the file.</exception>
    private Dictionary<long, ulong> CountReferences(ulong[] l1)
    {
        var refs = new Dictionary<long, ulong>();
        long fileLength = File.Length;
        int bits = _layout.ClusterBits;
        foreach (ulong l1e in l1)
        {
            long l2 = Qcow2Layout.L2Offset(l1e);
            if (l2 == 0) continue;
            var words = GetL2(l2).Words;
            Add(l2 >> bits);
            for (int i = 0; i < words.Length; i += _layout.L2Words)
            {
                ulong e = words[i];
                if ((e & EntryCompressed) != 0)
                {
                    var (first, last) = _layout.CompressedClusters(e);
                    if (last >= (fileLength + _layout.ClusterMask) >> bits) throw new CorruptImageException("A compressed cluster lies outside the file.", Path);
                    for (long c = first; c <= last; c++) Add(c);
                    continue;
                }
                long host = Qcow2Layout.HostOffset(e);
                if (host == 0) continue;
                if ((host & _layout.ClusterMask) != 0 || host >= fileLength)
                    throw new CorruptImageException($"Data cluster offset 0x{host:x} is misaligned or outside the file.", Path);
                Add(host >> bits);
            }
        }
        return refs;

        void Add(long cluster) => refs[cluster] = refs.GetValueOrDefault(cluster) + 1;
    }

    /// <summary>Adds <paramref name="refs"/> to the refcounts, after checking that none would overflow. Caller holds the lock.</summary>
    /// <exception cref="UnsupportedFeatureException">A refcount would exceed what the image's refcount width holds.</exception>
    /// <exception cref="CorruptImageException">A referenced cluster has refcount zero.</exception>
    private void AddReferences(Dictionary<long, ulong> refs)
    {
        CheckReferences(refs);
        foreach (var (cluster, count) in refs) SetRefcount(cluster, GetRefcount(cluster) + count);
    }

    /// <summary>Checks that <paramref name="refs"/> can be added to the refcounts. Caller holds the lock.</summary>
    /// <exception cref="UnsupportedFeatureException">A refcount would exceed what the image's refcount width holds.</exception>
    /// <exception cref="CorruptImageException">A referenced cluster has refcount zero.</exception>
    private void CheckReferences(Dictionary<long, ulong> refs)
    {
        ulong max = _layout.MaxRefcount;
        foreach (var (cluster, count) in refs)
        {
            ulong v = GetRefcount(cluster);
            if (v == 0) throw new CorruptImageException($"Cluster {cluster} is in use but has refcount 0 (check -r all repairs this).", Path);
            if (count > max - v) throw new UnsupportedFeatureException($"Refcounts of {_header.RefcountBits} bits cannot count another reference to cluster {cluster}.", Path);
        }
    }

    /// <summary>
    /// Sets COPIED on exactly the active L1 and L2 entries whose cluster has refcount one, or with
    /// <paramref name="clearAll"/> clears it on all of them. Caller holds the lock.
    /// </summary>
    private void RefreshCopiedFlags(bool clearAll = false)
    {
        for (int i = 0; i < _l1.Length; i++)
        {
            ulong l1e = _l1[i];
            long l2 = Qcow2Layout.L2Offset(l1e);
            if (l2 == 0) continue;
            ulong updated = !clearAll && GetRefcount(l2 >> _layout.ClusterBits) == 1 ? l1e | EntryCopied : l1e & ~EntryCopied;
            if (updated != l1e) { _l1[i] = updated; _l1Dirty = true; }
            var table = GetL2(l2);
            if (clearAll ? ClearCopiedFlags(table.Words) : RecomputeCopiedFlags(table.Words)) _l2Cache.MarkDirty(table);
        }
    }

    /// <summary>Clears COPIED on every entry of an L2 table; true when one was set.</summary>
    private bool ClearCopiedFlags(ulong[] words)
    {
        bool changed = false;
        for (int i = 0; i < words.Length; i += _layout.L2Words)
        {
            changed |= (words[i] & EntryCopied) != 0;
            words[i] &= ~EntryCopied;
        }
        return changed;
    }

    /// <summary>Writes <paramref name="table"/> to newly allocated clusters and returns their offset. Caller holds the lock.</summary>
    private long WriteNewTable(ulong[] table)
    {
        long clusters = (table.Length * 8L + _layout.ClusterMask) >> _layout.ClusterBits;
        long offset = AllocateClusters(clusters) << _layout.ClusterBits;
        var raw = new byte[clusters << _layout.ClusterBits];
        Qcow2Layout.EncodeWords(table, raw);
        File.Write(offset, raw);
        return offset;
    }

    private void FreeTableClusters(long offset, uint entries)
    {
        if (offset == 0 || entries == 0) return;
        long clusters = (entries * 8L + _layout.ClusterMask) >> _layout.ClusterBits;
        for (long c = 0; c < clusters; c++) FreeClusterLater((offset >> _layout.ClusterBits) + c);
    }

    /// <summary>The snapshot table as it is on disk, one byte array per entry (padding included), unknown extra data kept.</summary>
    private List<byte[]> ReadSnapshotEntries()
    {
        var entries = new List<byte[]>(_snapshots.Count);
        if (_snapshotTableBytes == 0) return entries;
        var raw = new byte[_snapshotTableBytes];
        ReadHost(_header.SnapshotsOffset, raw);
        for (int pos = 0; pos < raw.Length;)
        {
            int length = Qcow2SnapshotEntry.DiskLengthOf(raw.AsSpan(pos), Path);
            entries.Add(raw.AsSpan(pos, length).ToArray());
            pos += length;
        }
        return entries;
    }

    /// <summary>
    /// Writes <paramref name="entries"/> as the new snapshot table in fresh clusters, makes every metadata change
    /// so far durable, switches the header to the new table in one write, then frees the old table's clusters and
    /// reloads the list. Caller holds the lock.
    /// </summary>
    private void PublishSnapshotTable(List<byte[]> entries)
    {
        long bytes = entries.Sum(e => (long)e.Length);
        if (bytes > Qcow2Metadata.MaxSnapshotTableBytes) throw new UnsupportedFeatureException("The snapshot table would be larger than 64 MiB.", Path);
        long offset = 0;
        if (bytes > 0)
        {
            long clusters = (bytes + _layout.ClusterMask) >> _layout.ClusterBits;
            offset = AllocateClusters(clusters) << _layout.ClusterBits;
            var raw = new byte[clusters << _layout.ClusterBits];
            int pos = 0;
            foreach (var e in entries) { e.CopyTo(raw, pos); pos += e.Length; }
            File.Write(offset, raw);
        }
        WriteBackMetadata();
        File.Flush();

        long oldOffset = _header.SnapshotsOffset, oldBytes = _snapshotTableBytes;
        Span<byte> b = stackalloc byte[12];
        BinaryPrimitives.WriteUInt32BigEndian(b, (uint)entries.Count);
        BinaryPrimitives.WriteUInt64BigEndian(b[4..], (ulong)offset);
        File.Write(60, b);
        File.Flush();
        _header = _header with { SnapshotCount = (uint)entries.Count, SnapshotsOffset = offset };

        if (oldOffset != 0 && oldBytes > 0)
        {
            long clusters = (oldBytes + _layout.ClusterMask) >> _layout.ClusterBits;
            for (long c = 0; c < clusters; c++) FreeClusterLater((oldOffset >> _layout.ClusterBits) + c);
            ApplyPendingFrees();
            File.Flush();
        }
        LoadSnapshots(File.Length);
    }
}
