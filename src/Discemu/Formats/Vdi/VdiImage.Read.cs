using Discemu.Block;
using static Discemu.Formats.Vdi.VdiConstants;

namespace Discemu.Formats.Vdi;

public sealed partial class VdiImage
{
    /// <inheritdoc/>
    protected override void ReadCore(long offset, Span<byte> buffer)
    {
        int blockSize = _header.BlockSize;
        while (!buffer.IsEmpty)
        {
            long block = offset >> _blockBits;
            int within = (int)(offset & (blockSize - 1));
            int n = (int)Math.Min(buffer.Length, blockSize - within);
            var part = buffer[..n];
            uint entry = Volatile.Read(ref _map[block]);
            if (entry == BlockFree) ReadBelow(offset, part);
            else if (entry == BlockZero) part.Clear();
            else ReadHost(SlotOffset(CheckSlot(block, entry)) + within, part);
            offset += n;
            buffer = buffer[n..];
        }
    }

    /// <summary>A free block reads from the parent (zeros past its end), or as zeros without one.</summary>
    private void ReadBelow(long offset, Span<byte> part) => ReadBelow(IsDifferencing ? _backing : null, offset, part);

    /// <inheritdoc/>
    protected override BlockStatus GetStatusCore(long offset, long maxLength)
    {
        int blockSize = _header.BlockSize;
        long block = offset >> _blockBits;
        int within = (int)(offset & (blockSize - 1));
        uint entry = Volatile.Read(ref _map[block]);
        long limit = offset + maxLength;
        if (entry is BlockFree or BlockZero)
        {
            long end = Math.Min(limit, (block + 1) << _blockBits);
            for (long b = block + 1; end < limit && b < _map.Length && Volatile.Read(ref _map[b]) == entry; b++)
                end = Math.Min(limit, (b + 1) << _blockBits);
            if (entry == BlockZero) return new BlockStatus(end - offset, BlockStatusFlags.Zero | BlockStatusFlags.Allocated);
            return BelowStatus(offset, end - offset);
        }
        long host = SlotOffset(CheckSlot(block, entry)) + within;
        long length = Math.Min(maxLength, blockSize - within);
        long fileLength = File.Length;
        if (host >= fileLength) return new BlockStatus(length, BlockStatusFlags.Zero | BlockStatusFlags.Allocated, 0, host);
        var st = File.GetStatus(host, Math.Min(length, fileLength - host));
        return new BlockStatus(st.Length, Vhd.VhdImageInfo.RefineShortData(File, host, st), 0, host);
    }

    private BlockStatus BelowStatus(long offset, long length)
    {
        var parent = IsDifferencing ? _backing : null;
        if (parent is null) return new BlockStatus(length, BlockStatusFlags.None);
        long available = parent.Length - offset;
        if (available <= 0) return new BlockStatus(length, BlockStatusFlags.Zero);
        return parent.GetStatus(offset, Math.Min(length, available)).Deeper();
    }
}
