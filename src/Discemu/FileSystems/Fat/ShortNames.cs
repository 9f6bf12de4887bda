using System.Text;
using static Discemu.FileSystems.Fat.FatConstants;

namespace Discemu.FileSystems.Fat;

/// <summary>
/// 8.3 names: decoding for display, whether a long name can be stored as a short name alone (possibly with
/// the NT lower-case flags), and alias generation (fatgen103 "basis-name generation" with a numeric tail).
/// Short names are decoded with code page 850 (mtools' default); names Discemu creates use ASCII only.
/// </summary>
public static class ShortNames
{
    private static readonly Encoding Oem = CodePagesEncodingProvider.Instance.GetEncoding(850) ?? Encoding.Latin1;

    private const string SpecialChars = "$%'-_@~`!(){}^#&";
    private const string LongOnlyChars = "+,;=[]";

    /// <summary>The name as shown: base, then "." and extension when there is one, with the NT lower-case flags applied.</summary>
    public static string Display(ReadOnlySpan<byte> name11, byte ntFlags)
    {
        Span<byte> n = stackalloc byte[ShortNameLength];
        name11[..ShortNameLength].CopyTo(n);
        if (n[0] == E5Substitute) n[0] = DeletedMarker;
        string b = Oem.GetString(n[..8]).TrimEnd(' ');
        string e = Oem.GetString(n[8..]).TrimEnd(' ');
        if ((ntFlags & NtLowerBase) != 0) b = b.ToLowerInvariant();
        if ((ntFlags & NtLowerExtension) != 0) e = e.ToLowerInvariant();
        return e.Length == 0 ? b : b + "." + e;
    }

    /// <summary>True when <paramref name="c"/> may appear in a short name Discemu writes (upper case letters, digits, the specials).</summary>
    public static bool IsShortChar(char c) => c is >= 'A' and <= 'Z' or >= '0' and <= '9' || SpecialChars.Contains(c);

    /// <summary>True when <paramref name="name"/> is a valid long name (1-255 units, no control characters or <c>"*/:&lt;&gt;?\|</c>, not "." or "..", not only spaces and dots).</summary>
    public static bool IsValidLongName(string name)
    {
        if (name.Length is 0 or > MaxLongNameLength || name is "." or "..") return false;
        foreach (char c in name)
            if (c < 0x20 || c == 0x7F || "\"*/:<>?\\|".Contains(c)) return false;
        return name.TrimEnd(' ', '.').Length != 0;
    }

    /// <summary>
    /// When <paramref name="name"/> fits 8.3 exactly (each part all upper or all lower case), its 11-byte form and
    /// the NT flags that restore its case; otherwise null (it needs a long name and an alias).
    /// </summary>
    public static (byte[] Name, byte NtFlags)? TryExact(string name)
    {
        if (name is "." or "..") return null;
        int dot = name.IndexOf('.');
        if ((dot < 0 ? name.Length : dot) > 8 || dot >= 0 && name.Length - dot - 1 > 3) return null; // before any substring
        string b = dot < 0 ? name : name[..dot], e = dot < 0 ? "" : name[(dot + 1)..];
        if (b.Length is 0 or > 8 || e.Length > 3 || e.Contains('.') || dot >= 0 && e.Length == 0) return null;
        byte flags = 0;
        if (!PartFits(b, NtLowerBase, ref flags) || !PartFits(e, NtLowerExtension, ref flags)) return null;
        var bytes = Pad(b.ToUpperInvariant(), e.ToUpperInvariant());
        if (bytes[0] == DeletedMarker) bytes[0] = E5Substitute;
        return (bytes, flags);
    }

    private static bool PartFits(string part, byte lowerFlag, ref byte flags)
    {
        bool hasLower = false, hasUpper = false;
        foreach (char c in part)
        {
            char u = c is >= 'a' and <= 'z' ? (char)(c - 32) : c;
            if (!IsShortChar(u)) return false;
            if (c is >= 'a' and <= 'z') hasLower = true;
            if (c is >= 'A' and <= 'Z') hasUpper = true;
        }
        if (hasLower && hasUpper) return false;
        if (hasLower) flags |= lowerFlag;
        return true;
    }

    /// <summary>
    /// The basis name for a long name (fatgen103): upper case; characters a short name cannot hold become '_'
    /// (lossy); spaces and leading dots are dropped; up to 8 characters before the last dot and 3 after it.
    /// </summary>
    /// <returns>The base and extension parts, and whether the conversion lost information.</returns>
    public static (string Base, string Extension, bool Lossy) Basis(string longName)
    {
        bool lossy = false;
        var s = longName.AsSpan().TrimStart('.');
        if (s.Length != longName.Length) lossy = true;
        int lastDot = s.LastIndexOf('.');
        var b = lastDot < 0 ? s : s[..lastDot];
        var e = lastDot < 0 ? default : s[(lastDot + 1)..];
        Span<char> bb = stackalloc char[8], ee = stackalloc char[3];
        int bn = Convert(b, bb, ref lossy), en = Convert(e, ee, ref lossy);
        if (bn == 0) { lossy = true; return ("_", new string(ee[..en]), lossy); }
        return (new string(bb[..bn]), new string(ee[..en]), lossy);
    }

    /// <summary>Upper-cases <paramref name="part"/> into <paramref name="into"/>, dropping spaces and dots and turning what a short name cannot hold into '_'.</summary>
    /// <returns>The characters written.</returns>
    private static int Convert(ReadOnlySpan<char> part, Span<char> into, ref bool lossy)
    {
        int n = 0;
        foreach (char c in part)
        {
            if (c is ' ' or '.') { lossy = true; continue; }
            char u = char.ToUpperInvariant(c);
            if (!IsShortChar(u)) { u = '_'; lossy = true; }
            if (n < into.Length) into[n++] = u;
            else lossy = true;
        }
        return n;
    }

    /// <summary>
    /// A short alias for <paramref name="longName"/> not in <paramref name="taken"/> (11-byte keys as Latin-1
    /// strings): the basis name itself when nothing was lost converting it, else the basis with a numeric tail "~N" (N from 1), the base shortened so the whole stays 8 characters.
    /// </summary>
    /// <exception cref="DiskFullException">Every alias up to ~999999 is taken.</exception>
    public static byte[] GenerateAlias(string longName, Func<string, bool> taken) => GenerateAlias(longName, taken, null);

    /// <summary>
    /// <see cref="GenerateAlias(string, Func{string, bool})"/> with <paramref name="tails"/>: per basis (its padded key), a
    /// tail number below which every "~n" alias is known to be taken. The search starts there and records where it
    /// stopped, so adding many names with one basis to a directory does not try every earlier tail again. The caller
    /// clears it when a name is removed from the set.
    /// </summary>
    internal static byte[] GenerateAlias(string longName, Func<string, bool> taken, Dictionary<string, int>? tails)
    {
        var (b, e, lossy) = Basis(longName);
        var plain = Pad(b, e);
        string basisKey = Key(plain);
        if (!lossy && !taken(basisKey)) return plain;
        int start = tails is not null && tails.TryGetValue(basisKey, out int known) ? known : 1;
        Span<byte> candidate = stackalloc byte[ShortNameLength];
        Span<char> tail = stackalloc char[8];
        for (int n = start; n < 1_000_000; n++)
        {
            tail[0] = '~';
            n.TryFormat(tail[1..], out int digits, provider: System.Globalization.CultureInfo.InvariantCulture);
            int tailLength = digits + 1, keep = Math.Min(b.Length, 8 - tailLength);
            plain.CopyTo(candidate); // the extension, and spaces after the base
            for (int i = 0; i < keep; i++) candidate[i] = (byte)b[i];
            for (int i = 0; i < tailLength; i++) candidate[keep + i] = (byte)tail[i];
            if (!taken(Key(candidate)))
            {
                if (tails is not null) tails[basisKey] = n;
                return candidate.ToArray();
            }
        }
        throw new DiskFullException($"No free short alias for '{longName}'.");
    }

    /// <summary>The 11-byte space-padded form of a base and extension (ASCII).</summary>
    public static byte[] Pad(string b, string e)
    {
        var bytes = new byte[ShortNameLength];
        bytes.AsSpan().Fill((byte)' ');
        for (int i = 0; i < b.Length && i < 8; i++) bytes[i] = (byte)b[i];
        for (int i = 0; i < e.Length && i < 3; i++) bytes[8 + i] = (byte)e[i];
        return bytes;
    }

    /// <summary>A string key for an 11-byte name, for set lookups.</summary>
    public static string Key(ReadOnlySpan<byte> name11) => Encoding.Latin1.GetString(name11);
}
