using Discemu.Block;
using static Discemu.FileSystems.Fat.FatConstants;

namespace Discemu.FileSystems.Fat;

/// <summary>
/// An opened FAT12/16/32 file system with VFAT long names (see README.md). The FAT is held in memory (its
/// size is bounded by the device); directories are read on demand. Opened writable, it implements
/// <see cref="IWritableFileSystem"/>: every operation writes data first, then the FAT copies and FSInfo,
/// then the directory entry, so a failure part-way loses nothing that existed.
/// </summary>
internal sealed partial class FatFileSystem : FileSystem
{
    private readonly BlockDevice _device;
    private readonly object _sync = new();
    private FatBootSector _boot;
    private readonly FatType _type;
    private readonly long _fatOffset;
    private readonly long _fatLength;
    private readonly long _rootOffset;
    private readonly long _dataOffset;
    private readonly int _clusterSize;
    private readonly uint _clusterCount;
    private readonly bool _writable;
    private readonly FatEntry _root;
    private readonly bool _hadFsInfo;
    private readonly FatFsInfo _fsInfoAtOpen;

    private FatFileSystem(BlockDevice device, FatBootSector boot, byte[] fat, string? path, bool writable, FatFsInfo? fsInfo)
    {
        _device = device;
        _boot = boot;
        _type = boot.Type;
        DisplayPath = path;
        _fatOffset = (long)boot.ReservedSectors * boot.BytesPerSector;
        _fatLength = boot.FatSize * boot.BytesPerSector;
        _rootOffset = boot.RootDirStartSector * boot.BytesPerSector;
        _dataOffset = boot.FirstDataSector * boot.BytesPerSector;
        _clusterSize = boot.ClusterSize;
        _clusterCount = (uint)boot.ClusterCount;
        _writable = writable;
        _fat = fat;
        _dirtyFat = new bool[(fat.Length + boot.BytesPerSector - 1) / boot.BytesPerSector];
        _hadFsInfo = fsInfo is not null;
        _fsInfoAtOpen = fsInfo ?? new FatFsInfo(FsInfoUnknown, FsInfoUnknown);
        CountFree();
        if (fsInfo is { NextFree: var nf } && nf >= FirstCluster && nf <= MaxCluster) _nextFree = nf;
        uint rootCluster = _type == FatType.Fat32 ? boot.RootCluster : 0;
        _root = new FatEntry { Name = "", Kind = FileSystemEntryKind.Directory, IsRoot = true, FirstCluster = rootCluster, Identity = ('d', rootCluster) };
        _label = ReadLabel();
    }

    /// <summary>Opens the file system on <paramref name="device"/>.</summary>
    /// <exception cref="CorruptImageException">The boot sector is invalid or the volume does not fit the device.</exception>
    /// <exception cref="UnsupportedFeatureException">Writable was asked on a read-only device.</exception>
    public static FatFileSystem Open(BlockDevice device, FileSystemOpenOptions options)
    {
        string? path = DisplayPathOf(device, options);
        if (options.Session is not (null or 1)) throw new BadArgumentException("FAT has no sessions.", path);
        if (options.Names is not null) throw new BadArgumentException("FAT has one set of names.", path);
        if (options.Writable && !device.CanWrite) throw new UnsupportedFeatureException("The image is opened read-only; it cannot be edited.", path);
        if (device.Length < BootSectorLength) throw new CorruptImageException("The device is smaller than a boot sector.", path);
        var sector = new byte[BootSectorLength];
        device.Read(0, sector);
        if (!FatBootSector.TryRead(sector, out var boot, out var error)) throw new CorruptImageException($"Not a valid FAT boot sector: {error}", path);
        long fatEnd = checked((boot.ReservedSectors + boot.NumberOfFats * boot.FatSize) * boot.BytesPerSector);
        long dataStart = checked(boot.FirstDataSector * boot.BytesPerSector);
        if (dataStart > device.Length || fatEnd > device.Length)
            throw new CorruptImageException($"The FATs and root directory end at byte {dataStart}, past the device's {device.Length} bytes.", path);
        // Only the entries that address clusters are loaded; the FAT fits in the device, so this is bounded by its size.
        long used = FatTypes.FatBytes(boot.Type, boot.ClusterCount + 2);
        long fatBytes = Math.Min(boot.FatSize * boot.BytesPerSector, (used + boot.BytesPerSector - 1) / boot.BytesPerSector * boot.BytesPerSector);
        if (fatBytes > int.MaxValue) throw new UnsupportedFeatureException($"The FAT is {fatBytes} bytes; FATs over 2 GiB are not supported.", path);
        var fat = new byte[fatBytes];
        device.Read(checked((long)boot.ReservedSectors * boot.BytesPerSector + boot.ActiveFat * boot.FatSize * boot.BytesPerSector), fat);
        FatFsInfo? fsInfo = null;
        if (boot.HasFsInfo)
        {
            var fsi = new byte[boot.BytesPerSector];
            device.Read((long)boot.FsInfoSector * boot.BytesPerSector, fsi);
            if (FatFsInfo.TryRead(fsi, out var parsed)) fsInfo = parsed;
        }
        return new FatFileSystem(device, boot, fat, path, options.Writable, fsInfo);
    }

    /// <summary>The FAT type.</summary>
    public FatType FatType => _type;

    /// <summary>The boot sector as read (or last written).</summary>
    public FatBootSector BootSector => _boot;

    /// <inheritdoc/>
    public override FileSystemType Type => FatFileSystemType.Instance;

    /// <inheritdoc/>
    public override BlockDevice Device => _device;

    /// <inheritdoc/>
    public override FileSystemEntry Root => _root;

    /// <inheritdoc/>
    public override StringComparison NameComparison => StringComparison.OrdinalIgnoreCase;

    /// <inheritdoc/>
    public override string? DisplayPath { get; }

    private string? _label;

    /// <inheritdoc/>
    public override string? Label => _label;

    /// <summary>The largest valid cluster number.</summary>
    private uint MaxCluster => _clusterCount + 1;

    /// <summary>Bytes of a cluster.</summary>
    public int ClusterSize => _clusterSize;

    /// <inheritdoc/>
    public override IReadOnlyList<KeyValuePair<string, object?>> Info
    {
        get
        {
            lock (_sync)
            {
                var b = _boot;
                var list = new List<KeyValuePair<string, object?>>
                {
                    new("type", _type.ToString().ToUpperInvariant()),
                    new("label", _label),
                    new("volume_id", $"{b.VolumeId >> 16:X4}-{b.VolumeId & 0xFFFF:X4}"),
                    new("oem_name", System.Text.Encoding.Latin1.GetString(b.OemName).TrimEnd()),
                    new("bytes_per_sector", b.BytesPerSector),
                    new("sectors_per_cluster", b.SectorsPerCluster),
                    new("cluster_size", _clusterSize),
                    new("reserved_sectors", b.ReservedSectors),
                    new("fats", b.NumberOfFats),
                    new("fat_sectors", b.FatSize),
                    new("root_entries", b.RootEntryCount),
                    new("total_sectors", b.TotalSectors),
                    new("hidden_sectors", (long)b.HiddenSectors),
                    new("media", $"0x{b.Media:X2}"),
                    new("clusters", (long)_clusterCount),
                    new("free_clusters", (long)_freeCount),
                    new("free_bytes", (long)_freeCount * _clusterSize),
                };
                if (b.IsFat32Layout)
                {
                    list.Add(new("root_cluster", (long)b.RootCluster));
                    list.Add(new("fsinfo_sector", b.FsInfoSector));
                    list.Add(new("backup_boot_sector", b.BackupBootSector));
                    list.Add(new("fsinfo_free_count", _hadFsInfo ? (long)_fsInfoAtOpen.FreeCount : null));
                    list.Add(new("fsinfo_next_free", _hadFsInfo ? (long)_fsInfoAtOpen.NextFree : null));
                }
                return list;
            }
        }
    }

    /// <inheritdoc/>
    public override IReadOnlyList<FileSystemEntry> ListDirectory(FileSystemEntry directory)
    {
        var dir = Own(directory);
        if (!dir.IsDirectory) throw new ArgumentException($"'{dir.Name}' is not a directory.", nameof(directory));
        lock (_sync) return ReadDir(dir.FirstCluster).Items.Select(i => i.Entry).ToList<FileSystemEntry>();
    }

    /// <inheritdoc/>
    public override BlockDevice OpenFile(FileSystemEntry file)
    {
        var f = Own(file);
        if (f.Kind != FileSystemEntryKind.File) throw new ArgumentException($"'{f.Name}' is not a regular file.", nameof(file));
        lock (_sync)
        {
            FlushNewClusters();
            return new ExtentDevice(_device, FileExtents(f.FirstCluster, f.Size));
        }
    }

    /// <inheritdoc/>
    protected override FileSystemEntry? FindChild(FileSystemEntry directory, string name)
    {
        var dir = Own(directory);
        lock (_sync) return ReadDir(dir.FirstCluster).Find(name)?.Entry;
    }

    private FatEntry Own(FileSystemEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return entry as FatEntry ?? throw new ArgumentException("The entry is not from a FAT file system.", nameof(entry));
    }

    /// <summary>The device extents holding the first <paramref name="size"/> bytes of the chain at <paramref name="first"/>.</summary>
    private List<(long Offset, long Length)> FileExtents(uint first, long size)
    {
        var extents = new List<(long, long)>();
        if (size == 0) return extents;
        long needed = (size + _clusterSize - 1) / _clusterSize;
        var chain = Chain(first, needed);
        if (chain.Count < needed)
            throw new CorruptImageException($"A file of {size} bytes has a cluster chain of only {chain.Count} clusters.", DisplayPath);
        long remaining = size;
        int i = 0;
        while (remaining > 0)
        {
            int j = i;
            while (j + 1 < chain.Count && chain[j + 1] == chain[j] + 1 && (long)(j + 1 - i) * _clusterSize < remaining) j++;
            long length = Math.Min(remaining, (long)(j - i + 1) * _clusterSize);
            _ = ClusterOffset(chain[j]);
            extents.Add((ClusterOffset(chain[i]), length));
            remaining -= length;
            i = j + 1;
        }
        return extents;
    }

    /// <summary>The device offset of a data cluster.</summary>
    /// <exception cref="CorruptImageException">The cluster lies past the end of the device.</exception>
    private long ClusterOffset(uint cluster)
    {
        long offset = _dataOffset + (long)(cluster - FirstCluster) * _clusterSize;
        if (offset + _clusterSize > _device.Length)
            throw new CorruptImageException($"Cluster {cluster} lies past the end of the device (the image is truncated).", DisplayPath);
        return offset;
    }
}
