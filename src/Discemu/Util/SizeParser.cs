using System.Globalization;

namespace Discemu.Util;

/// <summary>Parses and formats sizes the way qemu-img does: 512, 64k, 1.5G, 2T (binary units).</summary>
public static class SizeParser
{
    private const string Suffixes = "BKMGTPE";

    /// <summary>Parses a size; a bare number is bytes.</summary>
    /// <param name="text">The text, such as <c>10G</c>.</param>
    /// <param name="what">Names the value in the error message.</param>
    /// <exception cref="BadArgumentException">The text is not a size or is out of range.</exception>
    public static long Parse(string text, string what = "size")
    {
        ArgumentNullException.ThrowIfNull(text);
        var s = text.Trim();
        if (s.Length == 0) throw new BadArgumentException($"Invalid {what}: empty.");
        int shift = 0;
        char last = char.ToUpperInvariant(s[^1]);
        int idx = Suffixes.IndexOf(last);
        if (idx >= 0 && !char.IsDigit(s[^1]))
        {
            shift = idx * 10;
            s = s[..^1];
        }
        if (s.Length > 0 && char.ToUpperInvariant(s[^1]) is 'I') throw new BadArgumentException($"Invalid {what} '{text}'.");
        if (!decimal.TryParse(s, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out decimal value) || value < 0)
            throw new BadArgumentException($"Invalid {what} '{text}': expected a number with an optional k, M, G, T, P or E suffix.");
        decimal multiplier = 1L << shift; // exact; a double power of two would be rounded to 15 digits
        if (value > long.MaxValue / multiplier) throw new BadArgumentException($"Invalid {what} '{text}': too large.");
        decimal bytes = value * multiplier;
        if (bytes > long.MaxValue) throw new BadArgumentException($"Invalid {what} '{text}': too large.");
        if (bytes != decimal.Truncate(bytes)) throw new BadArgumentException($"Invalid {what} '{text}': not a whole number of bytes.");
        return (long)bytes;
    }

    /// <summary>Formats bytes as qemu-img does in human output: "4 MiB", "1.5 GiB", "512 B".</summary>
    public static string Format(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.Length - 1) { v /= 1024; u++; }
        if (u == 0) return $"{bytes} B";
        string num = v.ToString(v >= 100 ? "0" : v >= 10 ? "0.#" : "0.##", CultureInfo.InvariantCulture);
        return $"{num} {units[u]}";
    }
}
