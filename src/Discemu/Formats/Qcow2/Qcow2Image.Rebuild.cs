using static Discemu.Formats.Qcow2.Qcow2Constants;

namespace Discemu.Formats.Qcow2;

public sealed partial class Qcow2Image
{
    /// <summary>Largest number of host clusters a refcount rebuild counts in memory.</summary>
    private const long MaxRebuildClusters = 1L << 27;

    /// <summary>
    /// Recomputes every refcount from the metadata (header, L1/L2 tables of the active state and of
    /// every snapshot, snapshot table) and writes a fresh refcount table and blocks at the end of the
    /// file; then clears the dirty bit. Used when a dirty image (lazy refcounts) is opened for writing.
    /// Caller holds the lock.
    /// </summary>
    private void RebuildRefcounts()
    {
        long clusters = _endCluster;
        if (clusters > MaxRebuildClusters)
            throw new UnsupportedFeatureException("The image is dirty and too large to rebuild its refcounts in memory; repair it with qemu-img check -r all.", Path);
        var counts = new uint[clusters];
        int cb = _layout.ClusterBits;
        void Add(long hostOffset, long bytes)
        {
            if (bytes <= 0) return;
            long firstCluster = hostOffset >> cb, lastCluster = (hostOffset + bytes - 1) >> cb;
            for (long c = firstCluster; c <= lastCluster; c++)
            {
                if (c < 0 || c >= counts.Length) throw new CorruptImageException($"Metadata points past the end of the file (cluster {c}).", Path);
                counts[c]++;
            }
        }
        Add(0, _layout.ClusterSize);
        if (_header.SnapshotCount > 0) Add(_header.SnapshotsOffset, _snapshotTableBytes);
        CountTree(_l1, _header.L1TableOffset, Add);
        foreach (var s in _snapshots) CountTree(ReadSnapshotL1(s), s.L1Offset, Add);

        _l2Cache.Clear();
        _refBlocks.Clear();
        _pendingFrees.Clear();
        long entriesPerBlock = _layout.RefcountBlockEntries;
        long start = clusters;
        long usedBlocks = (clusters + entriesPerBlock - 1) / entriesPerBlock;
        var hasCounts = new bool[usedBlocks];
        for (long c = 0; c < clusters; c++) if (counts[c] != 0) hasCounts[c / entriesPerBlock] = true;
        // Every block in the region is new; blocks below it are needed only where something is counted.
        var (entries, tableClusters, regionBlocks) = PlanRefcountRegion(start, usedBlocks * 2 + 8, _ => false);
        var table = new ulong[entries];
        var blockClusters = new List<long>();
        for (long b = 0; b < usedBlocks; b++) if (hasCounts[b] && !regionBlocks.Contains(b)) blockClusters.Add(b);
        blockClusters.AddRange(regionBlocks);
        blockClusters.Sort();
        long next = start + tableClusters;
        // Blocks for ranges below the region must also not collide: they are placed after the table.
        var placement = new Dictionary<long, long>();
        foreach (long b in blockClusters) placement[b] = next++;
        // Placing extra blocks may extend the region into new block ranges: plan again until stable.
        while (true)
        {
            bool added = false;
            for (long b = start >> _layout.RefcountBlockBits; b <= (next - 1) >> _layout.RefcountBlockBits; b++)
            {
                if (placement.ContainsKey(b)) continue;
                placement[b] = next++;
                added = true;
            }
            if (!added) break;
        }
        if (((next - 1) >> _layout.RefcountBlockBits) >= entries)
            throw new UnsupportedFeatureException("The rebuilt refcount table does not fit; repair the image with qemu-img check -r all.", Path);
        _refTable = table;
        foreach (var (b, cluster) in placement)
        {
            var block = new Qcow2RefBlock(cluster << cb, new byte[_layout.ClusterSize]) { Dirty = true };
            _refBlocks[b] = block;
            table[b] = (ulong)block.HostOffset;
        }
        _endCluster = clusters;
        NoteAllocated(next);
        for (long c = 0; c < clusters; c++) if (counts[c] != 0) SetRefcount(c, counts[c]);
        for (long c = start; c < next; c++) SetRefcount(c, 1);
        WriteDirtyRefBlocks(includeTable: false);
        File.Flush();
        WriteRefTable(start << cb, tableClusters);
        File.Flush();
        _freeHint = 0;
        WriteIncompatibleFeatures(_header.IncompatibleFeatures & ~IncompatDirty);
        File.Flush();
    }

    /// <summary>Counts the references of one L1 table and everything below it.</summary>
    private void CountTree(ulong[] l1, long l1Offset, Action<long, long> add)
    {
        if (l1.Length > 0) add(l1Offset, l1.Length * 8L);
        var layout = _layout;
        foreach (ulong l1e in l1)
        {
            long l2 = Qcow2Layout.L2Offset(l1e);
            if (l2 == 0) continue;
            add(l2, layout.ClusterSize);
            var words = GetL2(l2).Words;
            for (int i = 0; i < words.Length; i += layout.L2Words)
            {
                ulong e = words[i];
                if ((e & EntryCompressed) != 0)
                {
                    var (first, last) = layout.CompressedClusters(e);
                    for (long c = first; c <= last; c++) add(c << layout.ClusterBits, 1);
                    continue;
                }
                long host = Qcow2Layout.HostOffset(e);
                if (host != 0) add(CheckDataOffset(host), layout.ClusterSize);
            }
        }
    }
}
