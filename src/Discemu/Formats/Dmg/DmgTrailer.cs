using System.Buffers.Binary;
using static Discemu.Formats.Dmg.DmgConstants;

namespace Discemu.Formats.Dmg;

/// <summary>
/// The koly trailer (UDIFResourceFile): the last 512 bytes of a UDIF image, big-endian, locating the
/// data fork, the legacy resource fork and the XML property list, with the image checksums.
/// </summary>
internal readonly record struct DmgTrailer
{
    public uint Version { get; init; }
    public uint Flags { get; init; }
    public long RunningDataForkOffset { get; init; }
    public long DataForkOffset { get; init; }
    public long DataForkLength { get; init; }
    public long ResourceForkOffset { get; init; }
    public long ResourceForkLength { get; init; }
    public uint SegmentNumber { get; init; }
    public uint SegmentCount { get; init; }
    public Guid SegmentId { get; init; }
    public DmgChecksum DataChecksum { get; init; }
    public long PlistOffset { get; init; }
    public long PlistLength { get; init; }
    public DmgChecksum MasterChecksum { get; init; }
    public uint ImageVariant { get; init; }
    public long SectorCount { get; init; }

    /// <summary>True when <paramref name="data"/> starts with the koly magic and the 512-byte header size.</summary>
    public static bool HasMagic(ReadOnlySpan<byte> data)
        => data.Length >= 12 && BinaryPrimitives.ReadUInt32BigEndian(data) == KolyMagic && BinaryPrimitives.ReadUInt32BigEndian(data[8..]) == KolySize;

    /// <summary>Parses the trailer and checks every offset against <paramref name="fileLength"/>.</summary>
    /// <exception cref="CorruptImageException">A field is out of range.</exception>
    /// <exception cref="UnsupportedFeatureException">A version or a segmented (multi-file) image.</exception>
    public static DmgTrailer Read(ReadOnlySpan<byte> data, long fileLength, string? path)
    {
        if (data.Length < KolySize || !HasMagic(data)) throw new CorruptImageException("Not a UDIF image (no koly trailer).", path);
        uint version = BinaryPrimitives.ReadUInt32BigEndian(data[4..]);
        if (version != KolyVersion) throw new UnsupportedFeatureException($"UDIF trailer version {version} is not supported (only 4).", path);
        long trailerStart = fileLength - KolySize;
        if (trailerStart < 0) throw new CorruptImageException("The file is shorter than its koly trailer.", path);
        var t = new DmgTrailer
        {
            Version = version,
            Flags = BinaryPrimitives.ReadUInt32BigEndian(data[12..]),
            RunningDataForkOffset = ToLong(BinaryPrimitives.ReadUInt64BigEndian(data[16..]), "running data fork offset", path),
            DataForkOffset = ToLong(BinaryPrimitives.ReadUInt64BigEndian(data[24..]), "data fork offset", path),
            DataForkLength = ToLong(BinaryPrimitives.ReadUInt64BigEndian(data[32..]), "data fork length", path),
            ResourceForkOffset = ToLong(BinaryPrimitives.ReadUInt64BigEndian(data[40..]), "resource fork offset", path),
            ResourceForkLength = ToLong(BinaryPrimitives.ReadUInt64BigEndian(data[48..]), "resource fork length", path),
            SegmentNumber = BinaryPrimitives.ReadUInt32BigEndian(data[56..]),
            SegmentCount = BinaryPrimitives.ReadUInt32BigEndian(data[60..]),
            SegmentId = new Guid(data.Slice(64, 16), bigEndian: true),
            DataChecksum = DmgChecksum.Read(data[80..]),
            PlistOffset = ToLong(BinaryPrimitives.ReadUInt64BigEndian(data[216..]), "XML property list offset", path),
            PlistLength = ToLong(BinaryPrimitives.ReadUInt64BigEndian(data[224..]), "XML property list length", path),
            MasterChecksum = DmgChecksum.Read(data[352..]),
            ImageVariant = BinaryPrimitives.ReadUInt32BigEndian(data[488..]),
            SectorCount = ToLong(BinaryPrimitives.ReadUInt64BigEndian(data[492..]), "sector count", path),
        };
        if (t.SegmentCount > 1 || t.SegmentNumber > 1)
            throw new UnsupportedFeatureException($"Segmented UDIF images (segment {t.SegmentNumber} of {t.SegmentCount}, .dmgpart files) are not supported.", path);
        CheckRange(t.DataForkOffset, t.DataForkLength, trailerStart, "data fork", path);
        CheckRange(t.ResourceForkOffset, t.ResourceForkLength, trailerStart, "resource fork", path);
        CheckRange(t.PlistOffset, t.PlistLength, trailerStart, "XML property list", path);
        if (t.PlistLength > MaxPlistBytes) throw new CorruptImageException($"The XML property list of {t.PlistLength} bytes is larger than {MaxPlistBytes} bytes.", path);
        if (t.ResourceForkLength > MaxResourceForkBytes) throw new CorruptImageException($"The resource fork of {t.ResourceForkLength} bytes is larger than {MaxResourceForkBytes} bytes.", path);
        if (t.SectorCount > long.MaxValue / SectorSize / 2) throw new CorruptImageException($"The sector count {t.SectorCount} is too large.", path);
        if (t.DataChecksum.Bits > ChecksumBytes * 8 || t.MasterChecksum.Bits > ChecksumBytes * 8)
            throw new CorruptImageException("A checksum is wider than its 128-byte field.", path);
        return t;
    }

    private static long ToLong(ulong value, string what, string? path)
        => value > long.MaxValue / 2 ? throw new CorruptImageException($"The {what} 0x{value:x} is out of range.", path) : (long)value;

    private static void CheckRange(long offset, long length, long limit, string what, string? path)
    {
        if (length == 0) return;
        if (offset > limit || length > limit - offset)
            throw new CorruptImageException($"The {what} ({length} bytes at {offset}) extends past the koly trailer at {limit}.", path);
    }

    /// <summary>Serialises the trailer (512 bytes).</summary>
    public void Write(Span<byte> dest)
    {
        dest[..KolySize].Clear();
        BinaryPrimitives.WriteUInt32BigEndian(dest, KolyMagic);
        BinaryPrimitives.WriteUInt32BigEndian(dest[4..], Version);
        BinaryPrimitives.WriteUInt32BigEndian(dest[8..], KolySize);
        BinaryPrimitives.WriteUInt32BigEndian(dest[12..], Flags);
        BinaryPrimitives.WriteUInt64BigEndian(dest[16..], (ulong)RunningDataForkOffset);
        BinaryPrimitives.WriteUInt64BigEndian(dest[24..], (ulong)DataForkOffset);
        BinaryPrimitives.WriteUInt64BigEndian(dest[32..], (ulong)DataForkLength);
        BinaryPrimitives.WriteUInt64BigEndian(dest[40..], (ulong)ResourceForkOffset);
        BinaryPrimitives.WriteUInt64BigEndian(dest[48..], (ulong)ResourceForkLength);
        BinaryPrimitives.WriteUInt32BigEndian(dest[56..], SegmentNumber);
        BinaryPrimitives.WriteUInt32BigEndian(dest[60..], SegmentCount);
        SegmentId.TryWriteBytes(dest.Slice(64, 16), bigEndian: true, out _);
        DataChecksum.Write(dest[80..]);
        BinaryPrimitives.WriteUInt64BigEndian(dest[216..], (ulong)PlistOffset);
        BinaryPrimitives.WriteUInt64BigEndian(dest[224..], (ulong)PlistLength);
        MasterChecksum.Write(dest[352..]);
        BinaryPrimitives.WriteUInt32BigEndian(dest[488..], ImageVariant);
        BinaryPrimitives.WriteUInt64BigEndian(dest[492..], (ulong)SectorCount);
    }
}
