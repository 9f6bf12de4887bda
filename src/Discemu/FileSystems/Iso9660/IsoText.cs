using System.Text;

namespace Discemu.FileSystems.Iso9660;

/// <summary>Text decoding for the three name sets: ISO 9660 bytes, Joliet UCS-2 big-endian, Rock Ridge bytes.</summary>
internal static class IsoText
{
    private static readonly Encoding StrictUtf8 = new UTF8Encoding(false, throwOnInvalidBytes: true);

    /// <summary>
    /// Decodes bytes recorded "in the local character set" (ISO 9660:1999 and Rock Ridge names, volume
    /// fields): UTF-8 when they are valid UTF-8 (what current writers record), else Latin-1 so every byte
    /// still maps to one character.
    /// </summary>
    public static string Bytes(ReadOnlySpan<byte> b)
    {
        if (Ascii.IsValid(b)) return Encoding.ASCII.GetString(b);
        try { return StrictUtf8.GetString(b); }
        catch (DecoderFallbackException) { return Encoding.Latin1.GetString(b); }
    }

    /// <summary>Decodes Joliet's UCS-2 big-endian (surrogate pairs are accepted; an odd last byte is dropped).</summary>
    public static string Ucs2(ReadOnlySpan<byte> b) => Encoding.BigEndianUnicode.GetString(b[..(b.Length & ~1)]);

    /// <summary>A fixed-width volume descriptor field: decoded, with trailing spaces and NULs removed.</summary>
    public static string Field(ReadOnlySpan<byte> b, bool joliet)
        => (joliet ? Ucs2(b) : Bytes(b)).TrimEnd(' ', '\0');

    /// <summary>
    /// A file identifier as a name: the version (";1") is removed and, with <paramref name="stripDot"/> (ISO 9660
    /// levels 1 to 3, where the dot is mandatory), the separator dot of a name without extension ("README." becomes "README").
    /// </summary>
    public static string StripVersion(string identifier, bool stripDot)
    {
        int semi = identifier.LastIndexOf(';');
        if (semi > 0 && identifier.AsSpan(semi + 1).IndexOfAnyExceptInRange('0', '9') < 0) identifier = identifier[..semi];
        if (stripDot && identifier.Length > 1 && identifier[^1] == '.' && identifier.AsSpan().IndexOfAnyExcept('.') >= 0) identifier = identifier[..^1];
        return identifier;
    }
}
