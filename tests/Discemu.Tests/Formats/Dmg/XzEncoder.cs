using System.IO.Hashing;
using SharpCompress.Compressors.LZMA;

namespace Discemu.Tests.Formats.Dmg;

/// <summary>
/// Writes an xz stream (what ULMO chunks hold; 7-Zip accepts only xz there) for the test kit. SharpCompress
/// encodes LZMA but not LZMA2, so the data is cut into 32 KiB pieces, each encoded as a fresh LZMA stream and
/// stored as an LZMA2 chunk that resets the dictionary and state; the xz container (stream header, one block
/// with the LZMA2 filter, CRC-32 check, index, stream footer) is written by hand.
/// </summary>
internal static class XzEncoder
{
    private const byte DictionaryProperty = 16; // (2 | 0) << (16 / 2 + 11) = 1 MiB

    public static byte[] Encode(byte[] data)
    {
        var chunks = new List<byte>();
        for (int pos = 0; pos < data.Length; pos += 32 << 10)
        {
            int n = Math.Min(32 << 10, data.Length - pos);
            byte[] packed;
            using (var ms = new MemoryStream())
            {
                using (var enc = LzmaStream.Create(new LzmaEncoderProperties(false, 1 << 20), false, ms)) enc.Write(data, pos, n);
                packed = ms.ToArray();
            }
            // Control 0xE0: LZMA chunk, dictionary reset, new properties (lc=3 lp=0 pb=2 = 0x5D).
            int u = n - 1, p = packed.Length - 1;
            chunks.AddRange([(byte)(0xE0 | (u >> 16)), (byte)(u >> 8), (byte)u, (byte)(p >> 8), (byte)p, 0x5D]);
            chunks.AddRange(packed);
        }
        chunks.Add(0x00);
        byte[] lzma2 = [.. chunks];
        var o = new List<byte>();
        // Stream header: magic, flags (check type 1 = CRC-32), CRC-32 of the flags.
        o.AddRange([0xFD, (byte)'7', (byte)'z', (byte)'X', (byte)'Z', 0x00]);
        byte[] flags = [0x00, 0x01];
        o.AddRange(flags);
        AddLe32(o, Crc32.HashToUInt32(flags));
        // Block header: size, flags (one filter, no sizes), LZMA2 filter with its dictionary byte, padding, CRC-32.
        var header = new List<byte> { 0, 0x00, 0x21, 0x01, DictionaryProperty };
        while ((header.Count + 4) % 4 != 0) header.Add(0);
        header[0] = (byte)((header.Count + 4) / 4 - 1);
        AddLe32(header, Crc32.HashToUInt32(header.ToArray()));
        o.AddRange(header);
        o.AddRange(lzma2);
        long unpadded = header.Count + lzma2.Length + 4;
        while (o.Count % 4 != 0) o.Add(0);
        AddLe32(o, Crc32.HashToUInt32(data));
        // Index: indicator, one record (unpadded size, uncompressed size), padding, CRC-32.
        var index = new List<byte> { 0x00 };
        AddVarint(index, 1);
        AddVarint(index, (ulong)unpadded);
        AddVarint(index, (ulong)data.Length);
        while (index.Count % 4 != 0) index.Add(0);
        AddLe32(index, Crc32.HashToUInt32(index.ToArray()));
        o.AddRange(index);
        // Stream footer: CRC-32 of (backward size, flags), backward size, flags, magic.
        var footer = new List<byte>();
        AddLe32(footer, (uint)(index.Count / 4 - 1));
        footer.AddRange(flags);
        AddLe32(o, Crc32.HashToUInt32(footer.ToArray()));
        o.AddRange(footer);
        o.AddRange([(byte)'Y', (byte)'Z']);
        return [.. o];
    }

    private static void AddLe32(List<byte> o, uint v) { o.Add((byte)v); o.Add((byte)(v >> 8)); o.Add((byte)(v >> 16)); o.Add((byte)(v >> 24)); }

    private static void AddVarint(List<byte> o, ulong v)
    {
        while (v >= 0x80) { o.Add((byte)(v | 0x80)); v >>= 7; }
        o.Add((byte)v);
    }
}
