using System.Globalization;
using Discemu.Block;
using Discemu.Formats;

namespace Discemu.Partitions;

/// <summary>
/// A path that may address a partition and a file inside it: <c>IMAGE</c>, <c>IMAGE:N</c>, <c>IMAGE:N:/inner/path</c>
/// or <c>IMAGE:/inner/path</c> (a file system on the whole disk). Image names may contain ':' themselves: the
/// longest prefix that names an existing file wins, so <c>a:2</c> is the image <c>a:2</c> when that file exists.
/// </summary>
/// <param name="ImagePath">The image file.</param>
/// <param name="PartitionNumber">The partition (1-based, as <see cref="Partition.Number"/>), or null for the whole disk.</param>
/// <param name="InnerPath">The path inside the file system (starting with '/'), or null.</param>
public sealed record PartitionPath(string ImagePath, int? PartitionNumber, string? InnerPath)
{
    /// <summary>The most digits a partition number may have.</summary>
    private const int MaxNumberDigits = 9;

    /// <summary>
    /// Splits <paramref name="text"/>. The whole text when it names an existing file; else the longest prefix
    /// before a ':' that names an existing file and is followed by <c>N</c>, <c>N:/path</c> or <c>/path</c> (or any
    /// other text not starting with a digit, read as a path relative to the root: <c>disc.iso:isolinux/isolinux.cfg</c>); else
    /// (no such file: opening will name the missing image) the first such split, skipping a Windows drive letter.
    /// </summary>
    /// <param name="text">What the user typed.</param>
    /// <param name="fileExists">Tells whether a path names an existing file (default <see cref="File.Exists"/>).</param>
    /// <exception cref="BadArgumentException">The text is empty or the partition number is 0.</exception>
    public static PartitionPath Parse(string text, Func<string, bool>? fileExists = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length == 0) throw new BadArgumentException("The image path is empty.");
        fileExists ??= File.Exists;
        if (fileExists(text)) return new PartitionPath(text, null, null);
        var colons = new List<int>();
        for (int i = 0; i < text.Length; i++)
            if (text[i] == ':') colons.Add(i);
        for (int k = colons.Count - 1; k >= 0; k--)
        {
            int at = colons[k];
            if (at > 0 && fileExists(text[..at]))
            {
                if (TryParseRest(text, at, out var found)) return found;
                if (at + 1 < text.Length && !char.IsAsciiDigit(text[at + 1]))
                    return new PartitionPath(text[..at], null, "/" + text[(at + 1)..]); // a relative inner path
            }
        }
        foreach (int at in colons)
        {
            bool driveLetter = at == 1 && char.IsAsciiLetter(text[0]) && text.Length > 2 && text[2] is '\\' or '/';
            if (at > 0 && !driveLetter && TryParseRest(text, at, out var guessed)) return guessed;
        }
        return new PartitionPath(text, null, null);
    }

    private static bool TryParseRest(string text, int colon, out PartitionPath result)
    {
        result = null!;
        string image = text[..colon], rest = text[(colon + 1)..];
        if (rest.StartsWith('/'))
        {
            result = new PartitionPath(image, null, rest);
            return true;
        }
        int digits = 0;
        while (digits < rest.Length && char.IsAsciiDigit(rest[digits])) digits++;
        if (digits == 0 || digits > MaxNumberDigits) return false;
        string? inner = null;
        if (digits < rest.Length)
        {
            if (rest[digits] != ':' || digits + 1 >= rest.Length || rest[digits + 1] != '/') return false;
            inner = rest[(digits + 1)..];
        }
        int number = int.Parse(rest.AsSpan(0, digits), NumberStyles.None, CultureInfo.InvariantCulture);
        if (number < 1) throw new BadArgumentException($"Partition numbers start at 1 ('{text}').", image);
        result = new PartitionPath(image, number, inner);
        return true;
    }

    /// <summary>Opens the image and, when a partition is named, its partition table and that partition.</summary>
    /// <param name="opener">Opens the image (default <see cref="ImageOpener.Default"/>).</param>
    /// <param name="options">How to open the image (format, writable).</param>
    /// <param name="registry">The partition table schemes (default <see cref="PartitionTableRegistry.Default"/>).</param>
    /// <param name="sectorSize">The logical sector size to read the table with; null lets the table say.</param>
    /// <exception cref="ImageAccessException">The image cannot be read.</exception>
    /// <exception cref="BadArgumentException">The disk has no partition table, or no such partition.</exception>
    /// <exception cref="CorruptImageException">The image or its partition table is damaged.</exception>
    public OpenedPartitionPath Open(ImageOpener? opener = null, ImageOpenOptions? options = null,
        PartitionTableRegistry? registry = null, int? sectorSize = null)
    {
        var image = (opener ?? ImageOpener.Default).Open(ImagePath, options);
        try
        {
            if (PartitionNumber is not { } n) return new OpenedPartitionPath(image, null, null, image, InnerPath);
            var table = (registry ?? PartitionTableRegistry.Default).Open(image, new PartitionTableOpenOptions { Path = ImagePath, SectorSize = sectorSize });
            var device = table.Open(n);
            return new OpenedPartitionPath(image, table, table.Get(n), device, InnerPath);
        }
        catch
        {
            image.Dispose();
            throw;
        }
    }

    /// <summary>The path in the form <see cref="Parse"/> reads.</summary>
    public override string ToString()
        => ImagePath + (PartitionNumber is { } n ? ":" + n.ToString(CultureInfo.InvariantCulture) : "") + (InnerPath is null ? "" : ":" + InnerPath);
}

/// <summary>An opened <see cref="PartitionPath"/>: the image, and the partition's device when one was named. Disposing closes the image.</summary>
public sealed class OpenedPartitionPath : IDisposable
{
    internal OpenedPartitionPath(DiskImage image, PartitionTable? table, Partition? partition, BlockDevice device, string? innerPath)
    {
        Image = image;
        Table = table;
        Partition = partition;
        Device = device;
        InnerPath = innerPath;
    }

    /// <summary>The opened image (the whole disk).</summary>
    public DiskImage Image { get; }

    /// <summary>The partition table, when a partition was named.</summary>
    public PartitionTable? Table { get; }

    /// <summary>The partition, when one was named.</summary>
    public Partition? Partition { get; }

    /// <summary>The device to read: the partition's bytes, or the whole image.</summary>
    public BlockDevice Device { get; }

    /// <summary>The path inside the file system, or null.</summary>
    public string? InnerPath { get; }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (!ReferenceEquals(Device, Image)) Device.Dispose();
        Image.Dispose();
    }
}
