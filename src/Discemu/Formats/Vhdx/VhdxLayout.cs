using static Discemu.Formats.Vhdx.VhdxConstants;

namespace Discemu.Formats.Vhdx;

/// <summary>
/// The geometry of a VHDX disk: blocks, chunks, the interleaving of payload and sector bitmap entries
/// in the BAT (MS-VHDX 2.4, 2.5), and BAT entry encoding.
/// </summary>
internal sealed class VhdxLayout
{
    public VhdxLayout(long blockSize, int logicalSectorSize, long virtualSize)
    {
        BlockSize = blockSize;
        LogicalSectorSize = logicalSectorSize;
        VirtualSize = virtualSize;
        ChunkRatio = SectorsPerBitmapBlock * logicalSectorSize / blockSize;
        PayloadBlocks = CeilDiv(virtualSize, blockSize);
        BitmapBlocks = CeilDiv(PayloadBlocks, ChunkRatio);
    }

    public long BlockSize { get; }
    public int LogicalSectorSize { get; }
    public long VirtualSize { get; }
    /// <summary>Payload blocks per sector bitmap block.</summary>
    public long ChunkRatio { get; }
    public long PayloadBlocks { get; }
    public long BitmapBlocks { get; }
    /// <summary>Sectors per payload block.</summary>
    public long SectorsPerBlock => BlockSize / LogicalSectorSize;
    /// <summary>Bytes of sector bitmap one payload block uses.</summary>
    public long BitmapBytesPerBlock => SectorsPerBlock / 8;

    /// <summary>The BAT index of payload block <paramref name="block"/>.</summary>
    public long PayloadIndex(long block) => block + block / ChunkRatio;

    /// <summary>The BAT index of the sector bitmap block of chunk <paramref name="chunk"/>.</summary>
    public long BitmapIndex(long chunk) => chunk * (ChunkRatio + 1) + ChunkRatio;

    /// <summary>Entries a reader needs: up to the last payload block.</summary>
    public long MinEntries => PayloadBlocks == 0 ? 0 : PayloadIndex(PayloadBlocks - 1) + 1;

    /// <summary>Entries a differencing image needs: up to the sector bitmap entry of the last chunk.</summary>
    public long FullEntries => BitmapBlocks == 0 ? 0 : BitmapIndex(BitmapBlocks - 1) + 1;

    /// <summary>Entries an image of this geometry is created with.</summary>
    public long EntriesFor(bool differencing) => differencing ? FullEntries : MinEntries;

    public static int State(ulong entry) => (int)(entry & StateMask);

    /// <summary>The file offset an entry points at (its FileOffsetMB in bytes).</summary>
    public static long Offset(ulong entry) => (long)(entry >> OffsetShift) << OffsetShift;

    public static ulong Entry(int state, long offset) => (ulong)offset & ~((1UL << OffsetShift) - 1) | (uint)state;

    /// <summary>True for the payload states whose data lives in this file.</summary>
    public static bool IsPresent(int state) => state is PayloadFullyPresent or PayloadPartiallyPresent;
}
