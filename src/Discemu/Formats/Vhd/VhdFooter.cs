using System.Buffers.Binary;
using static Discemu.Formats.Vhd.VhdConstants;

namespace Discemu.Formats.Vhd;

/// <summary>
/// The 512-byte VHD footer (big-endian): at the end of every VHD file, and copied to offset 0 of dynamic
/// and differencing images. <see cref="Read"/> validates the cookie, the checksum and every field.
/// </summary>
internal readonly record struct VhdFooter
{
    public uint Features { get; init; }
    public uint FormatVersion { get; init; }
    public ulong DataOffset { get; init; }
    public uint TimeStamp { get; init; }
    public uint CreatorApplication { get; init; }
    public uint CreatorVersion { get; init; }
    public uint CreatorHostOs { get; init; }
    public long OriginalSize { get; init; }
    public long CurrentSize { get; init; }
    public VhdGeometry Geometry { get; init; }
    public uint DiskType { get; init; }
    public Guid UniqueId { get; init; }
    public bool SavedState { get; init; }

    /// <summary>True for dynamic and differencing disks (which have a dynamic header and a block table).</summary>
    public bool IsSparse => DiskType is DiskTypeDynamic or DiskTypeDifferencing;

    /// <summary>True when <paramref name="data"/> starts with the footer cookie "conectix".</summary>
    public static bool HasCookie(ReadOnlySpan<byte> data) => data.Length >= 8 && BinaryPrimitives.ReadUInt64BigEndian(data) == FooterCookie;

    /// <summary>The one's complement of the byte sum of <paramref name="data"/>, skipping the 4-byte checksum field at <paramref name="checksumOffset"/>.</summary>
    public static uint Checksum(ReadOnlySpan<byte> data, int checksumOffset)
    {
        uint sum = 0;
        for (int i = 0; i < data.Length; i++)
            if (i < checksumOffset || i >= checksumOffset + 4) sum += data[i];
        return ~sum;
    }

    /// <summary>True when the footer's stored checksum matches its bytes (the cookie is not checked).</summary>
    public static bool ChecksumMatches(ReadOnlySpan<byte> data)
        => data.Length >= FooterSize && BinaryPrimitives.ReadUInt32BigEndian(data[64..]) == Checksum(data[..FooterSize], 64);

    /// <summary>Parses and validates a footer.</summary>
    /// <param name="data">At least 512 bytes.</param>
    /// <param name="path">The image, for messages.</param>
    /// <param name="where">Which copy ("footer", "footer copy at offset 0"), for messages.</param>
    /// <exception cref="CorruptImageException">Not a footer, a wrong checksum, or a field out of range.</exception>
    /// <exception cref="UnsupportedFeatureException">An unknown version or disk type.</exception>
    public static VhdFooter Read(ReadOnlySpan<byte> data, string? path, string where = "footer")
    {
        if (data.Length < FooterSize || !HasCookie(data)) throw new CorruptImageException($"The VHD {where} is missing (no \"conectix\" cookie).", path);
        data = data[..FooterSize];
        uint stored = BinaryPrimitives.ReadUInt32BigEndian(data[64..]);
        uint computed = Checksum(data, 64);
        if (stored != computed)
            throw new CorruptImageException($"The VHD {where} checksum is wrong (stored 0x{stored:x8}, computed 0x{computed:x8}): the footer is damaged.", path);
        uint version = BinaryPrimitives.ReadUInt32BigEndian(data[12..]);
        if (version >> 16 != 1) throw new UnsupportedFeatureException($"VHD format version {version >> 16}.{version & 0xFFFF} is not supported.", path);
        uint type = BinaryPrimitives.ReadUInt32BigEndian(data[60..]);
        if (type is not (DiskTypeFixed or DiskTypeDynamic or DiskTypeDifferencing))
            throw new UnsupportedFeatureException($"VHD disk type {type} is not supported (only fixed, dynamic and differencing disks exist).", path);
        ulong current = BinaryPrimitives.ReadUInt64BigEndian(data[48..]);
        ulong original = BinaryPrimitives.ReadUInt64BigEndian(data[40..]);
        // qemu-img and Hyper-V create at most 2040 GiB, Azure's fixed disks reach 32 TiB; far beyond that is damage.
        if (current > MaxReadableSize) throw new CorruptImageException($"The VHD {where} gives a disk size of {current} bytes, beyond what the format can hold.", path);
        return new VhdFooter
        {
            Features = BinaryPrimitives.ReadUInt32BigEndian(data[8..]),
            FormatVersion = version,
            DataOffset = BinaryPrimitives.ReadUInt64BigEndian(data[16..]),
            TimeStamp = BinaryPrimitives.ReadUInt32BigEndian(data[24..]),
            CreatorApplication = BinaryPrimitives.ReadUInt32BigEndian(data[28..]),
            CreatorVersion = BinaryPrimitives.ReadUInt32BigEndian(data[32..]),
            CreatorHostOs = BinaryPrimitives.ReadUInt32BigEndian(data[36..]),
            OriginalSize = (long)Math.Min(original, long.MaxValue),
            CurrentSize = (long)current,
            Geometry = VhdGeometry.FromPacked(BinaryPrimitives.ReadUInt32BigEndian(data[56..])),
            DiskType = type,
            UniqueId = new Guid(data.Slice(68, 16), bigEndian: true),
            SavedState = data[84] != 0,
        };
    }

    /// <summary>Serialises the footer (with its checksum) into the first 512 bytes of <paramref name="dest"/>.</summary>
    public void Write(Span<byte> dest)
    {
        var d = dest[..FooterSize];
        d.Clear();
        BinaryPrimitives.WriteUInt64BigEndian(d, FooterCookie);
        BinaryPrimitives.WriteUInt32BigEndian(d[8..], Features);
        BinaryPrimitives.WriteUInt32BigEndian(d[12..], FormatVersion);
        BinaryPrimitives.WriteUInt64BigEndian(d[16..], DataOffset);
        BinaryPrimitives.WriteUInt32BigEndian(d[24..], TimeStamp);
        BinaryPrimitives.WriteUInt32BigEndian(d[28..], CreatorApplication);
        BinaryPrimitives.WriteUInt32BigEndian(d[32..], CreatorVersion);
        BinaryPrimitives.WriteUInt32BigEndian(d[36..], CreatorHostOs);
        BinaryPrimitives.WriteUInt64BigEndian(d[40..], (ulong)OriginalSize);
        BinaryPrimitives.WriteUInt64BigEndian(d[48..], (ulong)CurrentSize);
        BinaryPrimitives.WriteUInt32BigEndian(d[56..], Geometry.Packed);
        BinaryPrimitives.WriteUInt32BigEndian(d[60..], DiskType);
        UniqueId.TryWriteBytes(d.Slice(68, 16), bigEndian: true, out _);
        d[84] = SavedState ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt32BigEndian(d[64..], Checksum(d, 64));
    }

    /// <summary>The footer as bytes.</summary>
    public byte[] ToBytes()
    {
        var b = new byte[FooterSize];
        Write(b);
        return b;
    }

    /// <summary>Where the virtual disk's size comes from.</summary>
    public VhdSizeSource SizeSource
    {
        get
        {
            if (Geometry.IsMaximum) return VhdSizeSource.Footer;
            return CreatorApplication is CreatorVirtualPc or CreatorVirtualServer or CreatorQemu ? VhdSizeSource.Geometry : VhdSizeSource.Footer;
        }
    }

    /// <summary>The virtual size: the CHS geometry's for creators that size disks by it, else the footer's current size (in whole sectors).</summary>
    public long VirtualSize => SizeSource == VhdSizeSource.Geometry ? Geometry.Bytes : CurrentSize / SectorSize * SectorSize;

    /// <summary>
    /// This footer for a disk of <paramref name="size"/> bytes: current size and geometry (as the specification
    /// computes it) updated. When the creator would make readers size the disk by its geometry and the
    /// geometry cannot express the size exactly, the creator becomes "qem2" so every reader uses the footer.
    /// </summary>
    public VhdFooter WithSize(long size)
    {
        var f = this with { CurrentSize = size, Geometry = VhdGeometry.ForSectors(size / SectorSize) };
        return f.VirtualSize == size ? f : f with { CreatorApplication = CreatorQemuExact };
    }

    /// <summary>Describes the disk type.</summary>
    public string DiskTypeName => DiskType switch { DiskTypeFixed => "fixed", DiskTypeDynamic => "dynamic", _ => "differencing" };
}

/// <summary>Where a VHD's virtual size comes from.</summary>
internal enum VhdSizeSource
{
    /// <summary>The footer's current size field.</summary>
    Footer,
    /// <summary>Cylinders × heads × sectors per track (Virtual PC, Virtual Server and older qemu).</summary>
    Geometry,
}
