using Discemu.Block;
using static Discemu.FileSystems.Udf.UdfConstants;

namespace Discemu.FileSystems.Udf;

/// <summary>
/// An opened UDF file system (see README.md): one logical volume's file set, read through its partition
/// maps (physical, sparable, virtual, metadata). Immutable after opening; every call reads the device again.
/// </summary>
internal sealed partial class UdfFileSystem : FileSystem
{
    private readonly BlockDevice _device;
    private readonly int _blockSize;
    private readonly List<UdfPartition?> _partitions;
    private readonly UdfEntry _root;
    private readonly List<KeyValuePair<string, object?>> _info;
    private readonly string? _label;

    /// <inheritdoc/>
    public override FileSystemType Type => UdfFileSystemType.Instance;

    /// <inheritdoc/>
    public override BlockDevice Device => _device;

    /// <inheritdoc/>
    public override string? DisplayPath { get; }

    /// <inheritdoc/>
    public override string? Label => _label;

    /// <inheritdoc/>
    public override FileSystemEntry Root => _root;

    /// <summary>UDF names are case-sensitive (UDF 2.60 2.1.5.2 leaves case to the operating system; Linux compares exactly).</summary>
    public override StringComparison NameComparison => StringComparison.Ordinal;

    /// <inheritdoc/>
    public override IReadOnlyList<KeyValuePair<string, object?>> Info => _info;

    /// <inheritdoc/>
    public override IReadOnlyList<FileSystemEntry> ListDirectory(FileSystemEntry directory)
    {
        var dir = Own(directory);
        if (!dir.IsDirectory) throw new ArgumentException($"'{dir.Name}' is not a directory.", nameof(directory));
        return ReadDirectory(dir);
    }

    /// <inheritdoc/>
    public override BlockDevice OpenFile(FileSystemEntry file)
    {
        var entry = Own(file);
        if (entry.Kind != FileSystemEntryKind.File) throw new ArgumentException($"'{entry.Name}' is not a regular file.", nameof(file));
        return OpenContent(entry.Node);
    }

    private UdfContentDevice OpenContent(UdfNode node)
    {
        if (node.AdType == AdEmbedded)
        {
            if (node.Size > (ulong)node.Descriptors.Length)
                throw new CorruptImageException($"The file at {node.Address} claims {node.Size} bytes but embeds {node.Descriptors.Length}.", DisplayPath);
            return new UdfContentDevice(_device, node.Descriptors.AsSpan(0, (int)node.Size).ToArray());
        }
        var runs = ContentRuns(node);
        foreach (var r in runs)
            if (r.Offset >= 0 && (r.Offset > _device.Length || r.Length > _device.Length - r.Offset))
                throw new CorruptImageException($"The file at {node.Address} reaches byte {r.Offset}+{r.Length}, outside the image ({_device.Length} bytes).", DisplayPath);
        return new UdfContentDevice(_device, runs);
    }

    private UdfEntry Own(FileSystemEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return entry is UdfEntry e && ReferenceEquals(e.Owner, this)
            ? e
            : throw new ArgumentException("The entry does not belong to this file system.", nameof(entry));
    }
}
