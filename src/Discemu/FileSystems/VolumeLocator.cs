using Discemu.Block;
using Discemu.Partitions;

namespace Discemu.FileSystems;

/// <summary>
/// Finds the file system a user means in an image: on the whole disk, in a numbered partition, or, when no
/// partition is named and the whole disk holds no file system, in the one partition that holds one.
/// </summary>
public static class VolumeLocator
{
    /// <summary>Opens the file system on <paramref name="disk"/> (or its partition <paramref name="partition"/>).</summary>
    /// <param name="disk">The whole disk; the caller keeps owning it (dispose the result first).</param>
    /// <param name="partition">The 1-based partition number, or null.</param>
    /// <param name="options">How to open the file system.</param>
    /// <param name="fileSystems">The file system types (default <see cref="FileSystemRegistry.Default"/>).</param>
    /// <param name="tables">The partition table schemes (default <see cref="PartitionTableRegistry.Default"/>).</param>
    /// <exception cref="BadArgumentException">The disk has no partition table or no such partition, or several partitions hold file systems and none was named.</exception>
    /// <exception cref="UnsupportedFeatureException">No known file system was found.</exception>
    /// <exception cref="CorruptImageException">The partition table or the file system is damaged.</exception>
    public static OpenedVolume Open(BlockDevice disk, int? partition, FileSystemOpenOptions? options = null,
        FileSystemRegistry? fileSystems = null, PartitionTableRegistry? tables = null)
    {
        ArgumentNullException.ThrowIfNull(disk);
        options ??= new FileSystemOpenOptions();
        fileSystems ??= FileSystemRegistry.Default;
        tables ??= PartitionTableRegistry.Default;
        if (partition is { } n)
        {
            var table = tables.Open(disk, new PartitionTableOpenOptions { Path = options.DisplayPath });
            return OpenOn(table.Open(n), table.Get(n), options with { DisplayPath = Describe(options.DisplayPath, n) }, fileSystems);
        }
        if (options.Type is not null || fileSystems.Detect(disk) is not null)
            return new OpenedVolume(fileSystems.Open(disk, options), null, null);
        var found = tables.TryOpen(disk, new PartitionTableOpenOptions { Path = options.DisplayPath });
        if (found is null)
            return new OpenedVolume(fileSystems.Open(disk, options), null, null); // throws the "no known file system" error
        var holding = found.Partitions.Where(p => HoldsFileSystem(found, p, fileSystems)).ToList();
        if (holding.Count == 1)
            return OpenOn(found.Open(holding[0].Number), holding[0], options with { DisplayPath = Describe(options.DisplayPath, holding[0].Number) }, fileSystems);
        if (holding.Count == 0)
            throw new UnsupportedFeatureException($"No known file system found on the disk or in its {found.Partitions.Count} partition(s) (known: {string.Join(", ", fileSystems.Types.Select(t => t.Name))}).", options.DisplayPath);
        throw new BadArgumentException($"Partitions {string.Join(", ", holding.Select(p => p.Number))} hold file systems: name one (IMAGE:N:/path).", options.DisplayPath);
    }

    private static bool HoldsFileSystem(PartitionTable table, Partition p, FileSystemRegistry fileSystems)
    {
        using var device = table.Open(p.Number);
        return fileSystems.Detect(device) is not null;
    }

    private static OpenedVolume OpenOn(SubRangeDevice device, Partition partition, FileSystemOpenOptions options, FileSystemRegistry fileSystems)
    {
        try
        {
            return new OpenedVolume(fileSystems.Open(device, options), device, partition);
        }
        catch
        {
            device.Dispose();
            throw;
        }
    }

    private static string? Describe(string? path, int number) => path is null ? null : $"{path}:{number}";
}

/// <summary>A file system found by <see cref="VolumeLocator"/>, with the partition it lives in. Disposing closes both (never the disk).</summary>
public sealed class OpenedVolume : IDisposable
{
    private readonly BlockDevice? _partitionDevice;

    internal OpenedVolume(FileSystem fileSystem, BlockDevice? partitionDevice, Partition? partition)
    {
        FileSystem = fileSystem;
        _partitionDevice = partitionDevice;
        Partition = partition;
    }

    /// <summary>The opened file system.</summary>
    public FileSystem FileSystem { get; }

    /// <summary>The partition holding it, or null for the whole disk.</summary>
    public Partition? Partition { get; }

    /// <inheritdoc/>
    public void Dispose()
    {
        FileSystem.Dispose();
        _partitionDevice?.Dispose();
    }
}
