using Discemu.Block;
using static Discemu.FileSystems.Iso9660.IsoConstants;

namespace Discemu.FileSystems.Iso9660;

/// <summary>Which names an opened ISO 9660 file system shows.</summary>
internal enum IsoNames
{
    /// <summary>ISO 9660 file identifiers (version and mandatory dot removed).</summary>
    Iso,
    /// <summary>Joliet's UCS-2 names from the supplementary tree.</summary>
    Joliet,
    /// <summary>Rock Ridge names and POSIX attributes.</summary>
    RockRidge,
}

/// <summary>
/// An opened ISO 9660 file system (see README.md): one session's volume descriptors, one directory tree
/// (primary with Rock Ridge, Joliet, ISO 9660:1999 or plain primary), the El Torito boot images under a
/// virtual <c>[BOOT]</c> folder. Immutable after opening; every call reads the device again.
/// </summary>
internal sealed partial class IsoFileSystem : FileSystem
{
    private readonly BlockDevice _device;
    private readonly IsoVolumeDescriptor _primary;
    private readonly IsoVolumeDescriptor _tree;
    private readonly int _blockSize;
    private readonly int _suspSkip;
    private readonly IsoEntry _root;
    private readonly List<BootEntry>? _boot;
    private readonly long _volumeEnd;
    private readonly List<KeyValuePair<string, object?>> _info;

    private IsoFileSystem(BlockDevice device, string? path, IsoSetup setup)
    {
        _device = device;
        DisplayPath = path;
        _primary = setup.Primary;
        _tree = setup.Tree;
        Names = setup.Names;
        _blockSize = setup.Tree.LogicalBlockSize;
        _suspSkip = setup.SuspSkip;
        Sessions = setup.Sessions;
        Session = setup.Session;
        _volumeEnd = Math.Min(device.Length, (setup.Session.StartBlock + setup.Primary.VolumeSpaceSize) * (long)SectorSize);
        _boot = setup.Boot;
        _root = MakeRoot();
        _info = BuildInfo(setup);
    }

    /// <summary>The names shown.</summary>
    public IsoNames Names { get; }

    /// <summary>Every session of the image, oldest first.</summary>
    public IReadOnlyList<IsoSession> Sessions { get; }

    /// <summary>The session opened.</summary>
    public IsoSession Session { get; }

    /// <inheritdoc/>
    public override FileSystemType Type => IsoFileSystemType.Instance;

    /// <inheritdoc/>
    public override BlockDevice Device => _device;

    /// <inheritdoc/>
    public override string? DisplayPath { get; }

    /// <inheritdoc/>
    public override string? Label => _tree.VolumeId.Length > 0 ? _tree.VolumeId : _primary.VolumeId;

    /// <inheritdoc/>
    public override FileSystemEntry Root => _root;

    /// <inheritdoc/>
    public override StringComparison NameComparison => Names == IsoNames.RockRidge ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase;

    /// <inheritdoc/>
    public override IReadOnlyList<KeyValuePair<string, object?>> Info => _info;

    /// <inheritdoc/>
    public override IReadOnlyList<FileSystemEntry> ListDirectory(FileSystemEntry directory)
    {
        var dir = Own(directory);
        if (!dir.IsDirectory) throw new ArgumentException($"'{dir.Name}' is not a directory.", nameof(directory));
        if (dir.Virtual == IsoVirtual.BootDirectory) return BootImages();
        var entries = ReadDirectory(dir);
        if (ReferenceEquals(dir, _root) && _boot is { Count: > 0 } && !entries.Any(e => e.Name == BootDirectoryName))
            entries.Add(new IsoEntry { Owner = this, Name = BootDirectoryName, Kind = FileSystemEntryKind.Directory, Virtual = IsoVirtual.BootDirectory, Identity = ('b', 0L), Modified = _primary.Created });
        return entries;
    }

    /// <inheritdoc/>
    public override BlockDevice OpenFile(FileSystemEntry file)
    {
        var entry = Own(file);
        if (entry.Kind != FileSystemEntryKind.File) throw new ArgumentException($"'{entry.Name}' is not a regular file.", nameof(file));
        if (entry.Unsupported is { } why) throw new UnsupportedFeatureException($"'{entry.Name}': {why} is not supported.", DisplayPath);
        var extents = entry.Extents;
        foreach (var (offset, length) in extents) CheckExtent(offset, length, entry.Name);
        if (extents.Length > 1)
        {
            var sorted = extents.Where(x => x.Length > 0).OrderBy(x => x.Offset).ToArray();
            for (int i = 1; i < sorted.Length; i++)
                if (sorted[i].Offset < sorted[i - 1].Offset + sorted[i - 1].Length)
                    throw new CorruptImageException($"'{entry.Name}': two of its extents overlap.", DisplayPath);
        }
        var stored = new ExtentDevice(_device, extents);
        if (entry.Zisofs is not { } zf) return stored;
        try
        {
            return new ZisofsDevice(stored, zf, DisplayPath, ownsStored: true);
        }
        catch
        {
            stored.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    protected override FileSystemEntry? FindChild(FileSystemEntry directory, string name)
    {
        var found = base.FindChild(directory, name);
        if (found is not null || Names == IsoNames.RockRidge || !name.Contains(';')) return found;
        // Accept the identifier as isoinfo prints it ("README.TXT;1").
        return base.FindChild(directory, IsoText.StripVersion(name, _tree.Kind == IsoTreeKind.Primary));
    }

    private IsoEntry Own(FileSystemEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return entry is IsoEntry e && ReferenceEquals(e.Owner, this)
            ? e
            : throw new ArgumentException("The entry does not belong to this file system.", nameof(entry));
    }

    private void CheckExtent(long offset, long length, string what)
    {
        if (offset < 0 || length < 0 || offset > _device.Length || length > _device.Length - offset)
            throw new CorruptImageException($"'{what}': its extent (byte {offset}, {length} bytes) is outside the image ({_device.Length} bytes).", DisplayPath);
    }
}
