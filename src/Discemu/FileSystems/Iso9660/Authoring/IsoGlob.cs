using System.Text;
using System.Text.RegularExpressions;

namespace Discemu.FileSystems.Iso9660.Authoring;

/// <summary>
/// Shell globs (<c>*</c>, <c>?</c>, <c>[...]</c>) as mkisofs's <c>-m</c> and <c>-hidden</c> take them: a pattern
/// without a slash matches a name, one with a slash matches a whole path.
/// </summary>
internal sealed class IsoGlob
{
    private readonly Regex[] _names, _paths;

    public IsoGlob(IEnumerable<string> patterns)
    {
        var names = new List<Regex>();
        var paths = new List<Regex>();
        foreach (string p in patterns)
        {
            if (p.Length == 0) throw new BadArgumentException("An empty exclusion or hiding pattern.");
            string trimmed = p.Length > 1 ? p.TrimEnd('/') : p;
            (trimmed.Contains('/') ? paths : names).Add(ToRegex(trimmed));
        }
        _names = [.. names];
        _paths = [.. paths];
    }

    public bool IsEmpty => _names.Length == 0 && _paths.Length == 0;

    /// <summary>True when <paramref name="name"/> or one of <paramref name="paths"/> matches.</summary>
    public bool Matches(string name, params ReadOnlySpan<string?> paths)
    {
        foreach (var r in _names) if (r.IsMatch(name)) return true;
        foreach (var r in _paths)
            foreach (var p in paths)
                if (p is not null && r.IsMatch(p)) return true;
        return false;
    }

    private static Regex ToRegex(string glob)
    {
        var sb = new StringBuilder("^");
        for (int i = 0; i < glob.Length; i++)
        {
            char c = glob[i];
            switch (c)
            {
                case '*': sb.Append(".*"); break;
                case '?': sb.Append('.'); break;
                case '[':
                    int end = glob.IndexOf(']', i + 2);
                    if (end < 0) { sb.Append(@"\["); break; }
                    string set = glob[(i + 1)..end];
                    if (set.StartsWith('!')) set = "^" + set[1..];
                    sb.Append('[').Append(set.Replace(@"\", @"\\")).Append(']');
                    i = end;
                    break;
                case '\\' when i + 1 < glob.Length: sb.Append(Regex.Escape(glob[++i].ToString())); break;
                default: sb.Append(Regex.Escape(c.ToString())); break;
            }
        }
        return new Regex(sb.Append('$').ToString(), RegexOptions.CultureInvariant | RegexOptions.Singleline);
    }
}
