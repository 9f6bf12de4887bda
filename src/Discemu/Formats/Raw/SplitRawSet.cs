using System.Globalization;

namespace Discemu.Formats.Raw;

/// <summary>
/// Finds the pieces of a split raw set from the name of one of them. A set is numbered with a
/// fixed-width decimal extension starting at 000 or 001 (<c>disk.001, disk.002, …</c>); the
/// pieces are every consecutive number that exists. Any other name is a single file.
/// </summary>
internal static class SplitRawSet
{
    /// <summary>The pieces in order; a single-element list when <paramref name="path"/> is not part of a set.</summary>
    public static IReadOnlyList<string> Find(string path)
    {
        string ext = Path.GetExtension(path);
        if (ext.Length < 4 || !ext[1..].All(char.IsAsciiDigit)) return [path];
        int width = ext.Length - 1;
        string stem = path[..^ext.Length];
        string Name(int n) => $"{stem}.{n.ToString(CultureInfo.InvariantCulture).PadLeft(width, '0')}";

        int first = File.Exists(Name(0)) ? 0 : 1;
        if (!File.Exists(Name(first))) return [path];
        // Only a set when the piece after the first exists; a lone "x.001" is just a file.
        if (!File.Exists(Name(first + 1))) return [path];
        var pieces = new List<string>();
        for (int n = first; File.Exists(Name(n)); n++)
        {
            if (Name(n).Length - stem.Length - 1 > width) break;
            pieces.Add(Name(n));
        }
        return pieces;
    }
}
