using System.Buffers.Binary;
using System.Text;
using static Discemu.Formats.Vhd.VhdConstants;

namespace Discemu.Formats.Vhd;

/// <summary>One of the eight parent locator entries of a dynamic disk header.</summary>
/// <param name="PlatformCode">"W2ru", "W2ku", "MacX"... (0: unused).</param>
/// <param name="DataSpace">Room reserved for the locator data (Windows writes bytes, the specification says sectors).</param>
/// <param name="DataLength">Bytes of locator data.</param>
/// <param name="DataOffset">Where the locator data lies in the file.</param>
internal readonly record struct VhdParentLocator(uint PlatformCode, uint DataSpace, uint DataLength, long DataOffset)
{
    /// <summary>True when the entry is in use.</summary>
    public bool InUse => PlatformCode != PlatformNone;

    /// <summary>The bytes of the file the locator data may occupy (at least its length).</summary>
    public long ReservedBytes => DataSpace >= DataLength ? DataSpace : (long)DataSpace * SectorSize;
}

/// <summary>
/// The 1024-byte dynamic disk header (big-endian) of dynamic and differencing VHDs: where the block
/// allocation table is, the block size, and for differencing disks the parent's identity and locators.
/// </summary>
internal readonly record struct VhdDynamicHeader
{
    public ulong NextOffset { get; init; }
    public long TableOffset { get; init; }
    public uint HeaderVersion { get; init; }
    public uint MaxTableEntries { get; init; }
    public int BlockSize { get; init; }
    public Guid ParentUniqueId { get; init; }
    public uint ParentTimeStamp { get; init; }
    public string ParentName { get; init; }
    public IReadOnlyList<VhdParentLocator> Locators { get; init; }

    /// <summary>Bytes of each block's sector bitmap.</summary>
    public int BitmapSize => BitmapBytes(BlockSize);

    /// <summary>True when <paramref name="data"/> starts with "cxsparse".</summary>
    public static bool HasCookie(ReadOnlySpan<byte> data) => data.Length >= 8 && BinaryPrimitives.ReadUInt64BigEndian(data) == DynamicCookie;

    /// <summary>Parses and validates a dynamic disk header.</summary>
    /// <exception cref="CorruptImageException">A missing cookie, a wrong checksum, or a field out of range.</exception>
    /// <exception cref="UnsupportedFeatureException">An unknown header version.</exception>
    public static VhdDynamicHeader Read(ReadOnlySpan<byte> data, string? path)
    {
        if (data.Length < DynamicHeaderSize || !HasCookie(data)) throw new CorruptImageException("The VHD dynamic disk header is missing (no \"cxsparse\" cookie).", path);
        data = data[..DynamicHeaderSize];
        uint stored = BinaryPrimitives.ReadUInt32BigEndian(data[36..]);
        uint computed = VhdFooter.Checksum(data, 36);
        if (stored != computed)
            throw new CorruptImageException($"The VHD dynamic disk header checksum is wrong (stored 0x{stored:x8}, computed 0x{computed:x8}): the header is damaged.", path);
        uint version = BinaryPrimitives.ReadUInt32BigEndian(data[24..]);
        if (version >> 16 != 1) throw new UnsupportedFeatureException($"VHD dynamic header version {version >> 16}.{version & 0xFFFF} is not supported.", path);
        ulong table = BinaryPrimitives.ReadUInt64BigEndian(data[16..]);
        if (table > long.MaxValue / 2) throw new CorruptImageException($"The block allocation table offset 0x{table:x} is out of range.", path);
        uint blockSize = BinaryPrimitives.ReadUInt32BigEndian(data[32..]);
        if (blockSize < SectorSize || blockSize > MaxBlockSize || (blockSize & (blockSize - 1)) != 0)
            throw new CorruptImageException($"The VHD block size {blockSize} is not a power of two from 512 bytes to 256 MiB.", path);
        var locators = new VhdParentLocator[LocatorCount];
        for (int i = 0; i < LocatorCount; i++)
        {
            var e = data.Slice(576 + 24 * i, 24);
            ulong offset = BinaryPrimitives.ReadUInt64BigEndian(e[16..]);
            locators[i] = new VhdParentLocator(
                BinaryPrimitives.ReadUInt32BigEndian(e),
                BinaryPrimitives.ReadUInt32BigEndian(e[4..]),
                BinaryPrimitives.ReadUInt32BigEndian(e[8..]),
                offset > long.MaxValue / 2 ? -1 : (long)offset);
        }
        return new VhdDynamicHeader
        {
            NextOffset = BinaryPrimitives.ReadUInt64BigEndian(data[8..]),
            TableOffset = (long)table,
            HeaderVersion = version,
            MaxTableEntries = BinaryPrimitives.ReadUInt32BigEndian(data[28..]),
            BlockSize = (int)blockSize,
            ParentUniqueId = new Guid(data.Slice(40, 16), bigEndian: true),
            ParentTimeStamp = BinaryPrimitives.ReadUInt32BigEndian(data[56..]),
            ParentName = DecodeName(data.Slice(64, ParentNameBytes)),
            Locators = locators,
        };
    }

    private static string DecodeName(ReadOnlySpan<byte> utf16be)
    {
        int chars = 0;
        while (chars * 2 + 1 < utf16be.Length && (utf16be[chars * 2] | utf16be[chars * 2 + 1]) != 0) chars++;
        return Encoding.BigEndianUnicode.GetString(utf16be[..(chars * 2)]);
    }

    /// <summary>Serialises the header (with its checksum) into the first 1024 bytes of <paramref name="dest"/>.</summary>
    /// <exception cref="BadArgumentException">The parent name does not fit in 256 UTF-16 units.</exception>
    public void Write(Span<byte> dest)
    {
        var d = dest[..DynamicHeaderSize];
        d.Clear();
        BinaryPrimitives.WriteUInt64BigEndian(d, DynamicCookie);
        BinaryPrimitives.WriteUInt64BigEndian(d[8..], NextOffset);
        BinaryPrimitives.WriteUInt64BigEndian(d[16..], (ulong)TableOffset);
        BinaryPrimitives.WriteUInt32BigEndian(d[24..], HeaderVersion);
        BinaryPrimitives.WriteUInt32BigEndian(d[28..], MaxTableEntries);
        BinaryPrimitives.WriteUInt32BigEndian(d[32..], (uint)BlockSize);
        ParentUniqueId.TryWriteBytes(d.Slice(40, 16), bigEndian: true, out _);
        BinaryPrimitives.WriteUInt32BigEndian(d[56..], ParentTimeStamp);
        var name = Encoding.BigEndianUnicode.GetBytes(ParentName ?? "");
        if (name.Length > ParentNameBytes) throw new BadArgumentException($"The parent name '{ParentName}' is longer than the 256 UTF-16 units a VHD holds.");
        name.CopyTo(d[64..]);
        var locators = Locators ?? [];
        for (int i = 0; i < LocatorCount && i < locators.Count; i++)
        {
            var e = d.Slice(576 + 24 * i, 24);
            var l = locators[i];
            BinaryPrimitives.WriteUInt32BigEndian(e, l.PlatformCode);
            BinaryPrimitives.WriteUInt32BigEndian(e[4..], l.DataSpace);
            BinaryPrimitives.WriteUInt32BigEndian(e[8..], l.DataLength);
            BinaryPrimitives.WriteUInt64BigEndian(e[16..], l.InUse ? (ulong)l.DataOffset : 0);
        }
        BinaryPrimitives.WriteUInt32BigEndian(d[36..], VhdFooter.Checksum(d, 36));
    }

    /// <summary>The header as bytes.</summary>
    public byte[] ToBytes()
    {
        var b = new byte[DynamicHeaderSize];
        Write(b);
        return b;
    }
}
