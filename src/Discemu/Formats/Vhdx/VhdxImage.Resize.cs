using static Discemu.Formats.Vhdx.VhdxConstants;

namespace Discemu.Formats.Vhdx;

public sealed partial class VhdxImage
{
    /// <summary>
    /// Grows the disk (relocating the BAT when its region is too small), or shrinks it when no block past
    /// the new end holds data. The new size and BAT changes are committed through the log in one entry.
    /// </summary>
    /// <exception cref="BadArgumentException">The size is not a multiple of the logical sector size, is too large, or shrinking would drop data.</exception>
    protected override void ResizeCore(long newLength)
    {
        var layout = Layout;
        if (newLength % layout.LogicalSectorSize != 0)
            throw new BadArgumentException($"The size must be a multiple of the logical sector size ({layout.LogicalSectorSize} bytes).", Path);
        if (newLength > MaxVirtualSize) throw new BadArgumentException("Image size too large; max of 64TB.", Path);
        long oldLength = layout.VirtualSize;
        if (newLength == oldLength) return;
        EnsureDataChange();
        lock (_allocLock)
        {
            if (HasPending) Commit();
            var next = new VhdxLayout(layout.BlockSize, layout.LogicalSectorSize, newLength);
            if (newLength < oldLength) ShrinkBlocks(layout, next);
            else
            {
                if (next.MinEntries * 8 > MaxBatBytes) throw new BadArgumentException("The size is too large for the block size.", Path);
                EnsureBatEntries(Math.Max(next.MinEntries, _metadata.HasParent ? next.FullEntries : 0));
            }
            _metadata.SetVirtualSize(newLength);
            CommitMetadata();
            lock (_metaLock)
            {
                Volatile.Write(ref _layout, next);
                Volatile.Write(ref _size, newLength);
            }
        }
        if (newLength > oldLength)
        {
            // Bytes past the old end must read as zeros: the rest of the last old block may hold stale
            // data, and a differencing image's parent may be longer than the old disk.
            long blockEnd = Math.Min(newLength, AlignUp(oldLength, layout.BlockSize));
            long zeroEnd = _parent is { } parent ? Math.Max(blockEnd, Math.Min(newLength, parent.Length)) : blockEnd;
            if (zeroEnd > oldLength) WriteZeroesCore(oldLength, zeroEnd - oldLength, mayUnmap: false);
        }
    }

    /// <summary>Refuses to drop blocks that hold data; resets the entries past the new end and zeroes the tail of the last kept block. Caller holds the allocation lock.</summary>
    private void ShrinkBlocks(VhdxLayout layout, VhdxLayout next)
    {
        for (long b = next.PayloadBlocks; b < layout.PayloadBlocks; b++)
        {
            int state = VhdxLayout.State(_bat[layout.PayloadIndex(b)]);
            if (VhdxLayout.IsPresent(state))
                throw new BadArgumentException($"Cannot shrink to {next.VirtualSize} bytes: block {b} past the new end holds data (only an unused tail can be dropped).", Path);
        }
        for (long b = next.PayloadBlocks; b < layout.PayloadBlocks; b++)
        {
            long index = layout.PayloadIndex(b);
            if (_bat[index] == 0) continue;
            ReserveLogRoom(2);
            SetEntry(index, 0);
        }
        long keptEnd = next.PayloadBlocks * layout.BlockSize;
        if (next.VirtualSize < keptEnd)
        {
            long last = next.PayloadBlocks - 1;
            ulong e = _bat[layout.PayloadIndex(last)];
            long within = next.VirtualSize - last * layout.BlockSize;
            if (VhdxLayout.State(e) == PayloadFullyPresent || VhdxLayout.State(e) == PayloadPartiallyPresent)
                _file.Zero(VhdxLayout.Offset(e) + within, layout.BlockSize - within, punch: false);
        }
    }

    /// <summary>
    /// Moves the BAT to a larger region at the end of the file: the copy is written first (nothing points
    /// at it yet), then both region tables are switched through the log. Caller holds the allocation lock.
    /// </summary>
    private void RelocateBat(long entries)
    {
        long length = AlignUp(Math.Max(entries * 8, _batRegion.Length * 2), MiB);
        if (length > MaxBatBytes || length > uint.MaxValue / 2) throw new UnsupportedFeatureException("The BAT would be larger than Discemu supports.", Path);
        long host = AllocateSpace(length);
        var buffer = new byte[Math.Min(_batRegion.Length, 4 * MiB)];
        for (long done = 0; done < _batRegion.Length;)
        {
            int n = (int)Math.Min(buffer.Length, _batRegion.Length - done);
            _file.Read(_batRegion.FileOffset + done, buffer.AsSpan(0, n));
            _file.Write(host + done, buffer.AsSpan(0, n));
            done += n;
        }
        var moved = new VhdxRegion(BatRegion, host, length, true);
        var table = VhdxRegionTable.Create(_regions.Regions.Select(r => r.Id == BatRegion ? moved : r));
        var bytes = table.ToBytes();
        var pages = new List<(long, byte[])>();
        var old = new byte[RegionTableSize];
        foreach (long tableOffset in new[] { RegionTable1Offset, RegionTable2Offset })
        {
            _file.Read(tableOffset, old);
            for (int p = 0; p < RegionTableSize; p += LogSectorSize)
                if (!old.AsSpan(p, LogSectorSize).SequenceEqual(bytes.AsSpan(p, LogSectorSize)))
                    pages.Add((tableOffset + p, bytes.AsSpan(p, LogSectorSize).ToArray()));
        }
        ReserveLogRoom(pages.Count);
        Commit(pages);
        _regions = table;
        _batRegion = moved;
        _regionTableProblem = null;
    }
}
