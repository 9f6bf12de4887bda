using System.Text;

namespace Discemu.FileSystems.Iso9660.Authoring;

/// <summary>
/// Maps host names to ISO 9660 identifiers (ECMA-119 7.5, 7.6: d-characters, level 1 "8.3", levels 2–3 up to
/// 31 characters; files get the version ";1") and Joliet names (UCS-2, at most 64 or 103 characters, without
/// <c>* / : ; ? \</c>), makes them unique in each directory, and orders directory records (ECMA-119 9.3).
/// </summary>
internal static class IsoNaming
{
    /// <summary>Assigns <see cref="IsoNode.IsoName"/> and <see cref="IsoNode.JolietName"/> to the entries of one directory (all of them).</summary>
    public static void NameChildren(List<IsoNode> children, int level, bool joliet, bool jolietLong)
    {
        var used = new HashSet<string>(StringComparer.Ordinal);
        // The number each clashing name tries next: the ones before it were all taken when it last clashed, and
        // names are never freed, so resuming there gives the same names as counting from 1, without trying
        // n candidates for the n-th clash (thousands of "gcloud_alpha_..." man pages cut to the same 30 characters).
        var next = new Dictionary<(string, bool), int>();
        foreach (var c in children.OrderBy(c => c.Name, StringComparer.Ordinal))
            c.IsoName = Unique(IsoName(c.Name, c.IsDirectory, level), used, c.IsDirectory, level, next);
        if (!joliet) return;
        used.Clear();
        next.Clear();
        int max = jolietLong ? 103 : 64;
        foreach (var c in children.OrderBy(c => c.Name, StringComparer.Ordinal))
            c.JolietName = UniqueJoliet(JolietName(c.Name), used, c.IsDirectory, max, next);
    }

    /// <summary>The identifier without version for <paramref name="name"/>.</summary>
    private static string IsoName(string name, bool directory, int level)
    {
        int dot = directory ? -1 : name.LastIndexOf('.');
        if (dot == 0) dot = -1; // ".profile": no extension
        string stem = Map(dot < 0 ? name : name[..dot]);
        string ext = dot < 0 ? "" : Map(name[(dot + 1)..]);
        if (level == 1)
        {
            stem = Cut(stem, 8);
            ext = Cut(ext, 3);
        }
        else if (directory) stem = Cut(stem, 31);
        else
        {
            // 30 characters for name, dot and extension (the version takes the last two of 32).
            ext = Cut(ext, Math.Min(ext.Length, 29 - Math.Min(stem.Length, 1)));
            stem = Cut(stem, 30 - 1 - ext.Length);
        }
        if (stem.Length == 0 && ext.Length == 0) stem = "_";
        return directory ? stem : stem + "." + ext;
    }

    private static string Cut(string s, int n) => s.Length <= n ? s : s[..Math.Max(0, n)];

    private static string Map(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (char ch in s)
        {
            char u = char.ToUpperInvariant(ch);
            sb.Append(u is >= 'A' and <= 'Z' or >= '0' and <= '9' or '_' ? u : '_');
        }
        return sb.ToString();
    }

    private static string Unique(string name, HashSet<string> used, bool directory, int level, Dictionary<(string, bool), int> next)
    {
        if (used.Add(name)) return directory ? name : name + ";1";
        int dot = directory ? -1 : name.LastIndexOf('.');
        string stem = dot < 0 ? name : name[..dot], ext = dot < 0 ? "" : name[dot..];
        int maxStem = level == 1 ? 8 : directory ? 31 : 30 - ext.Length;
        for (int n = next.GetValueOrDefault((name, directory), 1); ; n++)
        {
            string digits = n.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (digits.Length > maxStem) throw new UnsupportedFeatureException("Too many names map to the same ISO 9660 identifier in one directory.");
            string candidate = Cut(stem, maxStem - digits.Length) + digits + ext;
            if (!used.Add(candidate)) continue;
            next[(name, directory)] = n + 1;
            return directory ? candidate : candidate + ";1";
        }
    }

    private static string JolietName(string name)
    {
        var sb = new StringBuilder(name.Length);
        foreach (char ch in name) sb.Append(ch is '*' or '/' or ':' or ';' or '?' or '\\' || ch < ' ' ? '_' : ch);
        return sb.ToString();
    }

    private static string UniqueJoliet(string name, HashSet<string> used, bool directory, int max, Dictionary<(string, bool), int> next)
    {
        // Joliet names compare as recorded; the version ";1" of files counts against the limit.
        int limit = directory ? max : max - 2;
        string candidate = CutJoliet(name, limit);
        if (used.Add(candidate)) return directory ? candidate : candidate + ";1";
        for (int n = next.GetValueOrDefault((name, directory), 1); ; n++)
        {
            string digits = n.ToString(System.Globalization.CultureInfo.InvariantCulture);
            int dot = directory ? -1 : name.LastIndexOf('.');
            string ext = dot > 0 && name.Length - dot <= 8 ? name[dot..] : "";
            string stem = dot > 0 && ext.Length > 0 ? name[..dot] : name;
            candidate = CutJoliet(stem, limit - digits.Length - ext.Length) + digits + ext;
            if (!used.Add(candidate)) continue;
            next[(name, directory)] = n + 1;
            return directory ? candidate : candidate + ";1";
        }
    }

    private static string CutJoliet(string s, int n)
    {
        if (s.Length <= n) return s;
        if (n > 0 && char.IsHighSurrogate(s[n - 1])) n--; // never split a surrogate pair
        return s[..n];
    }

    /// <summary>ECMA-119 9.3 order: names padded with spaces, then extensions padded with spaces, then versions descending.</summary>
    public static int Compare(string a, string b)
    {
        Split(a, out var an, out var ae, out var av);
        Split(b, out var bn, out var be, out var bv);
        int c = ComparePadded(an, bn);
        if (c != 0) return c;
        c = ComparePadded(ae, be);
        if (c != 0) return c;
        return -ComparePadded(av, bv);
    }

    private static void Split(string s, out ReadOnlySpan<char> name, out ReadOnlySpan<char> ext, out ReadOnlySpan<char> version)
    {
        var span = s.AsSpan();
        int semi = span.LastIndexOf(';');
        version = semi < 0 ? [] : span[(semi + 1)..];
        if (semi >= 0) span = span[..semi];
        int dot = span.LastIndexOf('.');
        name = dot < 0 ? span : span[..dot];
        ext = dot < 0 ? [] : span[(dot + 1)..];
    }

    private static int ComparePadded(ReadOnlySpan<char> a, ReadOnlySpan<char> b)
    {
        int n = Math.Max(a.Length, b.Length);
        for (int i = 0; i < n; i++)
        {
            char x = i < a.Length ? a[i] : ' ', y = i < b.Length ? b[i] : ' ';
            if (x != y) return x < y ? -1 : 1;
        }
        return 0;
    }

    /// <summary>Sorts one directory's named entries into ISO 9660 record order.</summary>
    public static void SortIso(List<IsoNode> children) => children.Sort(static (x, y) => Compare(x.IsoName, y.IsoName));

    /// <summary>Sorts one directory's named entries into Joliet record order (the same rule over UCS-2 code units).</summary>
    public static void SortJoliet(List<IsoNode> children) => children.Sort(static (x, y) => Compare(x.JolietName, y.JolietName));
}
