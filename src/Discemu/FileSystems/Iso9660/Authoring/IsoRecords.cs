using System.Buffers.Binary;
using System.Text;
using static Discemu.FileSystems.Iso9660.IsoConstants;

namespace Discemu.FileSystems.Iso9660.Authoring;

/// <summary>Encoders of ECMA-119 numbers, directory records (9.1) and path table records (9.4).</summary>
internal static class IsoRecords
{
    /// <summary>The largest extent of one directory record of a multi-extent file: 4 GiB less one block.</summary>
    public const long MaxExtentBytes = 0xFFFFF800L;

    public static void Both16(Span<byte> b, ushort v)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(b, v);
        BinaryPrimitives.WriteUInt16BigEndian(b[2..], v);
    }

    public static void Both32(Span<byte> b, uint v)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        BinaryPrimitives.WriteUInt32BigEndian(b[4..], v);
    }

    /// <summary>Length of a directory record with an identifier of <paramref name="idLength"/> bytes and <paramref name="suLength"/> bytes of System Use (made even).</summary>
    public static int RecordLength(int idLength, int suLength)
    {
        int n = DirectoryRecordHeaderLength + idLength + ((idLength & 1) == 0 ? 1 : 0) + suLength;
        return n + (n & 1);
    }

    /// <summary>Writes a directory record; returns its length.</summary>
    public static int WriteRecord(Span<byte> b, uint extent, uint length, long mtime, byte flags, ReadOnlySpan<byte> id, ReadOnlySpan<byte> systemUse)
    {
        int len = RecordLength(id.Length, systemUse.Length);
        if (len > 255) throw new InvalidOperationException("A directory record is over 255 bytes."); // the planner prevents this
        var r = b[..len];
        r.Clear();
        r[0] = (byte)len;
        Both32(r[2..], extent);
        Both32(r[10..], length);
        IsoDateTimeWriter.WriteShort(r[18..], mtime);
        r[25] = flags;
        Both16(r[28..], 1);
        r[32] = (byte)id.Length;
        id.CopyTo(r[33..]);
        systemUse.CopyTo(r[(33 + id.Length + ((id.Length & 1) == 0 ? 1 : 0))..]);
        return len;
    }

    /// <summary>The bytes of an ISO 9660 identifier (d-characters, '.', ';' and digits: ASCII).</summary>
    public static byte[] IsoIdentifier(string name) => Encoding.ASCII.GetBytes(name);

    /// <summary>The bytes of a Joliet identifier (UCS-2 big-endian).</summary>
    public static byte[] JolietIdentifier(string name) => Encoding.BigEndianUnicode.GetBytes(name);

    /// <summary>Length of a path table record with an identifier of <paramref name="idLength"/> bytes.</summary>
    public static int PathRecordLength(int idLength) => 8 + idLength + (idLength & 1);

    /// <summary>Writes a path table record (L type little-endian, M type big-endian); returns its length.</summary>
    public static int WritePathRecord(Span<byte> b, bool bigEndian, uint extent, ushort parent, ReadOnlySpan<byte> id)
    {
        int len = PathRecordLength(id.Length);
        var r = b[..len];
        r.Clear();
        r[0] = (byte)id.Length;
        if (bigEndian)
        {
            BinaryPrimitives.WriteUInt32BigEndian(r[2..], extent);
            BinaryPrimitives.WriteUInt16BigEndian(r[6..], parent);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(r[2..], extent);
            BinaryPrimitives.WriteUInt16LittleEndian(r[6..], parent);
        }
        id.CopyTo(r[8..]);
        return len;
    }

    /// <summary>Writes a fixed-width text field: ASCII padded with spaces, or UCS-2 big-endian padded with UCS-2 spaces.</summary>
    public static void Field(Span<byte> b, string text, bool joliet)
    {
        if (joliet)
        {
            for (int i = 0; i + 1 < b.Length; i += 2) { b[i] = 0; b[i + 1] = (byte)' '; }
            if (b.Length % 2 == 1) b[^1] = 0;
            var bytes = Encoding.BigEndianUnicode.GetBytes(text);
            bytes.AsSpan(0, Math.Min(bytes.Length, b.Length & ~1)).CopyTo(b);
        }
        else
        {
            b.Fill((byte)' ');
            int n = Encoding.ASCII.GetBytes(text.AsSpan(0, Math.Min(text.Length, b.Length)), b);
            _ = n;
        }
    }
}
