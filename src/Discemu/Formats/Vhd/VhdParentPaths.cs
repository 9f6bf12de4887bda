using System.Text;
using static Discemu.Formats.Vhd.VhdConstants;

namespace Discemu.Formats.Vhd;

/// <summary>
/// Turns a differencing disk's parent locators and parent name into host paths to try, and builds the
/// locators Discemu writes. W2ru/W2ku hold UTF-16 Windows paths (Windows writes them little-endian,
/// without a terminator); MacX holds a UTF-8 <c>file://</c> URL; the header's parent name is UTF-16 big-endian.
/// </summary>
internal static class VhdParentPaths
{
    /// <summary>One place the parent may be: the path as it would be handed to the opener, and where it came from.</summary>
    public readonly record struct Candidate(string Path, string Source);

    /// <summary>Decodes one locator's data into a path, or null when it holds nothing usable.</summary>
    public static string? Decode(uint platform, ReadOnlySpan<byte> data)
    {
        string? text = platform switch
        {
            PlatformW2ru or PlatformW2ku or PlatformWi2r or PlatformWi2k => DecodeUtf16(data),
            PlatformMacX => DecodeFileUrl(Encoding.UTF8.GetString(data).TrimEnd('\0')),
            _ => null,
        };
        if (string.IsNullOrWhiteSpace(text) || text.Contains('\0')) return null;
        return text;
    }

    private static string DecodeUtf16(ReadOnlySpan<byte> data)
    {
        if (data.Length % 2 != 0) data = data[..^1];
        // Windows writes little-endian; a path's first character is ASCII, so a leading zero byte means big-endian.
        bool bigEndian = data.Length >= 2 && data[0] == 0 && data[1] != 0;
        var text = (bigEndian ? Encoding.BigEndianUnicode : Encoding.Unicode).GetString(data);
        int nul = text.IndexOf('\0');
        return nul < 0 ? text : text[..nul];
    }

    private static string DecodeFileUrl(string url)
    {
        if (!url.StartsWith("file://", StringComparison.OrdinalIgnoreCase)) return url;
        string rest = url["file://".Length..];
        if (rest.StartsWith("localhost/", StringComparison.OrdinalIgnoreCase)) rest = rest["localhost".Length..];
        try { return Uri.UnescapeDataString(rest); }
        catch (UriFormatException) { return rest; }
    }

    /// <summary>A stored Windows path in this host's terms: separators become '/', and a leading "./" is dropped.</summary>
    public static string ToHostPath(string stored)
    {
        if (System.IO.Path.DirectorySeparatorChar == '\\') return stored;
        string p = stored.Replace('\\', '/');
        while (p.StartsWith("./", StringComparison.Ordinal)) p = p[2..];
        return p;
    }

    /// <summary>True for a drive-letter or UNC path, which names nothing on a Unix host.</summary>
    public static bool IsWindowsAbsolute(string path)
        => path.Length >= 3 && char.IsAsciiLetter(path[0]) && path[1] == ':' && path[2] is '\\' or '/' || path.StartsWith(@"\\", StringComparison.Ordinal);

    /// <summary>The UTF-16 little-endian bytes Windows stores in W2ru and W2ku locators.</summary>
    public static byte[] EncodeWindows(string path) => Encoding.Unicode.GetBytes(path);

    /// <summary>The UTF-8 <c>file://</c> URL of an absolute path, for a MacX locator.</summary>
    public static byte[] EncodeFileUrl(string absolutePath) => Encoding.UTF8.GetBytes(new Uri(absolutePath).AbsoluteUri);

    /// <summary>The relative path from <paramref name="childPath"/>'s folder to <paramref name="parentFullPath"/>, Windows style (".\name").</summary>
    public static string RelativeWindowsPath(string childPath, string parentFullPath)
    {
        string dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(childPath)) ?? ".";
        string rel = System.IO.Path.GetRelativePath(dir, parentFullPath).Replace('/', '\\');
        return rel.StartsWith("..", StringComparison.Ordinal) || System.IO.Path.IsPathRooted(rel) ? rel : @".\" + rel;
    }
}
