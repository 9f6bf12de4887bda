using System.Buffers.Binary;

namespace Discemu.Formats.Qcow2;

/// <summary>One refcount block held in memory (raw big-endian bytes).</summary>
internal sealed class Qcow2RefBlock(long hostOffset, byte[] data)
{
    public long HostOffset { get; } = hostOffset;
    public byte[] Data { get; } = data;
    public bool Dirty { get; set; }
}

public sealed partial class Qcow2Image
{
    /// <summary>Bytes of refcount blocks kept in memory before clean ones are dropped.</summary>
    private const long RefBlockCacheBudget = 64L << 20;

    /// <summary>The file grows in steps of this many bytes (trimmed on close).</summary>
    private const long FileGrowthStep = 8L << 20;

    private readonly Dictionary<long, Qcow2RefBlock> _refBlocks = [];
    private readonly Dictionary<long, ulong> _pendingFrees = [];
    private ulong[] _refTable;
    private bool _refTableDirty;
    private long _freeHint;
    private long _endCluster;
    private long _openFileLength;
    private bool _fileGrown;

    private void LoadRefcountTable(long fileLength)
    {
        var h = _header;
        long bytes = (long)h.RefcountTableClusters << h.ClusterBits;
        if (h.RefcountTableOffset == 0 || h.RefcountTableOffset > fileLength - bytes)
            throw new CorruptImageException("The refcount table lies outside the file.", Path);
        var raw = new byte[bytes];
        File.Read(h.RefcountTableOffset, raw);
        _refTable = new ulong[bytes / 8];
        Qcow2Layout.DecodeWords(raw, _refTable);
        _refTableDirty = false;
    }

    private void InitializeAllocator(long fileLength)
    {
        _openFileLength = fileLength;
        _endCluster = (fileLength + _layout.ClusterMask) >> _layout.ClusterBits;
        _freeHint = 0;
        _compressedCursor = 0;
    }

    /// <summary>The refcount block for table index <paramref name="index"/>, or null when none is allocated. Caller holds the lock.</summary>
    private Qcow2RefBlock? GetRefBlock(long index)
    {
        if (index >= _refTable.Length) return null;
        if (_refBlocks.TryGetValue(index, out var block)) return block;
        long offset = (long)(_refTable[index] & Qcow2Constants.RefcountTableOffsetMask);
        if (offset == 0) return null;
        if ((offset & _layout.ClusterMask) != 0 || offset > File.Length - _layout.ClusterSize)
            throw new CorruptImageException($"Refcount block offset 0x{offset:x} is misaligned or outside the file.", Path);
        if (_refBlocks.Count * (long)_layout.ClusterSize >= RefBlockCacheBudget) TrimRefBlockCache();
        var data = new byte[_layout.ClusterSize];
        File.Read(offset, data);
        block = new Qcow2RefBlock(offset, data);
        _refBlocks[index] = block;
        return block;
    }

    private void TrimRefBlockCache()
    {
        WriteDirtyRefBlocks();
        _refBlocks.Clear();
    }

    /// <summary>The refcount of host cluster <paramref name="cluster"/>. Caller holds the lock.</summary>
    internal ulong GetRefcount(long cluster)
    {
        lock (_lock)
        {
            var block = GetRefBlock(cluster >> _layout.RefcountBlockBits);
            return block is null ? 0 : _layout.GetRefcount(block.Data, cluster & (_layout.RefcountBlockEntries - 1));
        }
    }

    private void SetRefcount(long cluster, ulong value)
    {
        var block = GetRefBlock(cluster >> _layout.RefcountBlockBits)
            ?? throw new InvalidOperationException("Refcount block missing for a cluster being updated.");
        _layout.SetRefcount(block.Data, cluster & (_layout.RefcountBlockEntries - 1), value);
        block.Dirty = true;
    }

    /// <summary>Records that one reference to <paramref name="cluster"/> is gone; applied after the metadata that dropped it is written.</summary>
    private void FreeClusterLater(long cluster, ulong count = 1)
    {
        _pendingFrees[cluster] = _pendingFrees.GetValueOrDefault(cluster) + count;
    }

    /// <summary>Frees the clusters a compressed descriptor touches.</summary>
    private void FreeCompressedLater(ulong entry)
    {
        var (first, last) = _layout.CompressedClusters(entry);
        for (long c = first; c <= last; c++) FreeClusterLater(c);
    }

    /// <summary>Frees whatever an L2 entry references (a host cluster or compressed extent).</summary>
    private void FreeEntryLater(ulong entry)
    {
        if ((entry & Qcow2Constants.EntryCompressed) != 0) { FreeCompressedLater(entry); return; }
        long host = Qcow2Layout.HostOffset(entry);
        if (host != 0) FreeClusterLater(host >> _layout.ClusterBits);
    }

    private void ApplyPendingFrees()
    {
        if (_pendingFrees.Count == 0) return;
        foreach (var (cluster, count) in _pendingFrees.OrderBy(p => p.Key))
        {
            ulong v = GetRefcount(cluster);
            ulong nv = v > count ? v - count : 0;
            if (GetRefBlock(cluster >> _layout.RefcountBlockBits) is null) continue;
            SetRefcount(cluster, nv);
            if (nv == 0)
            {
                if (cluster < _freeHint) _freeHint = cluster;
                _l2Cache.Remove(cluster << _layout.ClusterBits);
            }
        }
        _pendingFrees.Clear();
        WriteDirtyRefBlocks();
    }

    /// <summary>
    /// Allocates <paramref name="count"/> contiguous free clusters (refcount 1); returns the first
    /// cluster index. Refcount blocks the run needs are placed right after it (and describe
    /// themselves when they fall in their own range). Caller holds the lock.
    /// </summary>
    private long AllocateClusters(long count)
    {
        int rbb = _layout.RefcountBlockBits;
        long extra = 0;
        var missing = new List<long>();
        while (true)
        {
            long start = FindFreeRun(count + extra);
            long end = start + count + extra;
            missing.Clear();
            for (long b = start >> rbb; b <= (end - 1) >> rbb; b++)
                if (b >= _refTable.Length || (_refTable[b] & Qcow2Constants.RefcountTableOffsetMask) == 0) missing.Add(b);
            if (missing.Count > extra)
            {
                extra = missing.Count;
                continue;
            }
            if (missing.Count > 0 && missing[^1] >= _refTable.Length)
            {
                GrowRefTable(missing[^1] + 1);
                continue;
            }
            long blockCluster = start + count;
            foreach (long b in missing)
            {
                var block = new Qcow2RefBlock(blockCluster << _layout.ClusterBits, new byte[_layout.ClusterSize]) { Dirty = true };
                _refBlocks[b] = block;
                _refTable[b] = (ulong)block.HostOffset;
                _refTableDirty = true;
                blockCluster++;
            }
            for (long c = start; c < blockCluster; c++) SetRefcount(c, 1);
            if (start == _freeHint) _freeHint = blockCluster;
            NoteAllocated(blockCluster);
            return start;
        }
    }

    private long FindFreeRun(long count)
    {
        long c = _freeHint, run = 0;
        long firstFree = -1;
        long entries = _layout.RefcountBlockEntries;
        while (run < count)
        {
            long cluster = c + run;
            long blockIndex = cluster >> _layout.RefcountBlockBits;
            var block = GetRefBlock(blockIndex);
            if (block is null)
            {
                // A missing block means a whole range of free clusters.
                if (firstFree < 0) firstFree = cluster;
                run += Math.Min(count - run, ((blockIndex + 1) * entries) - cluster);
                continue;
            }
            if (_layout.GetRefcount(block.Data, cluster & (entries - 1)) == 0)
            {
                if (firstFree < 0) firstFree = cluster;
                run++;
            }
            else
            {
                c = cluster + 1;
                run = 0;
            }
        }
        if (firstFree >= 0 && firstFree < c) _freeHint = firstFree;
        else _freeHint = c;
        return c;
    }

    /// <summary>Records that clusters below <paramref name="endCluster"/> are in use and makes the file long enough.</summary>
    private void NoteAllocated(long endCluster)
    {
        if (endCluster > _endCluster) _endCluster = endCluster;
        long needed = checked(endCluster << _layout.ClusterBits);
        if (needed > File.Length)
        {
            long target = Math.Max(needed, File.Length + FileGrowthStep);
            File.Resize(target);
            _fileGrown = true;
        }
    }

    /// <summary>
    /// Plans a refcount table of at least <paramref name="minEntries"/> entries placed at cluster
    /// <paramref name="start"/>, followed by the new refcount blocks it needs to describe itself.
    /// </summary>
    private (long Entries, long TableClusters, List<long> NewBlocks) PlanRefcountRegion(long start, long minEntries, Func<long, bool> hasBlock)
    {
        long perCluster = _layout.ClusterSize / 8;
        long entries = Math.Max(minEntries, 1);
        while (true)
        {
            entries = (entries + perCluster - 1) / perCluster * perCluster;
            long tableClusters = entries / perCluster;
            if (((long)tableClusters << _layout.ClusterBits) > Qcow2Constants.MaxRefcountTableBytes)
                throw new UnsupportedFeatureException("The refcount table would exceed 8 MiB; the image is too large for its cluster size and refcount width.", Path);
            var blocks = new List<long>();
            long count = 0;
            while (true)
            {
                long end = start + tableClusters + count;
                blocks.Clear();
                for (long b = start >> _layout.RefcountBlockBits; b <= (end - 1) >> _layout.RefcountBlockBits; b++)
                    if (!hasBlock(b)) blocks.Add(b);
                if (blocks.Count == count) break;
                count = blocks.Count;
            }
            long regionEnd = start + tableClusters + count;
            if (((regionEnd - 1) >> _layout.RefcountBlockBits) < entries) return (entries, tableClusters, blocks);
            entries *= 2;
        }
    }

    /// <summary>Moves the refcount table to the end of the file with room for <paramref name="minEntries"/> entries.</summary>
    private void GrowRefTable(long minEntries)
    {
        WriteDirtyRefBlocks();
        long start = _endCluster;
        var old = _refTable;
        long oldOffset = _header.RefcountTableOffset;
        long oldClusters = _header.RefcountTableClusters;
        var (entries, tableClusters, newBlocks) = PlanRefcountRegion(start, Math.Max(minEntries, old.Length * 2L),
            b => b < old.Length && (old[b] & Qcow2Constants.RefcountTableOffsetMask) != 0);
        var table = new ulong[entries];
        old.CopyTo(table, 0);
        long blockCluster = start + tableClusters;
        foreach (long b in newBlocks)
        {
            var block = new Qcow2RefBlock(blockCluster << _layout.ClusterBits, new byte[_layout.ClusterSize]) { Dirty = true };
            _refBlocks[b] = block;
            table[b] = (ulong)block.HostOffset;
            blockCluster++;
        }
        _refTable = table;
        NoteAllocated(blockCluster);
        for (long c = start; c < blockCluster; c++) SetRefcount(c, 1);
        WriteDirtyRefBlocks(includeTable: false);
        WriteRefTable(start << _layout.ClusterBits, tableClusters);
        for (long i = 0; i < oldClusters; i++) FreeClusterLater((oldOffset >> _layout.ClusterBits) + i);
    }

    /// <summary>Writes the whole refcount table at <paramref name="offset"/> and points the header at it.</summary>
    private void WriteRefTable(long offset, long clusters)
    {
        var raw = new byte[clusters << _layout.ClusterBits];
        Qcow2Layout.EncodeWords(_refTable, raw);
        File.Write(offset, raw);
        if (offset != _header.RefcountTableOffset || clusters != _header.RefcountTableClusters)
        {
            _header = _header with { RefcountTableOffset = offset, RefcountTableClusters = (uint)clusters };
            Span<byte> b = stackalloc byte[12];
            BinaryPrimitives.WriteUInt64BigEndian(b, (ulong)offset);
            BinaryPrimitives.WriteUInt32BigEndian(b[8..], (uint)clusters);
            File.Write(48, b);
        }
        _refTableDirty = false;
    }

    private void WriteDirtyRefBlocks(bool includeTable = true)
    {
        foreach (var block in _refBlocks.Values.Where(b => b.Dirty).OrderBy(b => b.HostOffset))
        {
            File.Write(block.HostOffset, block.Data);
            block.Dirty = false;
        }
        if (includeTable && _refTableDirty) WriteRefTableEntries();
    }

    private void WriteRefTableEntries()
    {
        var raw = new byte[_refTable.Length * 8L];
        Qcow2Layout.EncodeWords(_refTable, raw);
        File.Write(_header.RefcountTableOffset, raw);
        _refTableDirty = false;
    }
}
