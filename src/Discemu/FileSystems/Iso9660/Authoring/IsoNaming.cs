using System.Text;

namespace Discemu.FileSystems.Iso9660.Authoring;

/// <summary>
/// Maps host names to ISO 9660 identifiers (ECMA-119 7.5, 7.6: d-characters, level 1 "8.3", levels 2–3 up to
/// 31 characters; files get the version ";1") and Joliet names (UCS-2, at most 64 or 103 characters, without
/// <c>* / : ; ? \</c>), makes them unique in each directory, and orders directory records (ECMA-119 9.3).
/// </summary>
internal static class IsoNaming
{
    /// <summary>Assigns every entry's <see cref="IsoEntry.IsoName"/> and (with <paramref name="joliet"/>) <see cref="IsoEntry.JolietName"/>.</summary>
    public static void NameChildren(IsoEntries children, int level, bool joliet, bool jolietLong)
    {
        // In host name order, so that clashes are numbered the same whatever order the entries were added in.
        var byName = new int[children.Count];
        for (int i = 0; i < byName.Length; i++) byName[i] = i;
        Array.Sort(byName, (x, y) =>
        {
            int c = children.Text(children[x].Name).SequenceCompareTo(children.Text(children[y].Name));
            return c != 0 ? c : x.CompareTo(y);
        });
        var used = new Used(children, children.Count);
        // The number each clashing name tries next: the ones before it were all taken when it last clashed, and
        // names are never freed, so resuming there gives the same names as counting from 1, without trying
        // n candidates for the n-th clash (thousands of "gcloud_alpha_..." man pages cut to the same 30 characters).
        var next = new Dictionary<(string, bool), int>();
        foreach (int i in byName)
        {
            ref var e = ref children[i];
            e.IsoName = Unique(IsoName(children.Text(e.Name), e.IsDirectory, level), used, e.IsDirectory, level, next);
        }
        if (!joliet) return;
        used = new Used(children, children.Count);
        next.Clear();
        int max = jolietLong ? 103 : 64;
        foreach (int i in byName)
        {
            ref var e = ref children[i];
            used.Share(e.Name);
            e.JolietName = UniqueJoliet(JolietName(children.Text(e.Name)), used, e.IsDirectory, max, next);
        }
    }

    /// <summary>
    /// The names taken in one directory (without versions), kept as pieces of the entries' pool: a name is stored
    /// once, as the entry's name (a file's followed by its version), and the set holds just where it is.
    /// </summary>
    private sealed class Used
    {
        private readonly IsoEntries _pool;
        private readonly PoolComparer _comparer;
        private readonly HashSet<TextRef>.AlternateLookup<ReadOnlySpan<char>> _set;

        public Used(IsoEntries pool, int capacity)
        {
            _pool = pool;
            _comparer = new PoolComparer(pool);
            _set = new HashSet<TextRef>(capacity, _comparer).GetAlternateLookup<ReadOnlySpan<char>>();
        }

        /// <summary>Names the entry's own name: from now on a free name equal to it is not stored again but shares it.</summary>
        public void Share(TextRef name) => _comparer.Reuse = name;

        /// <summary>Takes <paramref name="name"/> when free: stores it (a file's with its version) and returns it in <paramref name="stored"/>.</summary>
        public bool TryAdd(ReadOnlySpan<char> name, bool directory, out TextRef stored)
        {
            stored = default;
            if (!_set.Add(name)) return false;
            // The set stored the name at the end of the pool, or took the entry's own name (a file's has its version after it).
            if (!_comparer.Reused && !directory) _pool.Store(IsoEntries.Version);
            stored = IsoEntries.Versioned(_comparer.Added, directory);
            return true;
        }
    }

    private sealed class PoolComparer(IsoEntries pool) : IEqualityComparer<TextRef>, IAlternateEqualityComparer<ReadOnlySpan<char>, TextRef>
    {
        public TextRef? Reuse { get; set; }

        /// <summary>The text <see cref="Create"/> made last, and whether it was <see cref="Reuse"/>.</summary>
        public TextRef Added { get; private set; }
        public bool Reused { get; private set; }

        public bool Equals(TextRef x, TextRef y) => pool.Text(x).SequenceEqual(pool.Text(y));

        public int GetHashCode(TextRef t) => string.GetHashCode(pool.Text(t));

        public bool Equals(ReadOnlySpan<char> x, TextRef y) => x.SequenceEqual(pool.Text(y));

        public int GetHashCode(ReadOnlySpan<char> x) => string.GetHashCode(x);

        public TextRef Create(ReadOnlySpan<char> x)
        {
            Reused = Reuse is { } r && pool.Text(r).SequenceEqual(x);
            return Added = Reused ? Reuse!.Value : pool.Store(x);
        }
    }

    /// <summary>The identifier without version for <paramref name="name"/>.</summary>
    private static string IsoName(ReadOnlySpan<char> name, bool directory, int level)
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

    private static string Map(ReadOnlySpan<char> s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (char ch in s)
        {
            char u = char.ToUpperInvariant(ch);
            sb.Append(u is >= 'A' and <= 'Z' or >= '0' and <= '9' or '_' ? u : '_');
        }
        return sb.ToString();
    }

    private static TextRef Unique(string name, Used used, bool directory, int level, Dictionary<(string, bool), int> next)
    {
        if (used.TryAdd(name, directory, out var stored)) return stored;
        int dot = directory ? -1 : name.LastIndexOf('.');
        string stem = dot < 0 ? name : name[..dot], ext = dot < 0 ? "" : name[dot..];
        int maxStem = level == 1 ? 8 : directory ? 31 : 30 - ext.Length;
        for (int n = next.GetValueOrDefault((name, directory), 1); ; n++)
        {
            string digits = n.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (digits.Length > maxStem) throw new UnsupportedFeatureException("Too many names map to the same ISO 9660 identifier in one directory.");
            string candidate = Cut(stem, maxStem - digits.Length) + digits + ext;
            if (!used.TryAdd(candidate, directory, out stored)) continue;
            next[(name, directory)] = n + 1;
            return stored;
        }
    }

    private static string JolietName(ReadOnlySpan<char> name)
    {
        var sb = new StringBuilder(name.Length);
        foreach (char ch in name) sb.Append(ch is '*' or '/' or ':' or ';' or '?' or '\\' || ch < ' ' ? '_' : ch);
        return sb.ToString();
    }

    private static TextRef UniqueJoliet(string name, Used used, bool directory, int max, Dictionary<(string, bool), int> next)
    {
        // Joliet names compare as recorded; the version ";1" of files counts against the limit.
        int limit = directory ? max : max - 2;
        string candidate = CutJoliet(name, limit);
        if (used.TryAdd(candidate, directory, out var stored)) return stored;
        for (int n = next.GetValueOrDefault((name, directory), 1); ; n++)
        {
            string digits = n.ToString(System.Globalization.CultureInfo.InvariantCulture);
            int dot = directory ? -1 : name.LastIndexOf('.');
            string ext = dot > 0 && name.Length - dot <= 8 ? name[dot..] : "";
            string stem = dot > 0 && ext.Length > 0 ? name[..dot] : name;
            candidate = CutJoliet(stem, limit - digits.Length - ext.Length) + digits + ext;
            if (!used.TryAdd(candidate, directory, out stored)) continue;
            next[(name, directory)] = n + 1;
            return stored;
        }
    }

    private static string CutJoliet(string s, int n)
    {
        if (s.Length <= n) return s;
        if (n > 0 && char.IsHighSurrogate(s[n - 1])) n--; // never split a surrogate pair
        return s[..n];
    }

    /// <summary>ECMA-119 9.3 order: names padded with spaces, then extensions padded with spaces, then versions descending.</summary>
    public static int Compare(ReadOnlySpan<char> a, ReadOnlySpan<char> b)
    {
        Split(a, out var an, out var ae, out var av);
        Split(b, out var bn, out var be, out var bv);
        int c = ComparePadded(an, bn);
        if (c != 0) return c;
        c = ComparePadded(ae, be);
        if (c != 0) return c;
        return -ComparePadded(av, bv);
    }

    private static void Split(ReadOnlySpan<char> s, out ReadOnlySpan<char> name, out ReadOnlySpan<char> ext, out ReadOnlySpan<char> version)
    {
        var span = s;
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

    /// <summary>The indices of one directory's named entries in ISO 9660 record order (ties in the order added).</summary>
    public static int[] IsoOrder(IsoEntries children) => Order(children, joliet: false);

    /// <summary>The indices of one directory's named entries in Joliet record order (the same rule over UCS-2 code units; ties in the order added).</summary>
    public static int[] JolietOrder(IsoEntries children) => Order(children, joliet: true);

    private static int[] Order(IsoEntries children, bool joliet)
    {
        var order = new int[children.Count];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        Array.Sort(order, (x, y) =>
        {
            int c = joliet
                ? Compare(children.Text(children[x].JolietName), children.Text(children[y].JolietName))
                : Compare(children.Text(children[x].IsoName), children.Text(children[y].IsoName));
            return c != 0 ? c : x.CompareTo(y);
        });
        return order;
    }
}
