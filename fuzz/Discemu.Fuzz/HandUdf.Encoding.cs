using System.Buffers.Binary;
using System.Text;

namespace Discemu.Fuzz;

/// <summary>The field encoders of <see cref="HandUdf"/>: OSTA CS0, d-strings, charspecs, entity ids, timestamps, addresses, tags.</summary>
internal sealed partial class HandUdf
{
    /// <summary>OSTA CS0: 8-bit when every character fits, else 16-bit big-endian.</summary>
    public static byte[] Cs0(string text)
    {
        if (text.All(c => c < 256)) return [8, .. Encoding.Latin1.GetBytes(text)];
        return [16, .. Encoding.BigEndianUnicode.GetBytes(text)];
    }

    private static void DString(Span<byte> field, string text)
    {
        var cs0 = Cs0(text);
        cs0.AsSpan(0, Math.Min(cs0.Length, field.Length - 1)).CopyTo(field);
        field[^1] = (byte)Math.Min(cs0.Length, field.Length - 1);
    }

    private static void CharSpec(Span<byte> b)
    {
        b[0] = 0;
        Encoding.ASCII.GetBytes("OSTA Compressed Unicode").CopyTo(b[1..]);
    }

    private static void Regid(Span<byte> b, string id, ushort revision = 0)
    {
        Encoding.ASCII.GetBytes(id).CopyTo(b[1..]);
        if (revision != 0) U16(b[24..], revision);
    }

    private static void Time(Span<byte> b, DateTimeOffset t)
    {
        int zone = (int)t.Offset.TotalMinutes;
        U16(b, (ushort)((1 << 12) | (zone & 0xFFF)));
        U16(b[2..], (ushort)t.Year);
        b[4] = (byte)t.Month; b[5] = (byte)t.Day; b[6] = (byte)t.Hour; b[7] = (byte)t.Minute; b[8] = (byte)t.Second;
        int micro = (int)(t.Ticks % TimeSpan.TicksPerSecond / 10);
        b[9] = (byte)(micro / 10000); b[10] = (byte)(micro / 100 % 100); b[11] = (byte)(micro % 100);
    }

    private static void Extent(Span<byte> b, uint length, uint location) { U32(b, length); U32(b[4..], location); }

    private static void LongAd(Span<byte> b, uint length, uint block, ushort partition) { U32(b, length); U32(b[4..], block); U16(b[8..], partition); }

    /// <summary>Fills in a descriptor tag (ECMA-167 3/7.2): checksum and CRC over the <paramref name="size"/>-16 bytes after it.</summary>
    public static void Tag(Span<byte> d, ushort id, uint location, int size)
    {
        U16(d, id);
        U16(d[2..], 3);
        U16(d[6..], 1);
        ushort crc = 0;
        foreach (byte x in d[16..size])
        {
            crc ^= (ushort)(x << 8);
            for (int i = 0; i < 8; i++) crc = (crc & 0x8000) != 0 ? (ushort)((crc << 1) ^ 0x1021) : (ushort)(crc << 1);
        }
        U16(d[8..], crc);
        U16(d[10..], (ushort)(size - 16));
        U32(d[12..], location);
        byte sum = 0;
        for (int i = 0; i < 16; i++) if (i != 4) sum += d[i];
        d[4] = sum;
    }

    private static void U16(Span<byte> b, ushort v) => BinaryPrimitives.WriteUInt16LittleEndian(b, v);
    private static void U32(Span<byte> b, uint v) => BinaryPrimitives.WriteUInt32LittleEndian(b, v);
    private static void U64(Span<byte> b, ulong v) => BinaryPrimitives.WriteUInt64LittleEndian(b, v);
}
