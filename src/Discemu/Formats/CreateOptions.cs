using Discemu.Util;

namespace Discemu.Formats;

/// <summary>
/// Parsed <c>-o key=value,key=value</c> options. A comma inside a value is written as <c>,,</c>
/// (as in qemu-img). Getters mark keys as used so <see cref="ThrowOnUnused"/> can reject unknown ones.
/// </summary>
public sealed class CreateOptions
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    /// <summary>An empty set of options.</summary>
    public static CreateOptions Empty => new();

    /// <summary>Parses one or more <c>-o</c> strings; later values override earlier ones.</summary>
    /// <exception cref="BadArgumentException">A part has no key.</exception>
    public static CreateOptions Parse(params IEnumerable<string?> texts)
    {
        var options = new CreateOptions();
        foreach (var text in texts)
        {
            if (string.IsNullOrEmpty(text)) continue;
            foreach (var part in SplitEscaped(text))
            {
                if (part.Length == 0) continue;
                int eq = part.IndexOf('=');
                string key = (eq < 0 ? part : part[..eq]).Trim();
                string value = eq < 0 ? "on" : part[(eq + 1)..];
                if (key.Length == 0) throw new BadArgumentException($"Invalid option '{part}': expected key=value.");
                options._values[key] = value;
            }
        }
        return options;
    }

    private static IEnumerable<string> SplitEscaped(string text)
    {
        var current = new System.Text.StringBuilder();
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == ',')
            {
                if (i + 1 < text.Length && text[i + 1] == ',') { current.Append(','); i++; continue; }
                yield return current.ToString();
                current.Clear();
            }
            else current.Append(text[i]);
        }
        yield return current.ToString();
    }

    /// <summary>Sets a value (used by front ends that have dedicated flags, such as <c>-c</c>).</summary>
    public void Set(string key, string value) => _values[key] = value;

    /// <summary>True when the key was given.</summary>
    public bool Contains(string key) => _values.ContainsKey(key);

    /// <summary>All keys given.</summary>
    public IEnumerable<string> Keys => _values.Keys;

    /// <summary>The raw string value, or <paramref name="fallback"/>.</summary>
    public string? GetString(string key, string? fallback = null)
    {
        _used.Add(key);
        return _values.TryGetValue(key, out var v) ? v : fallback;
    }

    /// <summary>A size with an optional k/M/G/T/P/E suffix.</summary>
    /// <exception cref="BadArgumentException">The value is not a size.</exception>
    public long GetSize(string key, long fallback)
    {
        var s = GetString(key);
        return s is null ? fallback : SizeParser.Parse(s, key);
    }

    /// <summary>An integer.</summary>
    /// <exception cref="BadArgumentException">The value is not an integer.</exception>
    public int GetInt(string key, int fallback)
    {
        var s = GetString(key);
        if (s is null) return fallback;
        return int.TryParse(s, System.Globalization.CultureInfo.InvariantCulture, out int v)
            ? v : throw new BadArgumentException($"Option '{key}' expects an integer, got '{s}'.");
    }

    /// <summary>A boolean: on/off, true/false, yes/no, 1/0.</summary>
    /// <exception cref="BadArgumentException">The value is not a boolean.</exception>
    public bool GetBool(string key, bool fallback)
    {
        var s = GetString(key);
        return s?.ToLowerInvariant() switch
        {
            null => fallback,
            "on" or "true" or "yes" or "1" => true,
            "off" or "false" or "no" or "0" => false,
            _ => throw new BadArgumentException($"Option '{key}' expects on or off, got '{s}'."),
        };
    }

    /// <summary>One of <paramref name="allowed"/> (case-insensitive), returned in its canonical spelling.</summary>
    /// <exception cref="BadArgumentException">The value is not allowed.</exception>
    public string GetChoice(string key, string fallback, params string[] allowed)
    {
        var s = GetString(key);
        if (s is null) return fallback;
        foreach (var a in allowed) if (string.Equals(a, s, StringComparison.OrdinalIgnoreCase)) return a;
        throw new BadArgumentException($"Option '{key}' expects one of {string.Join(", ", allowed)}, got '{s}'.");
    }

    /// <summary>Throws for the first key no getter asked for.</summary>
    /// <exception cref="BadArgumentException">An option is not known to the format.</exception>
    public void ThrowOnUnused(string formatName)
    {
        foreach (var key in _values.Keys)
            if (!_used.Contains(key)) throw new BadArgumentException($"Invalid parameter '{key}' for format '{formatName}'.");
    }
}
