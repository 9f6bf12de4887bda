using System.Buffers;
using static Discemu.Formats.Vhdx.VhdxConstants;

namespace Discemu.Formats.Vhdx;

public sealed partial class VhdxImage
{
    /// <inheritdoc/>
    protected override void WriteCore(long offset, ReadOnlySpan<byte> data)
    {
        EnsureDataChange();
        while (!data.IsEmpty)
        {
            var layout = Layout;
            long block = offset / layout.BlockSize;
            long within = offset - block * layout.BlockSize;
            int n = (int)Math.Min(data.Length, layout.BlockSize - within);
            var part = data[..n];
            ulong e = EntryAt(Volatile.Read(ref _bat), layout.PayloadIndex(block));
            if (VhdxLayout.State(e) == PayloadFullyPresent) _file.Write(VhdxLayout.Offset(e) + within, part);
            else lock (_allocLock) WriteBlockLocked(block, within, part);
            offset += n;
            data = data[n..];
        }
    }

    /// <summary>Writes into a block that may need allocating or a sector bitmap update. Caller holds the allocation lock.</summary>
    private void WriteBlockLocked(long block, long within, ReadOnlySpan<byte> part)
    {
        var layout = _layout;
        long index = layout.PayloadIndex(block);
        ulong e = EntryAt(_bat, index);
        int state = VhdxLayout.State(e);
        if (state == PayloadFullyPresent)
        {
            _file.Write(VhdxLayout.Offset(e) + within, part);
            return;
        }
        CheckBatIndex(index);
        if (state == PayloadPartiallyPresent)
        {
            ReserveLogRoom(BlockMetadataPages(layout));
            WritePartialSectors(block, VhdxLayout.Offset(e), within, part);
            MaybeCommit(0);
            return;
        }
        bool whole = within == 0 && part.Length == layout.BlockSize;
        ReserveLogRoom(BlockMetadataPages(layout));
        long host = AllocateSpace(layout.BlockSize);
        if (_metadata.HasParent && state == PayloadNotPresent && !whole)
        {
            // Sectors this write does not cover keep coming from the parent: mark only the written ones.
            PrepareBitmap(block);
            WritePartialSectors(block, host, within, part);
            SetEntry(index, VhdxLayout.Entry(PayloadPartiallyPresent, host));
        }
        else
        {
            // The new space is past the old end of the file, so the rest of the block reads as zeros.
            _file.Write(host + within, part);
            SetEntry(index, VhdxLayout.Entry(PayloadFullyPresent, host));
        }
        MaybeCommit(0);
    }

    /// <summary>Most log pages the metadata of one block's update can touch (its BAT page, its chunk's, and its bitmap pages).</summary>
    private static int BlockMetadataPages(VhdxLayout layout) => 2 + (int)CeilDiv(layout.BitmapBytesPerBlock, LogSectorSize) + 1;

    private void CheckBatIndex(long index)
    {
        if (index >= _bat.Length) throw new CorruptImageException($"BAT entry {index} lies past the BAT region.", Path);
    }

    /// <summary>Takes <paramref name="length"/> bytes (a multiple of 1 MiB) at the end of the file. Caller holds the allocation lock.</summary>
    private long AllocateSpace(long length)
    {
        long host = AlignUp(Math.Max(_fileEnd, _file.Length), MiB);
        _fileEnd = host + length;
        _file.SetLength(_fileEnd);
        return host;
    }

    /// <summary>Allocates the sector bitmap block of <paramref name="chunk"/> if it is not present. Caller holds the allocation lock.</summary>
    private void EnsureBitmapBlock(long chunk)
    {
        long index = _layout.BitmapIndex(chunk);
        CheckBatIndex(index);
        if (VhdxLayout.State(_bat[index]) == BitmapPresent) return;
        long host = AllocateSpace(BitmapBlockSize);
        SetEntry(index, VhdxLayout.Entry(BitmapPresent, host));
    }

    /// <summary>Host offset of the sector bitmap block of <paramref name="block"/>'s chunk and the first bit of the block.</summary>
    private (long BitmapBase, long FirstBit) BlockBits(long block)
    {
        var layout = _layout;
        long chunk = block / layout.ChunkRatio;
        ulong sb = EntryAt(_bat, layout.BitmapIndex(chunk));
        if (VhdxLayout.State(sb) != BitmapPresent) throw new CorruptImageException($"The sector bitmap block of chunk {chunk} is not present.", Path);
        return (VhdxLayout.Offset(sb), (block - chunk * layout.ChunkRatio) * layout.SectorsPerBlock);
    }

    /// <summary>Sets (or clears) bits [first, first+count) of a sector bitmap block in the cache and marks their pages. Caller holds the allocation lock.</summary>
    private void SetBits(long bitmapBase, long first, long count, bool value)
    {
        lock (_metaLock)
        {
            for (long bit = first, end = first + count; bit < end;)
            {
                long byteIndex = bit >> 3;
                long pageOffset = bitmapBase + byteIndex / LogSectorSize * LogSectorSize;
                var page = BitmapPage(pageOffset);
                long pageEndBit = (byteIndex / LogSectorSize + 1) * LogSectorSize * 8;
                long stop = Math.Min(end, pageEndBit);
                for (; bit < stop; bit++)
                {
                    int i = (int)((bit >> 3) % LogSectorSize), mask = 1 << (int)(bit & 7);
                    if (bit % 8 == 0 && stop - bit >= 8) { page[i] = value ? (byte)0xFF : (byte)0; bit += 7; continue; }
                    page[i] = value ? (byte)(page[i] | mask) : (byte)(page[i] & ~mask);
                }
                _dirtyBitmapPages.Add(pageOffset);
            }
        }
    }

    /// <summary>Gives a block about to become partially present a sector bitmap with all of its bits clear. Caller holds the allocation lock.</summary>
    private void PrepareBitmap(long block)
    {
        EnsureBitmapBlock(block / _layout.ChunkRatio);
        var (bitmapBase, firstBit) = BlockBits(block);
        SetBits(bitmapBase, firstBit, _layout.SectorsPerBlock, false);
    }

    /// <summary>
    /// Zeroes part of a partially present block at <paramref name="host"/>: whole sectors on the host
    /// (nothing to do in <paramref name="fresh"/> space, which reads as zeros), partly covered sectors
    /// merged with the parent; the sectors become present. Caller holds the allocation lock.
    /// </summary>
    private void ZeroPartialSectors(long block, long host, long within, long length, bool punch, bool fresh)
    {
        var layout = _layout;
        int lss = layout.LogicalSectorSize;
        long blockStart = block * layout.BlockSize;
        var (bitmapBase, firstBit) = BlockBits(block);
        long firstSector = within / lss, endSector = CeilDiv(within + length, lss);
        long start = within, remaining = length;
        int headCut = (int)(within - firstSector * lss);
        if (headCut != 0 || remaining < lss)
        {
            int take = (int)Math.Min(remaining, lss - headCut);
            WriteSectorMerged(bitmapBase, firstBit + firstSector, blockStart + firstSector * lss, host + firstSector * lss, headCut, ZeroChunk.AsSpan(0, take));
            start += take;
            remaining -= take;
        }
        long whole = remaining / lss * lss;
        if (whole > 0 && !fresh) _file.Zero(host + start, whole, punch);
        start += whole;
        remaining -= whole;
        if (remaining > 0)
        {
            long sector = start / lss;
            WriteSectorMerged(bitmapBase, firstBit + sector, blockStart + sector * lss, host + sector * lss, 0, ZeroChunk.AsSpan(0, (int)remaining));
        }
        SetBits(bitmapBase, firstBit + firstSector, endSector - firstSector, true);
    }

    /// <summary>
    /// Writes into a partially present block at <paramref name="host"/>: sectors the write covers only in
    /// part are completed from the parent (when not yet present), and the covered sectors are marked
    /// present. Caller holds the allocation lock.
    /// </summary>
    private void WritePartialSectors(long block, long host, long within, ReadOnlySpan<byte> part)
    {
        var layout = _layout;
        int lss = layout.LogicalSectorSize;
        long blockStart = block * layout.BlockSize;
        var (bitmapBase, firstBit) = BlockBits(block);
        long firstSector = within / lss, endSector = CeilDiv(within + part.Length, lss);
        long start = within;
        int headCut = (int)(within - firstSector * lss);
        if (headCut != 0 || part.Length < lss)
        {
            // The first sector is only partly written.
            int take = (int)Math.Min(part.Length, lss - headCut);
            WriteSectorMerged(bitmapBase, firstBit + firstSector, blockStart + firstSector * lss, host + firstSector * lss, headCut, part[..take]);
            part = part[take..];
            start += take;
        }
        int whole = part.Length / lss * lss;
        if (whole > 0)
        {
            _file.Write(host + start, part[..whole]);
            part = part[whole..];
            start += whole;
        }
        if (!part.IsEmpty)
        {
            long sector = start / lss;
            WriteSectorMerged(bitmapBase, firstBit + sector, blockStart + sector * lss, host + sector * lss, 0, part);
        }
        SetBits(bitmapBase, firstBit + firstSector, endSector - firstSector, true);
    }

    /// <summary>Writes <paramref name="data"/> at <paramref name="cut"/> inside one sector, completing the rest from the parent when the sector is not yet present.</summary>
    private void WriteSectorMerged(long bitmapBase, long bit, long guestSector, long hostSector, int cut, ReadOnlySpan<byte> data)
    {
        bool present;
        lock (_metaLock) present = Bit(bitmapBase, bit);
        if (present)
        {
            _file.Write(hostSector + cut, data);
            return;
        }
        int lss = _layout.LogicalSectorSize;
        var sector = ArrayPool<byte>.Shared.Rent(lss);
        try
        {
            var span = sector.AsSpan(0, lss);
            ReadParent(guestSector, span);
            data.CopyTo(span[cut..]);
            _file.Write(hostSector, span);
        }
        finally { ArrayPool<byte>.Shared.Return(sector); }
    }
}
