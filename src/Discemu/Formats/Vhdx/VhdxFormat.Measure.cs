using Discemu.Block;
using static Discemu.Formats.Vhdx.VhdxConstants;

namespace Discemu.Formats.Vhdx;

public sealed partial class VhdxFormat
{
    /// <summary>
    /// The file size a new image needs: the header section, log, metadata region and BAT, plus every block
    /// (fully allocated, and for fixed images) or the blocks the source has data in (required). qemu-img
    /// cannot measure VHDX; this is computed from the layout <see cref="Create"/> writes.
    /// </summary>
    /// <exception cref="BadArgumentException">An option is unknown or invalid.</exception>
    public override MeasureResult Measure(long virtualSize, BlockDevice? source, CreateOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(virtualSize);
        var p = Parameters.Parse(options, null, null);
        options.ThrowOnUnused(Name);
        if (source is not null) virtualSize = source.Length;
        int logical = p.LogicalSectorSize == 0 ? 512 : p.LogicalSectorSize;
        if (virtualSize > MaxVirtualSize) throw new BadArgumentException("Image size too large; max of 64TB.");
        virtualSize = AlignUp(virtualSize, logical);
        long blockSize = p.BlockSize != 0 ? p.BlockSize : AutoBlockSize(virtualSize);
        bool diff = p.Backing is not null;
        var layout = new VhdxLayout(blockSize, logical, virtualSize);
        long overhead = HeaderSectionSize + p.LogSize + MiB + Math.Max(MiB, AlignUp(layout.EntriesFor(diff) * 8, MiB));
        long full = overhead + layout.PayloadBlocks * blockSize;
        if (p.Fixed) return new MeasureResult(full, full);
        long blocks = source is null ? 0 : DataBlocks(source, blockSize, out _);
        long bitmaps = diff ? layout.BitmapBlocks * MiB : 0;
        return new MeasureResult(overhead + blocks * blockSize + bitmaps, full + bitmaps);
    }

    /// <summary>Blocks of <paramref name="blockSize"/> that hold data in <paramref name="source"/> (zero runs and holes do not count).</summary>
    private static long DataBlocks(BlockDevice source, long blockSize, out long lastBlock)
    {
        long count = 0;
        lastBlock = -1;
        long length = source.Length;
        for (long offset = 0; offset < length;)
        {
            var st = source.GetStatus(offset, length - offset);
            long next = offset + st.Length;
            if (st.HasData)
            {
                long first = offset / blockSize, last = (next - 1) / blockSize;
                if (first == lastBlock) first++;
                if (last >= first) count += last - first + 1;
                lastBlock = Math.Max(lastBlock, last);
            }
            offset = next;
        }
        return count;
    }
}
