using System.Buffers.Binary;
using static Discemu.Formats.Vmdk.VmdkConstants;

namespace Discemu.Formats.Vmdk;

/// <summary>
/// The 512-byte header of a hosted sparse extent ("KDMV"; Virtual Disk Format 1.1 §"Hosted Sparse
/// Extent Header", 5.0 for version 2 and 3). Offsets and sizes are in sectors. Every field a reader
/// depends on is validated by <see cref="Read"/>; <see cref="Write"/> writes the same layout back.
/// </summary>
internal readonly record struct SparseExtentHeader
{
    /// <summary>Bytes of the header on disk.</summary>
    public const int Size = 512;

    public uint Version { get; init; }
    public uint Flags { get; init; }
    public ulong Capacity { get; init; }
    public ulong GrainSectors { get; init; }
    public ulong DescriptorOffset { get; init; }
    public ulong DescriptorSectors { get; init; }
    public uint GtesPerGt { get; init; }
    public ulong RgdOffset { get; init; }
    public ulong GdOffset { get; init; }
    public ulong Overhead { get; init; }
    public bool UncleanShutdown { get; init; }
    public ushort CompressAlgorithm { get; init; }

    /// <summary>Grains are stored compressed (the algorithm field is deflate; qemu decides the same way).</summary>
    public bool Compressed => CompressAlgorithm == CompressionDeflate;

    /// <summary>Grains and metadata carry markers (stream-optimized).</summary>
    public bool HasMarkers => (Flags & FlagMarkers) != 0;

    /// <summary>A redundant grain directory is kept.</summary>
    public bool HasRedundantGd => (Flags & FlagRedundantGrainTables) != 0;

    /// <summary>Grain table entry 1 means a zeroed grain.</summary>
    public bool ZeroedGrains => Version >= 2 && (Flags & FlagZeroedGrain) != 0;

    /// <summary>Bytes per grain.</summary>
    public long GrainBytes => (long)GrainSectors * Sector;

    /// <summary>Guest bytes one grain table covers.</summary>
    public long GtCoverage => GrainBytes * GtesPerGt;

    /// <summary>Bytes of one grain table on disk (whole sectors).</summary>
    public long GtBytes => ((long)GtesPerGt * 4 + Sector - 1) / Sector * Sector;

    /// <summary>Entries the grain directory needs for <see cref="Capacity"/>.</summary>
    public long GdEntries => (long)((Capacity * Sector + (ulong)GtCoverage - 1) / (ulong)GtCoverage);

    /// <summary>Bytes of the grain directory on disk (whole sectors).</summary>
    public long GdBytes => (GdEntries * 4 + Sector - 1) / Sector * Sector;

    /// <summary>True when the bytes start with the sparse extent magic.</summary>
    public static bool HasMagic(ReadOnlySpan<byte> data) => data.Length >= 4 && BinaryPrimitives.ReadUInt32LittleEndian(data) == SparseMagic;

    /// <summary>Parses and validates a header.</summary>
    /// <exception cref="CorruptImageException">The magic or a field is invalid.</exception>
    /// <exception cref="UnsupportedFeatureException">The version or compression algorithm is unknown.</exception>
    public static SparseExtentHeader Read(ReadOnlySpan<byte> data, string? path)
    {
        if (data.Length < Size || !HasMagic(data)) throw new CorruptImageException("Not a VMDK sparse extent (bad magic or short header).", path);
        var h = new SparseExtentHeader
        {
            Version = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]),
            Flags = BinaryPrimitives.ReadUInt32LittleEndian(data[8..]),
            Capacity = BinaryPrimitives.ReadUInt64LittleEndian(data[12..]),
            GrainSectors = BinaryPrimitives.ReadUInt64LittleEndian(data[20..]),
            DescriptorOffset = BinaryPrimitives.ReadUInt64LittleEndian(data[28..]),
            DescriptorSectors = BinaryPrimitives.ReadUInt64LittleEndian(data[36..]),
            GtesPerGt = BinaryPrimitives.ReadUInt32LittleEndian(data[44..]),
            RgdOffset = BinaryPrimitives.ReadUInt64LittleEndian(data[48..]),
            GdOffset = BinaryPrimitives.ReadUInt64LittleEndian(data[56..]),
            Overhead = BinaryPrimitives.ReadUInt64LittleEndian(data[64..]),
            UncleanShutdown = data[72] != 0,
            CompressAlgorithm = BinaryPrimitives.ReadUInt16LittleEndian(data[77..]),
        };
        if (h.Version is < 1 or > 3) throw new UnsupportedFeatureException($"VMDK sparse extent version {h.Version} is not supported.", path);
        if ((h.Flags & FlagValidNewline) != 0
            && (data[73] != SingleEndLine || data[74] != NonEndLine || data[75] != DoubleEndLine1 || data[76] != DoubleEndLine2))
            throw new CorruptImageException("The VMDK header's end-of-line test bytes are damaged (was the file transferred in text mode?).", path);
        if (h.CompressAlgorithm is not (CompressionNone or CompressionDeflate))
            throw new UnsupportedFeatureException($"VMDK compression algorithm {h.CompressAlgorithm} is not supported.", path);
        if (h.GrainSectors == 0 || h.GrainSectors > MaxGrainSectors || (h.GrainSectors & (h.GrainSectors - 1)) != 0)
            throw new CorruptImageException($"Grain size of {h.GrainSectors} sectors is not a power of two up to {MaxGrainSectors}.", path);
        if (h.GtesPerGt is 0 or > MaxGtes)
            throw new CorruptImageException($"{h.GtesPerGt} grain table entries per table is outside 1 to {MaxGtes}.", path);
        if (h.Capacity > (ulong)(MaxVirtualBytes / Sector))
            throw new CorruptImageException($"Capacity of {h.Capacity} sectors is too large.", path);
        if (h.DescriptorOffset != 0 && (h.DescriptorSectors == 0 || h.DescriptorSectors > MaxDescriptorBytes / Sector || h.DescriptorOffset > (ulong)(MaxVirtualBytes / Sector)))
            throw new CorruptImageException($"The embedded descriptor ({h.DescriptorSectors} sectors at sector {h.DescriptorOffset}) is invalid.", path);
        if (h.GdOffset == GdAtEnd ? !h.HasMarkers : h.GdOffset > (ulong)(MaxVirtualBytes / Sector))
            throw new CorruptImageException($"Grain directory offset 0x{h.GdOffset:x} is invalid.", path);
        if (h.RgdOffset > (ulong)(MaxVirtualBytes / Sector) && h.RgdOffset != GdAtEnd)
            throw new CorruptImageException($"Redundant grain directory offset 0x{h.RgdOffset:x} is invalid.", path);
        if (h.Overhead > (ulong)(MaxVirtualBytes / Sector)) throw new CorruptImageException($"Overhead of {h.Overhead} sectors is invalid.", path);
        return h;
    }

    /// <summary>Writes the header (with the end-of-line test bytes) into the first 512 bytes of <paramref name="dest"/>.</summary>
    public void Write(Span<byte> dest)
    {
        var d = dest[..Size];
        d.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(d, SparseMagic);
        BinaryPrimitives.WriteUInt32LittleEndian(d[4..], Version);
        BinaryPrimitives.WriteUInt32LittleEndian(d[8..], Flags);
        BinaryPrimitives.WriteUInt64LittleEndian(d[12..], Capacity);
        BinaryPrimitives.WriteUInt64LittleEndian(d[20..], GrainSectors);
        BinaryPrimitives.WriteUInt64LittleEndian(d[28..], DescriptorOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(d[36..], DescriptorSectors);
        BinaryPrimitives.WriteUInt32LittleEndian(d[44..], GtesPerGt);
        BinaryPrimitives.WriteUInt64LittleEndian(d[48..], RgdOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(d[56..], GdOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(d[64..], Overhead);
        d[72] = UncleanShutdown ? (byte)1 : (byte)0;
        d[73] = SingleEndLine;
        d[74] = NonEndLine;
        d[75] = DoubleEndLine1;
        d[76] = DoubleEndLine2;
        BinaryPrimitives.WriteUInt16LittleEndian(d[77..], CompressAlgorithm);
    }
}
