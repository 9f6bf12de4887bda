using System.Buffers;
using System.Buffers.Binary;
using static Discemu.Formats.Vhd.VhdConstants;

namespace Discemu.Formats.Vhd;

public sealed partial class VhdSparseImage
{
    /// <summary>Dirty bitmaps are written out once they add up to this many bytes (they are also written on flush).</summary>
    private const long DirtyBitmapBudget = 4L << 20;

    /// <summary>The host page size blocks are aligned to.</summary>
    private const int HostPage = 4096;

    private readonly HashSet<long> _busy = [];

    /// <inheritdoc/>
    protected override void WriteCore(long offset, ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            long block = offset >> _blockBits;
            int within = (int)(offset & (_blockSize - 1));
            int n = (int)Math.Min(data.Length, _blockSize - within);
            Acquire(block);
            try
            {
                var (start, bitmap) = AllocatedBlock(block);
                WriteInBlock(block, start, bitmap, within, offset, data[..n]);
            }
            finally { Release(block); }
            offset += n;
            data = data[n..];
        }
    }

    /// <summary>Marks a block busy (waiting while another writer has it).</summary>
    private void Acquire(long block)
    {
        lock (_lock)
        {
            while (!_busy.Add(block)) Monitor.Wait(_lock);
        }
    }

    private void Release(long block)
    {
        lock (_lock)
        {
            _busy.Remove(block);
            Monitor.PulseAll(_lock);
        }
    }

    /// <summary>The host start and bitmap of a block the caller holds busy, appending an empty block when it has none.</summary>
    private (long Start, byte[] Bitmap) AllocatedBlock(long block)
    {
        uint entry = Volatile.Read(ref _bat[block]);
        if (entry != Unallocated)
        {
            long start = BlockStart(block, entry);
            long blockEnd = start + _bitmapSize + _blockSize;
            if (blockEnd > File.Length)
                lock (_lock) GrowFile(blockEnd); // a block cut short by a crash: its missing tail reads as zeros
            return (start, GetBitmap(block, start));
        }
        return AppendBlock(block);
    }

    /// <summary>
    /// Appends an empty block where the footer is: its bitmap (all clear) goes over the old footer, the footer
    /// moves to the new end of the file, then the BAT entry points at the block. Caller holds the block busy.
    /// </summary>
    private (long Start, byte[] Bitmap) AppendBlock(long block)
    {
        var bitmap = new byte[_bitmapSize];
        long start = Reserve(_bitmapSize + (long)_blockSize, forBlock: true);
        File.Write(start, bitmap);
        lock (_lock)
        {
            WriteTailFooter();
            if ((long)(_bitmaps.Count + 1) * _bitmapSize > BitmapCacheBudget) EvictCleanBitmaps();
            _bitmaps[block] = bitmap;
            Span<byte> e = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(e, (uint)(start / SectorSize));
            File.Write(_header.TableOffset + block * 4, e);
            Volatile.Write(ref _bat[block], (uint)(start / SectorSize));
        }
        return (start, bitmap);
    }

    /// <summary>Claims <paramref name="bytes"/> (whole sectors) at the end of the file, where the footer is, and grows the file past them.</summary>
    /// <exception cref="UnsupportedFeatureException">A block would start past 2 TiB (BAT entries are 32-bit sector numbers).</exception>
    private long Reserve(long bytes, bool forBlock)
    {
        lock (_lock)
        {
            long start = _nextFree;
            // A block's data starts on a 4 KiB boundary (its bitmap in the sectors before), as Windows lays blocks
            // out: guest pages then match host pages, so holes punched in the file line up with the disk's.
            if (forBlock) start = (start + _bitmapSize + HostPage - 1) / HostPage * HostPage - _bitmapSize;
            if (forBlock && start / SectorSize >= Unallocated)
                throw new UnsupportedFeatureException("The VHD file cannot grow past 2 TiB: block offsets are 32-bit sector numbers.", Path);
            long oldFooter = _nextFree;
            _nextFree = checked(start + RoundUp(bytes));
            GrowFile(_nextFree + FooterSize);
            if (start > oldFooter) File.Write(oldFooter, new byte[FooterSize]); // no stale footer left in the padding
            return start;
        }
    }

    /// <summary>Makes the file at least <paramref name="length"/> bytes long (new bytes read as zeros). Caller holds the lock.</summary>
    private void GrowFile(long length)
    {
        if (File.Length < length) File.Resize(length);
    }

    /// <summary>Writes the footer at the end of the used space (and the copy at offset 0 when it is stale). Caller holds the lock.</summary>
    private void WriteTailFooter()
    {
        var bytes = _footer.ToBytes();
        GrowFile(_nextFree + FooterSize);
        File.Write(_nextFree, bytes);
        _tailDirty = false;
        if (_headDirty)
        {
            File.Write(0, bytes);
            _headDirty = false;
        }
    }

    /// <summary>Writes a changed footer: the copy at offset 0, then the footer at the end. Caller holds the lock.</summary>
    private void WriteFooters(VhdFooter footer)
    {
        _footer = footer;
        File.Write(0, footer.ToBytes());
        _headDirty = false;
        WriteTailFooter();
    }

    /// <summary>
    /// Writes <paramref name="data"/> at <paramref name="within"/> of an allocated block. Partial sectors this
    /// file does not hold yet are completed from below (the parent, or zeros) so the whole sector can be marked.
    /// </summary>
    private void WriteInBlock(long block, long start, byte[] bitmap, int within, long offset, ReadOnlySpan<byte> data)
    {
        long dataStart = start + _bitmapSize;
        int end = within + data.Length;
        int first = within >> 9, last = (end - 1) >> 9;
        bool partialHead = (within & 511) != 0 && !VhdBitmap.Get(bitmap, first);
        bool partialTail = (end & 511) != 0 && !VhdBitmap.Get(bitmap, last);
        if (!partialHead && !partialTail)
        {
            File.Write(dataStart + within, data);
        }
        else
        {
            int alignedStart = first << 9, alignedLength = (last + 1 - first) << 9;
            long guestStart = offset - within + alignedStart;
            byte[] buffer = ArrayPool<byte>.Shared.Rent(alignedLength);
            try
            {
                var span = buffer.AsSpan(0, alignedLength);
                FillSector(bitmap, first, dataStart + alignedStart, guestStart, span[..SectorSize]);
                if (last != first) FillSector(bitmap, last, dataStart + ((long)last << 9), guestStart + alignedLength - SectorSize, span[^SectorSize..]);
                data.CopyTo(span[(within - alignedStart)..]);
                File.Write(dataStart + alignedStart, span);
            }
            finally { ArrayPool<byte>.Shared.Return(buffer); }
        }
        SetBits(block, bitmap, first, last + 1);
    }

    /// <summary>The current content of one sector: from this file when present, else from below.</summary>
    private void FillSector(byte[] bitmap, int sector, long host, long guest, Span<byte> sectorBuffer)
    {
        if (VhdBitmap.Get(bitmap, sector)) ReadHost(host, sectorBuffer);
        else ReadBelow(guest, sectorBuffer);
    }

    /// <summary>Marks sectors present (in memory; written on flush). Caller holds the block busy.</summary>
    private void SetBits(long block, byte[] bitmap, int from, int to)
    {
        if (!VhdBitmap.Set(bitmap, from, to)) return;
        MarkDirty(block);
    }

    private void MarkDirty(long block)
    {
        lock (_lock)
        {
            _dirtyBitmaps.Add(block);
            if (_dirtyBitmaps.Count * (long)_bitmapSize > DirtyBitmapBudget) WriteDirtyBitmaps();
        }
    }

    /// <summary>Writes every dirty bitmap. Caller holds the lock.</summary>
    private void WriteDirtyBitmaps()
    {
        foreach (long block in _dirtyBitmaps)
        {
            if (!_bitmaps.TryGetValue(block, out var bitmap)) continue;
            uint entry = _bat[block];
            if (entry == Unallocated) continue;
            File.Write(entry * (long)SectorSize, bitmap);
        }
        _dirtyBitmaps.Clear();
    }

    /// <summary>Writes dirty bitmaps, then the footer if it moved or was damaged. Caller holds the lock.</summary>
    private void WriteBackMetadata()
    {
        WriteDirtyBitmaps();
        if (_tailDirty || _headDirty) WriteTailFooter();
    }

    /// <inheritdoc/>
    protected override void FlushCore()
    {
        lock (_lock) WriteBackMetadata();
        File.Flush();
    }

    /// <inheritdoc/>
    protected override void WriteZeroesCore(long offset, long length, bool mayUnmap) => ZeroRange(offset, length, mayUnmap);

    /// <summary>
    /// Discard makes the range read as zeros: in a dynamic disk its sectors are unmarked and their host bytes
    /// punched; in a differencing disk they are marked and zeroed, so the parent does not show through.
    /// </summary>
    protected override void DiscardCore(long offset, long length) => ZeroRange(offset, length, unmap: true);

    private void ZeroRange(long offset, long length, bool unmap)
    {
        long end = offset + length;
        while (offset < end)
        {
            long block = offset >> _blockBits;
            int within = (int)(offset & (_blockSize - 1));
            int n = (int)Math.Min(end - offset, _blockSize - within);
            Acquire(block);
            try { ZeroInBlock(block, within, offset, n, unmap); }
            finally { Release(block); }
            offset += n;
        }
    }

    private void ZeroInBlock(long block, int within, long offset, int length, bool unmap)
    {
        int firstWhole = (within + 511) >> 9, endWhole = (within + length) >> 9;
        bool differencing = IsDifferencing;
        uint entry = Volatile.Read(ref _bat[block]);
        if (entry == Unallocated && !differencing) return; // already reads as zeros
        if (firstWhole >= endWhole)
        {
            // Inside one sector (or across two partial ones): write literal zeros.
            WritePartialZeros(block, within, offset, length);
            return;
        }
        var (start, bitmap) = AllocatedBlock(block);
        long dataStart = start + _bitmapSize;
        int headBytes = (firstWhole << 9) - within, tailBytes = within + length - (endWhole << 9);
        if (headBytes > 0) WritePartialZeros(block, within, offset, headBytes);
        if (tailBytes > 0) WritePartialZeros(block, endWhole << 9, offset + length - tailBytes, tailBytes);
        long hostFrom = dataStart + ((long)firstWhole << 9), hostLength = (long)(endWhole - firstWhole) << 9;
        if (differencing)
        {
            // Zero first, then mark: until marked, the sectors still show the parent (their old content).
            VhdImageInfo.ZeroHost(File, hostFrom, hostLength, unmap);
            SetBits(block, bitmap, firstWhole, endWhole);
        }
        else
        {
            // Unmark first (reads give zeros at once), then clear the host bytes, which qemu-img reads regardless of the bitmap.
            if (unmap && VhdBitmap.Clear(bitmap, firstWhole, endWhole)) MarkDirty(block);
            VhdImageInfo.ZeroHost(File, hostFrom, hostLength, unmap);
        }
    }

    /// <summary>Writes zero bytes through the normal path, skipping sectors of a dynamic disk that are not present (they read as zeros).</summary>
    private void WritePartialZeros(long block, int within, long offset, int length)
    {
        if (!IsDifferencing)
        {
            uint entry = Volatile.Read(ref _bat[block]);
            if (entry == Unallocated) return;
            var bitmap = GetBitmap(block, BlockStart(block, entry));
            int first = within >> 9, last = (within + length - 1) >> 9;
            if (VhdBitmap.Run(bitmap, first, last - first + 1, out bool present) == last - first + 1 && !present) return;
        }
        var (start, bits) = AllocatedBlock(block);
        byte[] zeros = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            Array.Clear(zeros, 0, length);
            WriteInBlock(block, start, bits, within, offset, zeros.AsSpan(0, length));
        }
        finally { ArrayPool<byte>.Shared.Return(zeros); }
    }
}
