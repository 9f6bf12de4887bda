namespace Discemu.FileSystems.Fat;

/// <summary>What <see cref="FatFormatter"/> makes. Null fields take the defaults documented on each.</summary>
public sealed record FatFormatOptions
{
    /// <summary>FAT12, FAT16 or FAT32; null picks by size (FAT32 from 512 MiB, FAT12 while 2 KiB clusters stay under 4085, else FAT16).</summary>
    public FatType? Type { get; init; }

    /// <summary>A standard floppy layout; the volume must then be exactly that size.</summary>
    public FatFloppyGeometry? Floppy { get; init; }

    /// <summary>The volume label (up to 11 characters of the 8.3 set and space; stored upper case); null for none.</summary>
    public string? Label { get; init; }

    /// <summary>The cluster size in bytes (a power of two, at least a sector, at most 64 KiB); null picks by size.</summary>
    public int? ClusterSize { get; init; }

    /// <summary>Bytes per sector: 512 (default), 1024, 2048 or 4096.</summary>
    public int BytesPerSector { get; init; } = 512;

    /// <summary>Number of FATs (1 or 2; default 2).</summary>
    public int NumberOfFats { get; init; } = 2;

    /// <summary>Root directory entries on FAT12/16; null: 512 on disks, the floppy's value on floppies.</summary>
    public int? RootEntries { get; init; }

    /// <summary>The sectors before the volume on its disk (BPB_HiddSec: the partition start in sectors).</summary>
    public uint HiddenSectors { get; init; }

    /// <summary>The volume serial number; null derives it from <see cref="Timestamp"/> when given, else random.</summary>
    public uint? VolumeId { get; init; }

    /// <summary>The time stamped on the label entry (and the source of a derived serial); null: now.</summary>
    public DateTimeOffset? Timestamp { get; init; }

    /// <summary>
    /// Reproducible output: with no <see cref="VolumeId"/> or <see cref="Timestamp"/>, the serial is
    /// <see cref="InvariantVolumeId"/> and the time 1980-01-01 00:00:00 UTC, so the same input gives the same bytes.
    /// </summary>
    public bool Invariant { get; init; }

    /// <summary>The serial used in invariant mode (the value mkfs.fat --invariant uses too).</summary>
    public const uint InvariantVolumeId = 0x1234ABCD;
}
