using System.Buffers.Binary;
using System.Numerics;

namespace Discemu.Formats.Vhdx;

/// <summary>
/// CRC-32C (Castagnoli polynomial 0x1EDC6F41), the checksum of every VHDX header, region table and log
/// entry. System.IO.Hashing has no CRC-32C; <see cref="BitOperations.Crc32C(uint, ulong)"/> uses the
/// processor's CRC instructions where they exist (and a table otherwise).
/// </summary>
internal static class VhdxCrc32C
{
    /// <summary>The initial state of an incremental computation.</summary>
    public const uint Seed = 0xFFFFFFFF;

    /// <summary>The checksum of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => Finish(Append(Seed, data));

    /// <summary>Feeds <paramref name="data"/> into a running state.</summary>
    public static uint Append(uint state, ReadOnlySpan<byte> data)
    {
        while (data.Length >= 8)
        {
            state = BitOperations.Crc32C(state, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }
        foreach (byte b in data) state = BitOperations.Crc32C(state, b);
        return state;
    }

    /// <summary>Feeds <paramref name="count"/> zero bytes into a running state.</summary>
    public static uint AppendZeros(uint state, int count)
    {
        for (; count >= 8; count -= 8) state = BitOperations.Crc32C(state, 0UL);
        for (; count > 0; count--) state = BitOperations.Crc32C(state, (byte)0);
        return state;
    }

    /// <summary>The checksum from a running state.</summary>
    public static uint Finish(uint state) => ~state;

    /// <summary>The checksum of a structure whose 4-byte checksum field (at <paramref name="fieldOffset"/>) counts as zero.</summary>
    public static uint ComputeWithZeroField(ReadOnlySpan<byte> data, int fieldOffset)
    {
        uint s = Append(Seed, data[..fieldOffset]);
        s = AppendZeros(s, 4);
        return Finish(Append(s, data[(fieldOffset + 4)..]));
    }
}
