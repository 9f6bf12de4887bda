using System.Buffers.Binary;
using System.Text;

namespace Discemu.Nbd;

/// <summary>A transmission request header (28 bytes, big-endian).</summary>
internal readonly record struct NbdRequest(ushort Flags, ushort Type, ulong Cookie, ulong Offset, uint Length)
{
    /// <summary>Parses a header; false when the buffer is short or the magic is wrong.</summary>
    public static bool TryRead(ReadOnlySpan<byte> src, out NbdRequest request)
    {
        request = default;
        if (src.Length < NbdConstants.RequestSize) return false;
        if (BinaryPrimitives.ReadUInt32BigEndian(src) != NbdConstants.RequestMagic) return false;
        request = new NbdRequest(
            BinaryPrimitives.ReadUInt16BigEndian(src[4..]),
            BinaryPrimitives.ReadUInt16BigEndian(src[6..]),
            BinaryPrimitives.ReadUInt64BigEndian(src[8..]),
            BinaryPrimitives.ReadUInt64BigEndian(src[16..]),
            BinaryPrimitives.ReadUInt32BigEndian(src[24..]));
        return true;
    }

    /// <summary>Writes the header (used by tests and clients).</summary>
    public void Write(Span<byte> dst)
    {
        BinaryPrimitives.WriteUInt32BigEndian(dst, NbdConstants.RequestMagic);
        BinaryPrimitives.WriteUInt16BigEndian(dst[4..], Flags);
        BinaryPrimitives.WriteUInt16BigEndian(dst[6..], Type);
        BinaryPrimitives.WriteUInt64BigEndian(dst[8..], Cookie);
        BinaryPrimitives.WriteUInt64BigEndian(dst[16..], Offset);
        BinaryPrimitives.WriteUInt32BigEndian(dst[24..], Length);
    }
}

/// <summary>The header of a client option: IHAVEOPT, option code, payload length (16 bytes).</summary>
internal readonly record struct NbdOptionHeader(uint Option, uint Length)
{
    /// <summary>Size on the wire.</summary>
    public const int Size = 16;

    /// <summary>Parses a header; false when short or the magic is wrong.</summary>
    public static bool TryRead(ReadOnlySpan<byte> src, out NbdOptionHeader header)
    {
        header = default;
        if (src.Length < Size || BinaryPrimitives.ReadUInt64BigEndian(src) != NbdConstants.OptionMagic) return false;
        header = new NbdOptionHeader(BinaryPrimitives.ReadUInt32BigEndian(src[8..]), BinaryPrimitives.ReadUInt32BigEndian(src[12..]));
        return true;
    }

    /// <summary>Writes the header.</summary>
    public void Write(Span<byte> dst)
    {
        BinaryPrimitives.WriteUInt64BigEndian(dst, NbdConstants.OptionMagic);
        BinaryPrimitives.WriteUInt32BigEndian(dst[8..], Option);
        BinaryPrimitives.WriteUInt32BigEndian(dst[12..], Length);
    }
}

/// <summary>The payload of NBD_OPT_INFO / NBD_OPT_GO: an export name and the info types asked for.</summary>
internal readonly record struct NbdInfoRequest(string Name, ushort[] InfoTypes)
{
    /// <summary>Parses the payload; false when lengths disagree with the payload size or the name is not UTF-8.</summary>
    public static bool TryRead(ReadOnlySpan<byte> src, out NbdInfoRequest request)
    {
        request = default;
        if (src.Length < 4) return false;
        uint nameLength = BinaryPrimitives.ReadUInt32BigEndian(src);
        if (nameLength > NbdConstants.MaxStringLength || nameLength > (uint)(src.Length - 4)) return false;
        int pos = 4 + (int)nameLength;
        if (!NbdStrings.TryDecode(src[4..pos], out string name)) return false;
        if (src.Length - pos < 2) return false;
        int count = BinaryPrimitives.ReadUInt16BigEndian(src[pos..]);
        pos += 2;
        if (src.Length - pos != count * 2) return false;
        var types = new ushort[count];
        for (int i = 0; i < count; i++) types[i] = BinaryPrimitives.ReadUInt16BigEndian(src[(pos + 2 * i)..]);
        request = new NbdInfoRequest(name, types);
        return true;
    }
}

/// <summary>The payload of NBD_OPT_LIST_META_CONTEXT / NBD_OPT_SET_META_CONTEXT: an export name and queries.</summary>
internal readonly record struct NbdMetaContextRequest(string ExportName, string[] Queries)
{
    /// <summary>Most queries accepted in one option.</summary>
    public const int MaxQueries = 128;

    /// <summary>Parses the payload; false when malformed.</summary>
    public static bool TryRead(ReadOnlySpan<byte> src, out NbdMetaContextRequest request)
    {
        request = default;
        if (!TryReadString(src, 0, out string export, out int pos)) return false;
        if (src.Length - pos < 4) return false;
        uint count = BinaryPrimitives.ReadUInt32BigEndian(src[pos..]);
        pos += 4;
        if (count > MaxQueries) return false;
        var queries = new string[count];
        for (int i = 0; i < queries.Length; i++)
            if (!TryReadString(src, pos, out queries[i], out pos)) return false;
        if (pos != src.Length) return false;
        request = new NbdMetaContextRequest(export, queries);
        return true;
    }

    private static bool TryReadString(ReadOnlySpan<byte> src, int pos, out string value, out int next)
    {
        value = "";
        next = pos;
        if (src.Length - pos < 4) return false;
        uint length = BinaryPrimitives.ReadUInt32BigEndian(src[pos..]);
        if (length > NbdConstants.MaxStringLength || length > (uint)(src.Length - pos - 4)) return false;
        next = pos + 4 + (int)length;
        return NbdStrings.TryDecode(src[(pos + 4)..next], out value);
    }
}

/// <summary>Strict UTF-8 for names on the wire.</summary>
internal static class NbdStrings
{
    private static readonly UTF8Encoding Strict = new(false, true);

    /// <summary>Decodes strict UTF-8 without NUL characters.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> bytes, out string value)
    {
        value = "";
        if (bytes.Contains((byte)0)) return false;
        try { value = Strict.GetString(bytes); }
        catch (DecoderFallbackException) { return false; }
        return true;
    }

    /// <summary>UTF-8 bytes of a string.</summary>
    public static byte[] Encode(string value) => Strict.GetBytes(value);
}
