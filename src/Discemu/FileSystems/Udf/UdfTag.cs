using System.Buffers.Binary;
using static Discemu.FileSystems.Udf.UdfConstants;

namespace Discemu.FileSystems.Udf;

/// <summary>A descriptor tag (ECMA-167 3/7.2): identifier, version, checksum, serial, CRC and own location.</summary>
internal readonly struct UdfTag
{
    public ushort Identifier { get; init; }
    public ushort Version { get; init; }
    public ushort CrcLength { get; init; }
    public uint Location { get; init; }

    /// <summary>
    /// Reads the tag at the start of <paramref name="descriptor"/> and checks its checksum, its CRC (over
    /// the bytes that follow it, when they are present in <paramref name="descriptor"/>) and, when
    /// <paramref name="expectedLocation"/> is given, that it records where it was read from.
    /// </summary>
    /// <returns>False when the bytes are not a valid tag.</returns>
    public static bool TryRead(ReadOnlySpan<byte> descriptor, uint? expectedLocation, out UdfTag tag)
    {
        tag = default;
        if (descriptor.Length < TagSize) return false;
        byte sum = 0;
        for (int i = 0; i < TagSize; i++)
            if (i != 4) sum += descriptor[i];
        if (sum != descriptor[4]) return false;
        if (descriptor.Length == TagSize && descriptor[..TagSize].IndexOfAnyExcept((byte)0) < 0) return false;
        var t = new UdfTag
        {
            Identifier = BinaryPrimitives.ReadUInt16LittleEndian(descriptor),
            Version = BinaryPrimitives.ReadUInt16LittleEndian(descriptor[2..]),
            CrcLength = BinaryPrimitives.ReadUInt16LittleEndian(descriptor[10..]),
            Location = BinaryPrimitives.ReadUInt32LittleEndian(descriptor[12..]),
        };
        if (t.Identifier == 0 && t.Location == 0 && sum == 0) return false; // an all-zero block
        if (t.Version is not (2 or 3)) return false;
        if (expectedLocation is { } loc && t.Location != loc) return false;
        if (TagSize + t.CrcLength <= descriptor.Length)
        {
            ushort crc = BinaryPrimitives.ReadUInt16LittleEndian(descriptor[8..]);
            if (UdfCrc.Compute(descriptor.Slice(TagSize, t.CrcLength)) != crc) return false;
        }
        tag = t;
        return true;
    }
}

/// <summary>The CRC of descriptor tags: CRC-16/CCITT, polynomial x^16+x^12+x^5+1, initial value 0 (ECMA-167 1/7.2.6).</summary>
internal static class UdfCrc
{
    private static readonly ushort[] Table = MakeTable();

    private static ushort[] MakeTable()
    {
        var table = new ushort[256];
        for (int i = 0; i < 256; i++)
        {
            ushort value = (ushort)(i << 8);
            for (int bit = 0; bit < 8; bit++)
                value = (value & 0x8000) != 0 ? (ushort)((value << 1) ^ 0x1021) : (ushort)(value << 1);
            table[i] = value;
        }
        return table;
    }

    /// <summary>The CRC of <paramref name="data"/>.</summary>
    public static ushort Compute(ReadOnlySpan<byte> data)
    {
        ushort crc = 0;
        foreach (byte b in data) crc = (ushort)((crc << 8) ^ Table[(crc >> 8) ^ b]);
        return crc;
    }
}
