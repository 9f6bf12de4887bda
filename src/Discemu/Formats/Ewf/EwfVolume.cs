using System.Buffers.Binary;
using static Discemu.Formats.Ewf.EwfConstants;

namespace Discemu.Formats.Ewf;

/// <summary>
/// The media description of a volume, disk or data section: 1052 bytes in EnCase/FTK/linen files,
/// 94 bytes in the original EWF and SMART (S01) files.
/// </summary>
internal readonly record struct EwfVolume
{
    public byte MediaType { get; init; }
    public uint ChunkCount { get; init; }
    public uint SectorsPerChunk { get; init; }
    public uint BytesPerSector { get; init; }
    public ulong SectorCount { get; init; }
    public byte MediaFlags { get; init; }
    /// <summary>0 none, 1 good (fast), 2 best; absent (0) in S01 volumes.</summary>
    public byte CompressionLevel { get; init; }
    public uint ErrorGranularity { get; init; }
    public Guid SetIdentifier { get; init; }
    /// <summary>True for the 94-byte (EWF/SMART) layout.</summary>
    public bool IsSmall { get; init; }

    /// <summary>Chunk size in bytes (validated by <see cref="TryRead"/>).</summary>
    public int ChunkSize => (int)(SectorsPerChunk * BytesPerSector);

    /// <summary>Media size in bytes (validated by <see cref="TryRead"/>).</summary>
    public long MediaSize => (long)SectorCount * BytesPerSector;

    /// <summary>Decodes a volume payload; returns null when valid, else the problem.</summary>
    public static string? TryRead(ReadOnlySpan<byte> data, out EwfVolume volume)
    {
        volume = default;
        bool small;
        if (data.Length >= VolumeSizeE01) { data = data[..VolumeSizeE01]; small = false; }
        else if (data.Length >= VolumeSizeS01) { data = data[..VolumeSizeS01]; small = true; }
        else return "volume section is too small";
        if (!Adler32.Matches(data[..^4], data[^4..]))
        {
            // Logicube products leave the checksum 0.
            if (BinaryPrimitives.ReadUInt32LittleEndian(data[^4..]) != 0) return "volume section has a bad checksum";
        }
        uint spc = BinaryPrimitives.ReadUInt32LittleEndian(data[8..]);
        uint bps = BinaryPrimitives.ReadUInt32LittleEndian(data[12..]);
        ulong sectors = small ? BinaryPrimitives.ReadUInt32LittleEndian(data[16..]) : BinaryPrimitives.ReadUInt64LittleEndian(data[16..]);
        if (spc == 0 || bps == 0) return "volume section has a zero chunk or sector size";
        if ((ulong)spc * bps > MaxChunkSize) return $"chunk size of {spc} sectors of {bps} bytes is too large";
        if (sectors > (ulong)(long.MaxValue / bps)) return "media size overflows";
        volume = new EwfVolume
        {
            MediaType = small ? (byte)0x01 : data[0],
            ChunkCount = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]),
            SectorsPerChunk = spc,
            BytesPerSector = bps,
            SectorCount = sectors,
            MediaFlags = small ? MediaFlagImage : data[36],
            CompressionLevel = small ? (byte)0 : data[52],
            ErrorGranularity = small ? 0 : BinaryPrimitives.ReadUInt32LittleEndian(data[56..]),
            SetIdentifier = small ? Guid.Empty : new Guid(data.Slice(64, 16)),
            IsSmall = small,
        };
        return null;
    }

    /// <summary>Writes the 1052-byte EnCase layout with its checksum.</summary>
    public void Write(Span<byte> dest)
    {
        var d = dest[..VolumeSizeE01];
        d.Clear();
        d[0] = MediaType;
        BinaryPrimitives.WriteUInt32LittleEndian(d[4..], ChunkCount);
        BinaryPrimitives.WriteUInt32LittleEndian(d[8..], SectorsPerChunk);
        BinaryPrimitives.WriteUInt32LittleEndian(d[12..], BytesPerSector);
        BinaryPrimitives.WriteUInt64LittleEndian(d[16..], SectorCount);
        d[36] = MediaFlags;
        d[52] = CompressionLevel;
        BinaryPrimitives.WriteUInt32LittleEndian(d[56..], ErrorGranularity);
        SetIdentifier.TryWriteBytes(d.Slice(64, 16));
        BinaryPrimitives.WriteUInt32LittleEndian(d[^4..], Adler32.Compute(d[..^4]));
    }
}
