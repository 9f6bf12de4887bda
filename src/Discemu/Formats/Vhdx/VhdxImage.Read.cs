using Discemu.Block;
using static Discemu.Formats.Vhdx.VhdxConstants;

namespace Discemu.Formats.Vhdx;

/// <summary>What a run of guest bytes maps to.</summary>
internal enum VhdxExtentKind
{
    /// <summary>Stored in this file at the extent's host offset.</summary>
    Data,
    /// <summary>Reads as zeros and this layer defines it (ZERO blocks; in differencing images also UNDEFINED and UNMAPPED).</summary>
    Zero,
    /// <summary>Reads as zeros; nothing defines it (blocks not present, undefined or unmapped in an image without a parent).</summary>
    Hole,
    /// <summary>Comes from the parent (differencing images: blocks not present, sectors absent from the bitmap).</summary>
    Parent,
}

/// <summary>A run of guest bytes sharing one mapping.</summary>
internal readonly record struct VhdxExtent(VhdxExtentKind Kind, long Length, long HostOffset);

public sealed partial class VhdxImage
{
    /// <summary>
    /// Maps the guest range at <paramref name="offset"/>, merging consecutive blocks (and sectors of
    /// partially present blocks) of the same kind, contiguous on the host for data.
    /// </summary>
    private VhdxExtent Map(long offset, long maxLength)
    {
        var layout = Layout;
        var bat = Volatile.Read(ref _bat);
        bool diff = _metadata.HasParent;
        long bs = layout.BlockSize;
        long pos = offset, end = offset + maxLength;
        var kind = VhdxExtentKind.Hole;
        long host = -1;
        bool first = true;
        while (pos < end)
        {
            long block = pos / bs;
            long within = pos - block * bs;
            long blockEnd = Math.Min(end, (block + 1) * bs);
            ulong e = EntryAt(bat, layout.PayloadIndex(block));
            int state = VhdxLayout.State(e);
            switch (state)
            {
                case PayloadFullyPresent:
                    if (!Accept(VhdxExtentKind.Data, VhdxLayout.Offset(e) + within)) goto done;
                    pos = blockEnd;
                    break;
                case PayloadPartiallyPresent:
                    if (!diff) throw new CorruptImageException($"Payload block {block} is partially present in an image without a parent.", Path);
                    long baseHost = VhdxLayout.Offset(e);
                    while (pos < blockEnd)
                    {
                        var (present, runEnd) = SectorRun(layout, bat, block, pos, blockEnd);
                        if (!Accept(present ? VhdxExtentKind.Data : VhdxExtentKind.Parent, present ? baseHost + (pos - block * bs) : -1)) goto done;
                        pos = runEnd;
                    }
                    break;
                case PayloadZero:
                    if (!Accept(VhdxExtentKind.Zero, -1)) goto done;
                    pos = blockEnd;
                    break;
                case PayloadNotPresent:
                    if (!Accept(diff ? VhdxExtentKind.Parent : VhdxExtentKind.Hole, -1)) goto done;
                    pos = blockEnd;
                    break;
                case PayloadUndefined or PayloadUnmapped:
                    if (!Accept(diff ? VhdxExtentKind.Zero : VhdxExtentKind.Hole, -1)) goto done;
                    pos = blockEnd;
                    break;
                default:
                    throw new CorruptImageException($"Payload block {block} has the reserved state {state}.", Path);
            }
        }
    done:
        return new VhdxExtent(kind, pos - offset, host);

        bool Accept(VhdxExtentKind k, long h)
        {
            if (first)
            {
                first = false;
                kind = k;
                host = h;
                return true;
            }
            return k == kind && (k != VhdxExtentKind.Data || h == host + (pos - offset));
        }
    }

    /// <summary>
    /// Whether the sector holding <paramref name="pos"/> of a partially present block is present, and where
    /// the run of sectors in the same state ends (at most <paramref name="limit"/>).
    /// </summary>
    private (bool Present, long End) SectorRun(VhdxLayout layout, ulong[] bat, long block, long pos, long limit)
    {
        long chunk = block / layout.ChunkRatio;
        ulong sb = EntryAt(bat, layout.BitmapIndex(chunk));
        if (VhdxLayout.State(sb) != BitmapPresent)
            throw new CorruptImageException($"Payload block {block} is partially present but its sector bitmap block is not.", Path);
        long bitmapBase = VhdxLayout.Offset(sb);
        int lss = layout.LogicalSectorSize;
        long sector = pos / lss;
        long chunkFirstSector = chunk * SectorsPerBitmapBlock;
        long lastSector = (limit - 1) / lss;
        lock (_metaLock)
        {
            bool present = Bit(bitmapBase, sector - chunkFirstSector);
            long s = sector + 1;
            while (s <= lastSector && Bit(bitmapBase, s - chunkFirstSector) == present) s++;
            return (present, Math.Min(limit, s * lss));
        }
    }

    /// <summary>Bit <paramref name="index"/> of the sector bitmap block at <paramref name="bitmapBase"/>. Caller holds the metadata lock.</summary>
    private bool Bit(long bitmapBase, long index)
    {
        long byteIndex = index >> 3;
        var page = BitmapPage(bitmapBase + byteIndex / LogSectorSize * LogSectorSize);
        return (page[byteIndex % LogSectorSize] >> (int)(index & 7) & 1) != 0;
    }

    /// <inheritdoc/>
    protected override void ReadCore(long offset, Span<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            var x = Map(offset, buffer.Length);
            var part = buffer[..(int)x.Length];
            switch (x.Kind)
            {
                case VhdxExtentKind.Data: _file.Read(x.HostOffset, part); break;
                case VhdxExtentKind.Parent: ReadParent(offset, part); break;
                default: part.Clear(); break;
            }
            offset += part.Length;
            buffer = buffer[part.Length..];
        }
    }

    /// <summary>Reads from the parent; past its end (or without one opened) the bytes are zeros.</summary>
    private void ReadParent(long offset, Span<byte> part) => ReadBelow(_parent, offset, part);

    /// <inheritdoc/>
    protected override BlockStatus GetStatusCore(long offset, long maxLength)
    {
        var x = Map(offset, maxLength);
        return x.Kind switch
        {
            VhdxExtentKind.Data => HostStatus(x),
            VhdxExtentKind.Zero => new BlockStatus(x.Length, BlockStatusFlags.Zero | BlockStatusFlags.Allocated),
            VhdxExtentKind.Hole => new BlockStatus(x.Length, BlockStatusFlags.None),
            _ => ParentStatus(offset, x.Length),
        };
    }

    /// <summary>Data in this file, or zeros where the host file has a hole there (fresh or returned space).</summary>
    private BlockStatus HostStatus(VhdxExtent x)
    {
        const BlockStatusFlags data = BlockStatusFlags.Data | BlockStatusFlags.Allocated;
        if (_file.HasOverlay || x.HostOffset >= _file.Length) return new BlockStatus(x.Length, data, 0, x.HostOffset);
        var host = _file.Device.GetStatus(x.HostOffset, Math.Min(x.Length, _file.Length - x.HostOffset));
        var flags = host.IsZero ? BlockStatusFlags.Zero | BlockStatusFlags.Allocated : data;
        return new BlockStatus(host.Length, flags, 0, x.HostOffset);
    }

    private BlockStatus ParentStatus(long offset, long length)
    {
        var parent = _parent;
        if (parent is null) return new BlockStatus(length, BlockStatusFlags.None);
        long available = parent.Length - offset;
        if (available <= 0) return new BlockStatus(length, BlockStatusFlags.Zero);
        return parent.GetStatus(offset, Math.Min(length, available)).Deeper();
    }
}
