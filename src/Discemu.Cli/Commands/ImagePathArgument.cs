namespace Discemu.Cli.Commands;

/// <summary>
/// Parses the file commands' <c>IMAGE[:/path]</c> argument. File names may contain ':', so the image is
/// the longest prefix (the whole argument, or the part before some ':') that exists on the host; the rest
/// is the path inside the image (relative paths start at the root). This minimal parser is meant to be
/// unified with the partition-aware <c>IMAGE[:N][:/path]</c> one when partitions land.
/// </summary>
internal sealed record ImagePathArgument(string Image, string InnerPath, bool HasInnerPath)
{
    /// <summary>Splits <paramref name="argument"/>.</summary>
    /// <exception cref="ImageAccessException">No prefix of the argument is an existing file.</exception>
    public static ImagePathArgument Parse(string argument)
    {
        ArgumentNullException.ThrowIfNull(argument);
        if (Exists(argument)) return new ImagePathArgument(argument, "/", false);
        for (int i = argument.LastIndexOf(':'); i > 0; i = argument.LastIndexOf(':', i - 1))
        {
            string prefix = argument[..i];
            if (!Exists(prefix)) continue;
            string inner = argument[(i + 1)..];
            return new ImagePathArgument(prefix, inner.StartsWith('/') ? inner : "/" + inner, true);
        }
        string shown = argument.Contains(':') ? argument[..argument.IndexOf(':')] : argument;
        throw new ImageAccessException("Could not open the image: No such file or directory.", shown.Length > 0 ? shown : argument);
    }

    private static bool Exists(string path) => path.Length > 0 && (File.Exists(path) || (path.StartsWith("/dev/", StringComparison.Ordinal) && Path.Exists(path)));
}
