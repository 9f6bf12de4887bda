using System.Buffers.Binary;
using Discemu.Block;
using static Discemu.Formats.Vmdk.VmdkConstants;

namespace Discemu.Formats.Vmdk;

/// <summary>
/// The layout of a new hosted sparse extent, as VMware products and qemu-img lay it out: the header,
/// the embedded descriptor (when there is one), the redundant grain directory and its grain tables,
/// the grain directory and its grain tables (all preallocated), padded to a whole grain.
/// </summary>
internal readonly record struct VmdkSparseLayout(long CapacitySectors, long DescriptorSectors, bool ZeroedGrain)
{
    /// <summary>Sectors of one 512-entry grain table.</summary>
    public const long GtSectors = DefaultGtes * 4 / Sector;

    /// <summary>Grain directory entries.</summary>
    public long GdEntries => (CapacitySectors + (long)DefaultGtes * DefaultGrainSectors - 1) / ((long)DefaultGtes * DefaultGrainSectors);

    /// <summary>Sectors of the grain directory.</summary>
    public long GdSectors => (GdEntries * 4 + Sector - 1) / Sector;

    /// <summary>First sector of the redundant grain directory.</summary>
    public long RgdSector => 1 + DescriptorSectors;

    /// <summary>First sector of the grain directory.</summary>
    public long GdSector => RgdSector + GdSectors + GdEntries * GtSectors;

    /// <summary>Sectors of metadata, rounded up to a whole grain: where the first grain goes.</summary>
    public long OverheadSectors => (GdSector + GdSectors + GdEntries * GtSectors + DefaultGrainSectors - 1) / DefaultGrainSectors * DefaultGrainSectors;

    /// <summary>The header of the new extent.</summary>
    public SparseExtentHeader Header => new()
    {
        Version = ZeroedGrain ? 2u : 1u,
        Flags = FlagValidNewline | FlagRedundantGrainTables | (ZeroedGrain ? FlagZeroedGrain : 0),
        Capacity = (ulong)CapacitySectors,
        GrainSectors = DefaultGrainSectors,
        DescriptorOffset = DescriptorSectors > 0 ? 1UL : 0,
        DescriptorSectors = (ulong)DescriptorSectors,
        GtesPerGt = DefaultGtes,
        RgdOffset = (ulong)RgdSector,
        GdOffset = (ulong)GdSector,
        Overhead = (ulong)OverheadSectors,
    };

    /// <summary>
    /// Writes an empty extent at <paramref name="path"/>: the file is sized to the metadata, the grain
    /// tables stay holes (they read as zeros), and the header is written last (the caller flushes).
    /// </summary>
    public void Write(string path, byte[]? descriptor)
    {
        using var file = FileDevice.Create(path, OverheadSectors * Sector);
        if (descriptor is not null)
        {
            var padded = new byte[DescriptorSectors * Sector];
            descriptor.CopyTo(padded, 0);
            file.Write(Sector, padded);
        }
        WriteDirectory(file, RgdSector, RgdSector + GdSectors);
        WriteDirectory(file, GdSector, GdSector + GdSectors);
        var header = new byte[Sector];
        Header.Write(header);
        file.Write(0, header);
    }

    /// <summary>Writes a directory at <paramref name="sector"/> whose tables follow one another from <paramref name="firstTable"/>.</summary>
    private void WriteDirectory(FileDevice file, long sector, long firstTable)
    {
        const int entriesPerChunk = 1 << 16;
        var chunk = new byte[entriesPerChunk * 4];
        for (long start = 0; start < GdEntries; start += entriesPerChunk)
        {
            int n = (int)Math.Min(entriesPerChunk, GdEntries - start);
            for (int i = 0; i < n; i++)
                BinaryPrimitives.WriteUInt32LittleEndian(chunk.AsSpan(i * 4), checked((uint)(firstTable + (start + i) * GtSectors)));
            file.Write(sector * Sector + start * 4, chunk.AsSpan(0, n * 4));
        }
    }
}
