using System.Buffers.Binary;

namespace Discemu.Formats.Dmg;

/// <summary>A UDIF checksum field: type, size in bits, and up to 128 bytes of value (big-endian).</summary>
internal readonly record struct DmgChecksum(uint Type, uint Bits, byte[] Value)
{
    /// <summary>On-disk size: type, bit count, 128 value bytes.</summary>
    public const int Size = 8 + DmgConstants.ChecksumBytes;

    /// <summary>The CRC-32 value when <see cref="Type"/> is CRC-32 with 32 bits, else null.</summary>
    public uint? Crc32 => Type == DmgConstants.ChecksumCrc32 && Bits == 32 ? BinaryPrimitives.ReadUInt32BigEndian(Value) : null;

    /// <summary>The bytes the checksum occupies ((bits + 7) / 8, at most 128).</summary>
    public ReadOnlySpan<byte> UsedBytes => Value.AsSpan(0, (int)Math.Min((Bits + 7) / 8, DmgConstants.ChecksumBytes));

    /// <summary>A readable name for the type.</summary>
    public string TypeName => Type switch
    {
        DmgConstants.ChecksumNone => "none",
        DmgConstants.ChecksumCrc32 => "crc32",
        DmgConstants.ChecksumMd5 => "md5",
        _ => $"type {Type}",
    };

    /// <summary>The value as hex (only the used bytes), or "" for no checksum.</summary>
    public string Hex => Type == DmgConstants.ChecksumNone ? "" : Convert.ToHexStringLower(UsedBytes);

    /// <summary>Reads a checksum field (at least <see cref="Size"/> bytes).</summary>
    public static DmgChecksum Read(ReadOnlySpan<byte> data)
        => new(BinaryPrimitives.ReadUInt32BigEndian(data), BinaryPrimitives.ReadUInt32BigEndian(data[4..]), data.Slice(8, DmgConstants.ChecksumBytes).ToArray());

    /// <summary>A CRC-32 checksum field.</summary>
    public static DmgChecksum FromCrc32(uint crc)
    {
        var value = new byte[DmgConstants.ChecksumBytes];
        BinaryPrimitives.WriteUInt32BigEndian(value, crc);
        return new DmgChecksum(DmgConstants.ChecksumCrc32, 32, value);
    }

    /// <summary>Writes the field (<see cref="Size"/> bytes).</summary>
    public void Write(Span<byte> dest)
    {
        BinaryPrimitives.WriteUInt32BigEndian(dest, Type);
        BinaryPrimitives.WriteUInt32BigEndian(dest[4..], Bits);
        dest.Slice(8, DmgConstants.ChecksumBytes).Clear();
        (Value ?? []).AsSpan(0, Math.Min(Value?.Length ?? 0, DmgConstants.ChecksumBytes)).CopyTo(dest[8..]);
    }
}
