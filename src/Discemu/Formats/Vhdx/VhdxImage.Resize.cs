using static Discemu.Formats.Vhdx.VhdxConstants;

namespace Discemu.Formats.Vhdx;

public sealed partial class VhdxImage
{
    /// <summary>
    /// Grows the disk (relocating the BAT when its region is too small), or shrinks it, dropping the blocks
    /// past the new end and truncating the file when its tail is no longer used. The new size and the BAT
    /// changes are committed through the log in one entry.
    /// </summary>
    /// <exception cref="BadArgumentException">The size is not a multiple of the logical sector size, or is too large.</exception>
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
                ZeroGrownArea(layout, oldLength, newLength);
            }
            _metadata.SetVirtualSize(newLength);
            CommitMetadata();
            lock (_metaLock)
            {
                Volatile.Write(ref _layout, next);
                Volatile.Write(ref _size, newLength);
            }
            if (newLength < oldLength) TrimFile();
        }
    }

    /// <summary>
    /// Makes the bytes past the old end read as zeros once the new size is committed (in the same log entry
    /// where the log is large enough): the rest of the last old block may hold stale data, and a
    /// differencing image's parent may be longer than the old disk. Caller holds the allocation lock.
    /// </summary>
    private void ZeroGrownArea(VhdxLayout layout, long oldLength, long newLength)
    {
        long bs = layout.BlockSize;
        long blockEnd = Math.Min(newLength, AlignUp(oldLength, bs));
        if (blockEnd > oldLength)
        {
            long block = oldLength / bs;
            ZeroBlockLocked(block, oldLength - block * bs, blockEnd - oldLength, mayUnmap: true);
        }
        if (!_metadata.HasParent || _parent is not { } parent) return;
        long zeroEnd = Math.Min(newLength, parent.Length);
        for (long b = CeilDiv(oldLength, bs); b * bs < zeroEnd; b++)
        {
            // Whole blocks, even the last one: nothing past the new end is ever read.
            ZeroBlockLocked(b, 0, bs, mayUnmap: true);
        }
    }

    /// <summary>
    /// Drops the blocks past the new end (their space is returned to the host after the commit) and zeroes
    /// the tail of the last kept block. Caller holds the allocation lock.
    /// </summary>
    private void ShrinkBlocks(VhdxLayout layout, VhdxLayout next)
    {
        for (long b = next.PayloadBlocks; b < layout.PayloadBlocks; b++)
        {
            long index = layout.PayloadIndex(b);
            ulong e = _bat[index];
            if (e == 0) continue;
            ReserveLogRoom(2);
            if (VhdxLayout.IsPresent(VhdxLayout.State(e))) _pendingPunches.Add((VhdxLayout.Offset(e), layout.BlockSize));
            SetEntry(index, 0);
        }
        for (long c = next.BitmapBlocks; c < layout.BitmapBlocks; c++)
        {
            long index = layout.BitmapIndex(c);
            if (index >= _bat.Length || VhdxLayout.State(_bat[index]) != BitmapPresent) continue;
            ReserveLogRoom(2);
            _pendingPunches.Add((VhdxLayout.Offset(_bat[index]), BitmapBlockSize));
            SetEntry(index, 0);
        }
        long keptEnd = next.PayloadBlocks * layout.BlockSize;
        if (next.VirtualSize < keptEnd)
        {
            long last = next.PayloadBlocks - 1;
            ulong e = _bat[layout.PayloadIndex(last)];
            long within = next.VirtualSize - last * layout.BlockSize;
            if (VhdxLayout.IsPresent(VhdxLayout.State(e))) _file.Zero(VhdxLayout.Offset(e) + within, layout.BlockSize - within, punch: true);
        }
    }

    /// <summary>
    /// Truncates the file after the last structure or block still in use, when blocks at its end were
    /// dropped (the BAT no longer points there: the commit came first). Caller holds the allocation lock.
    /// </summary>
    private void TrimFile()
    {
        var layout = _layout;
        long end = StructuresEnd();
        for (long b = 0; b < layout.PayloadBlocks; b++)
        {
            ulong e = _bat[layout.PayloadIndex(b)];
            if (VhdxLayout.IsPresent(VhdxLayout.State(e))) end = Math.Max(end, VhdxLayout.Offset(e) + layout.BlockSize);
        }
        for (long c = 0; c < layout.BitmapBlocks; c++)
        {
            long index = layout.BitmapIndex(c);
            if (index < _bat.Length && VhdxLayout.State(_bat[index]) == BitmapPresent) end = Math.Max(end, VhdxLayout.Offset(_bat[index]) + BitmapBlockSize);
        }
        end = AlignUp(end, MiB);
        if (end < _file.Length)
        {
            _file.SetLength(end);
            _fileEnd = end;
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
