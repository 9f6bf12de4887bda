using static Discemu.Formats.Qcow2.Qcow2Constants;

namespace Discemu.Formats.Qcow2;

public sealed partial class Qcow2Image
{
    /// <inheritdoc/>
    protected override void FlushCore()
    {
        lock (_lock) FlushLocked(durable: true);
    }

    /// <summary>
    /// Writes the metadata in crash-safe order: data and refcount increments first, then L2 tables,
    /// then the L1 table; only then are freed clusters given back. With <paramref name="durable"/>
    /// the file is synced after each stage (power-loss safety); without it the write order alone
    /// protects against a killed process.
    /// </summary>
    private void FlushLocked(bool durable)
    {
        WriteBackMetadata();
        if (durable) File.Flush();
        if (_pendingFrees.Count > 0)
        {
            ApplyPendingFrees();
            if (durable) File.Flush();
        }
    }

    /// <summary>Writes dirty refcount blocks, then dirty L2 tables, then the L1 table. Caller holds the lock.</summary>
    private void WriteBackMetadata()
    {
        WriteDirtyRefBlocks();
        var dirty = _l2Cache.DirtyTables();
        if (dirty.Count > 0)
        {
            var raw = new byte[_layout.ClusterSize];
            foreach (var table in dirty)
            {
                Qcow2Layout.EncodeWords(table.Words, raw);
                File.Write(table.HostOffset, raw);
                _l2Cache.MarkClean(table);
            }
        }
        if (_l1Dirty) WriteL1();
    }

    private void WriteL1()
    {
        if (_l1.Length > 0)
        {
            var raw = new byte[_l1.Length * 8L];
            Qcow2Layout.EncodeWords(_l1, raw);
            File.Write(_header.L1TableOffset, raw);
        }
        _l1Dirty = false;
    }

    /// <summary>Work done once when an image is opened for writing.</summary>
    private void PrepareForWriting()
    {
        lock (_lock)
        {
            if (_header.Dirty)
            {
                // Not closed cleanly (lazy refcounts): recount every reference, then reload.
                Qcow2Checker.RebuildRefcounts(File, Path);
                InvalidateCaches();
            }
            if (_header.AutoclearFeatures != 0)
            {
                // Features this driver does not maintain (such as bitmaps) are marked stale, per the spec.
                _header = _header with { AutoclearFeatures = 0 };
                WriteHeaderArea();
                File.Flush();
            }
        }
    }

    /// <summary>Flushes everything, trims the file's growth slack and clears the lazy-refcounts dirty bit.</summary>
    private void CloseForWriting()
    {
        lock (_lock)
        {
            FlushLocked(durable: false);
            if (_fileGrown)
            {
                long used = Math.Max(_openFileLength, UsedEnd());
                if (used < File.Length) File.Resize(used);
            }
            if (_dirtyBitSetByUs)
            {
                WriteIncompatibleFeatures(_header.IncompatibleFeatures & ~IncompatDirty);
                _dirtyBitSetByUs = false;
            }
        }
    }

    /// <summary>One past the last byte of the last cluster with a non-zero refcount.</summary>
    private long UsedEnd()
    {
        long entries = _layout.RefcountBlockEntries;
        for (long b = Math.Min(_refTable.Length, ((_endCluster - 1) >> _layout.RefcountBlockBits) + 1) - 1; b >= 0; b--)
        {
            var block = GetRefBlock(b);
            if (block is null) continue;
            for (long i = Math.Min(entries, _endCluster - b * entries) - 1; i >= 0; i--)
                if (_layout.GetRefcount(block.Data, i) != 0) return (b * entries + i + 1) << _layout.ClusterBits;
        }
        return _layout.ClusterSize;
    }
}
