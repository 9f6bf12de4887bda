using Discemu.Block;

namespace Discemu.FileSystems.Fat;

/// <summary>FAT12, FAT16 and FAT32 with VFAT long names: read and write.</summary>
public sealed class FatFileSystemType : FileSystemType
{
    /// <summary>The single instance.</summary>
    public static FatFileSystemType Instance { get; } = new();

    private FatFileSystemType() { }

    /// <inheritdoc/>
    public override string Name => "fat";

    /// <inheritdoc/>
    public override string Description => "FAT12/FAT16/FAT32 with VFAT long names (read and write)";

    /// <inheritdoc/>
    public override IReadOnlyList<string> Aliases => ["vfat", "msdos", "fat12", "fat16", "fat32"];

    /// <summary>
    /// 90 when the first sector is a valid FAT boot sector (sane BPB, a layout that fits the device) whose first
    /// FAT entry holds the media byte; 60 when only the BPB is valid; 0 otherwise.
    /// </summary>
    public override int Probe(BlockDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        try
        {
            if (device.Length < FatConstants.BootSectorLength) return 0;
            var sector = new byte[FatConstants.BootSectorLength];
            device.Read(0, sector);
            if (!FatBootSector.TryRead(sector, out var boot, out _)) return 0;
            long fatAt = (long)boot.ReservedSectors * boot.BytesPerSector;
            if (fatAt + 4 > device.Length || boot.FirstDataSector * boot.BytesPerSector > device.Length) return 0;
            Span<byte> fat = stackalloc byte[4];
            device.Read(fatAt, fat);
            return fat[0] == boot.Media && fat[1] == 0xFF ? 90 : 60;
        }
        catch (Exception e) when (e is DiscemuException or IOException or ArgumentException)
        {
            return 0;
        }
    }

    /// <inheritdoc/>
    public override FileSystem Open(BlockDevice device, FileSystemOpenOptions options)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(options);
        return FatFileSystem.Open(device, options);
    }
}
