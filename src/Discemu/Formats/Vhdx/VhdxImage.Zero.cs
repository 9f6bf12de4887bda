using static Discemu.Formats.Vhdx.VhdxConstants;

namespace Discemu.Formats.Vhdx;

public sealed partial class VhdxImage
{
    private static readonly byte[] ZeroChunk = new byte[MiB];

    /// <summary>
    /// Whole blocks become ZERO blocks (their space is returned to the host), except in fixed images,
    /// whose blocks stay allocated and are zeroed on the host. Parts of blocks are zeroed on the host, or
    /// written as zeros where the parent would otherwise show through.
    /// </summary>
    protected override void WriteZeroesCore(long offset, long length, bool mayUnmap)
    {
        EnsureDataChange();
        long end = offset + length;
        while (offset < end)
        {
            var layout = Layout;
            long block = offset / layout.BlockSize;
            long within = offset - block * layout.BlockSize;
            long n = Math.Min(end - offset, layout.BlockSize - within);
            lock (_allocLock) ZeroBlockLocked(block, within, n, mayUnmap);
            offset += n;
        }
    }

    private void ZeroBlockLocked(long block, long within, long n, bool mayUnmap)
    {
        var layout = _layout;
        long index = layout.PayloadIndex(block);
        ulong e = EntryAt(_bat, index);
        int state = VhdxLayout.State(e);
        bool whole = within == 0 && n == layout.BlockSize;
        bool diff = _metadata.HasParent;
        bool fixedImage = _metadata.LeaveBlockAllocated && !diff;
        if (state == PayloadFullyPresent && (fixedImage || !whole))
        {
            _file.Zero(VhdxLayout.Offset(e) + within, n, punch: mayUnmap);
            return;
        }
        if (whole)
        {
            if (state == PayloadZero || fixedImage) return;
            CheckBatIndex(index);
            ReserveLogRoom(BlockMetadataPages(layout));
            SetEntry(index, VhdxLayout.Entry(PayloadZero, 0));
            if (VhdxLayout.IsPresent(state)) _pendingPunches.Add((VhdxLayout.Offset(e), layout.BlockSize));
            MaybeCommit(0);
            return;
        }
        switch (state)
        {
            case PayloadPartiallyPresent:
                ReserveLogRoom(BlockMetadataPages(layout));
                ZeroPartialSectors(block, VhdxLayout.Offset(e), within, n, mayUnmap, fresh: false);
                MaybeCommit(0);
                return;
            case PayloadNotPresent when diff:
            {
                CheckBatIndex(index);
                ReserveLogRoom(BlockMetadataPages(layout));
                long host = AllocateSpace(layout.BlockSize);
                PrepareBitmap(block);
                ZeroPartialSectors(block, host, within, n, mayUnmap, fresh: true);
                SetEntry(index, VhdxLayout.Entry(PayloadPartiallyPresent, host));
                MaybeCommit(0);
                return;
            }
            case PayloadZero:
                return;
            default:
                // Reads as zeros already; without leave to unmap it must become allocated in this layer.
                if (mayUnmap || diff) return;
                CheckBatIndex(index);
                ReserveLogRoom(BlockMetadataPages(layout));
                SetEntry(index, VhdxLayout.Entry(PayloadZero, 0));
                MaybeCommit(0);
                return;
        }
    }

    /// <summary>
    /// Whole blocks are dropped: unmapped (reading zeros) in images without a parent, not present (the
    /// parent shows through) in differencing images; fixed images keep their blocks and zero them on the
    /// host. Parts of fully present blocks of images without a parent are zeroed on the host; other
    /// parts of blocks are left as they are (discard is advisory).
    /// </summary>
    protected override void DiscardCore(long offset, long length)
    {
        var layout = Layout;
        bool diff = _metadata.HasParent;
        long first = CeilDiv(offset, layout.BlockSize), last = (offset + length) / layout.BlockSize;
        if (!diff)
        {
            long headEnd = Math.Min(offset + length, first * layout.BlockSize);
            if (offset < headEnd) DiscardPart(layout, offset, headEnd - offset);
            long tailStart = Math.Max(offset, last * layout.BlockSize);
            if (tailStart < offset + length && tailStart >= headEnd) DiscardPart(layout, tailStart, offset + length - tailStart);
        }
        if (first >= last) return;
        EnsureDataChange();
        bool fixedImage = _metadata.LeaveBlockAllocated && !diff;
        for (long block = first; block < last; block++)
        {
            lock (_allocLock)
            {
                long index = layout.PayloadIndex(block);
                ulong e = EntryAt(_bat, index);
                int state = VhdxLayout.State(e);
                if (fixedImage)
                {
                    if (state == PayloadFullyPresent) _file.Zero(VhdxLayout.Offset(e), layout.BlockSize, punch: true);
                    continue;
                }
                int target = diff ? PayloadNotPresent : PayloadUnmapped;
                if (state == target || (!diff && state is PayloadNotPresent or PayloadUndefined)) continue;
                CheckBatIndex(index);
                ReserveLogRoom(BlockMetadataPages(layout));
                SetEntry(index, VhdxLayout.Entry(target, 0));
                if (VhdxLayout.IsPresent(state)) _pendingPunches.Add((VhdxLayout.Offset(e), layout.BlockSize));
                MaybeCommit(0);
            }
        }
    }

    /// <summary>Zeroes (punching host space) the part of a fully present block a discard covers.</summary>
    private void DiscardPart(VhdxLayout layout, long offset, long length)
    {
        long block = offset / layout.BlockSize;
        ulong e = EntryAt(Volatile.Read(ref _bat), layout.PayloadIndex(block));
        if (VhdxLayout.State(e) != PayloadFullyPresent) return;
        EnsureDataChange();
        _file.Zero(VhdxLayout.Offset(e) + offset - block * layout.BlockSize, length, punch: true);
    }
}
