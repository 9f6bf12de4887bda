using System.Buffers.Binary;
using System.Text;

namespace Discemu.FileSystems.Udf;

/// <summary>OSTA Compressed Unicode (UDF 2.60 2.1.1, 2.1.3) and d-strings (ECMA-167 1/7.2.12).</summary>
internal static class UdfText
{
    /// <summary>
    /// Decodes OSTA CS0 compressed Unicode: a compression id (8: one byte per character, 16: big-endian UTF-16
    /// units; 254 and 255 are their "empty" forms in UDF 2.60) followed by the characters.
    /// </summary>
    /// <returns>The text, or null when the compression id is unknown.</returns>
    public static string? DecodeCs0(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty) return "";
        var body = data[1..];
        switch (data[0])
        {
            case 8:
            case 254:
                return Encoding.Latin1.GetString(body);
            case 16:
            case 255:
                var sb = new StringBuilder(body.Length / 2);
                for (int i = 0; i + 1 < body.Length; i += 2) sb.Append((char)BinaryPrimitives.ReadUInt16BigEndian(body[i..]));
                return sb.ToString();
            default:
                return null;
        }
    }

    /// <summary>Decodes a fixed-size d-string field: its last byte holds the used length (0 = empty).</summary>
    public static string DString(ReadOnlySpan<byte> field)
    {
        if (field.IsEmpty) return "";
        int used = field[^1];
        if (used == 0 || used > field.Length - 1) return "";
        return (DecodeCs0(field[..used]) ?? "").TrimEnd('\0');
    }

    /// <summary>The text of an entity identifier (regid, ECMA-167 1/7.4): its 23-byte identifier without padding.</summary>
    public static string RegidText(ReadOnlySpan<byte> regid)
        => Encoding.ASCII.GetString(regid.Slice(1, 23)).TrimEnd('\0', ' ');
}
