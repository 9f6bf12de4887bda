using Discemu.Partitions;

namespace Discemu.Cli.Commands;

/// <summary>
/// The file commands' <c>IMAGE[:N][:/path]</c> argument, as <see cref="PartitionPath"/> parses it: the image, an
/// optional partition number and the path inside the file system (the root when none is given).
/// </summary>
internal sealed record ImagePathArgument(string Image, int? Partition, string InnerPath, bool HasInnerPath)
{
    /// <summary>Splits <paramref name="argument"/>.</summary>
    /// <exception cref="BadArgumentException">The argument is empty or names partition 0.</exception>
    public static ImagePathArgument Parse(string argument)
    {
        var p = PartitionPath.Parse(argument, Exists);
        return new ImagePathArgument(p.ImagePath, p.PartitionNumber, p.InnerPath ?? "/", p.InnerPath is not null);
    }

    private static bool Exists(string path) => path.Length > 0 && (File.Exists(path) || (path.StartsWith("/dev/", StringComparison.Ordinal) && Path.Exists(path)));
}
