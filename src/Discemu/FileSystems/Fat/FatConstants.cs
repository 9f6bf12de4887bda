namespace Discemu.FileSystems.Fat;

/// <summary>Numbers from Microsoft's FAT specification (fatgen103) and the VFAT long-name extension.</summary>
public static class FatConstants
{
    /// <summary>The boot sector's signature at byte 510 (0x55 0xAA on disk).</summary>
    public const ushort BootSignature = 0xAA55;

    /// <summary>Where the boot sector signature is.</summary>
    public const int BootSignatureOffset = 510;

    /// <summary>The size of the part of a sector the BPB and signature occupy.</summary>
    public const int BootSectorLength = 512;

    /// <summary>The extended boot signature (0x29) saying the volume id, label and type fields are present.</summary>
    public const byte ExtendedBootSignature = 0x29;

    /// <summary>An older extended signature (0x28) with only the volume id.</summary>
    public const byte ExtendedBootSignatureOld = 0x28;

    /// <summary>FSInfo lead signature ("RRaA").</summary>
    public const uint FsInfoLeadSignature = 0x41615252;

    /// <summary>FSInfo structure signature ("rrAa").</summary>
    public const uint FsInfoStructSignature = 0x61417272;

    /// <summary>FSInfo trail signature.</summary>
    public const uint FsInfoTrailSignature = 0xAA550000;

    /// <summary>"Unknown" in the FSInfo free count and next-free fields.</summary>
    public const uint FsInfoUnknown = 0xFFFFFFFF;

    /// <summary>Size of one directory entry.</summary>
    public const int DirEntrySize = 32;

    /// <summary>Length of an 8.3 name field (8 + 3, space padded).</summary>
    public const int ShortNameLength = 11;

    /// <summary>UTF-16 units in one long-name entry.</summary>
    public const int LfnCharsPerEntry = 13;

    /// <summary>The longest long name (UTF-16 units).</summary>
    public const int MaxLongNameLength = 255;

    /// <summary>Long-name entries one name may take (20 × 13 = 260 ≥ 255).</summary>
    public const int MaxLfnEntries = 20;

    /// <summary>The order byte's "last (first stored) entry" flag.</summary>
    public const byte LfnLastFlag = 0x40;

    /// <summary>First name byte of a deleted entry.</summary>
    public const byte DeletedMarker = 0xE5;

    /// <summary>Stored as the first name byte when the name really starts with 0xE5 (KANJI lead byte).</summary>
    public const byte E5Substitute = 0x05;

    /// <summary>First name byte of the entry ending the directory.</summary>
    public const byte EndMarker = 0x00;

    /// <summary>Attribute: read-only.</summary>
    public const byte AttrReadOnly = 0x01;

    /// <summary>Attribute: hidden.</summary>
    public const byte AttrHidden = 0x02;

    /// <summary>Attribute: system.</summary>
    public const byte AttrSystem = 0x04;

    /// <summary>Attribute: volume label.</summary>
    public const byte AttrVolumeId = 0x08;

    /// <summary>Attribute: directory.</summary>
    public const byte AttrDirectory = 0x10;

    /// <summary>Attribute: archive.</summary>
    public const byte AttrArchive = 0x20;

    /// <summary>The attribute value of a long-name entry (read-only | hidden | system | volume id).</summary>
    public const byte AttrLongName = 0x0F;

    /// <summary>Mask for testing the long-name attribute value.</summary>
    public const byte AttrLongNameMask = 0x3F;

    /// <summary>NT reserved byte: the base name is stored upper case but shown lower case.</summary>
    public const byte NtLowerBase = 0x08;

    /// <summary>NT reserved byte: the extension is shown lower case.</summary>
    public const byte NtLowerExtension = 0x10;

    /// <summary>FAT12 volumes have fewer clusters than this (Microsoft's rule).</summary>
    public const int Fat12ClusterLimit = 4085;

    /// <summary>FAT16 volumes have fewer clusters than this; anything else is FAT32.</summary>
    public const int Fat16ClusterLimit = 65525;

    /// <summary>The largest cluster count a FAT32 volume can address (28-bit entries, minus reserved values).</summary>
    public const int Fat32MaxClusters = 0x0FFFFFF5;

    /// <summary>The first data cluster number.</summary>
    public const uint FirstCluster = 2;

    /// <summary>The 28 bits of a FAT32 entry that hold the cluster number.</summary>
    public const uint Fat32EntryMask = 0x0FFFFFFF;

    /// <summary>The largest file size (4 GiB - 1).</summary>
    public const long MaxFileSize = uint.MaxValue;

    /// <summary>FAT32 BPB_ExtFlags: bit 7 set means only the FAT numbered in bits 0-3 is active (no mirroring).</summary>
    public const ushort ExtFlagsNoMirroring = 0x80;

    /// <summary>The directory size limit (65536 entries of 32 bytes).</summary>
    public const int MaxDirectoryBytes = 65536 * DirEntrySize;

    /// <summary>The earliest date a DOS date holds.</summary>
    public const int DosEpochYear = 1980;
}

/// <summary>The three FAT variants, told apart only by the cluster count.</summary>
public enum FatType
{
    /// <summary>12-bit FAT entries.</summary>
    Fat12 = 12,

    /// <summary>16-bit FAT entries.</summary>
    Fat16 = 16,

    /// <summary>32-bit FAT entries (28 used), root directory in a cluster chain.</summary>
    Fat32 = 32,
}

/// <summary>Helpers for the FAT variants.</summary>
public static class FatTypes
{
    /// <summary>The FAT type of a volume with <paramref name="clusterCount"/> data clusters (fatgen103: &lt;4085 FAT12, &lt;65525 FAT16, else FAT32).</summary>
    public static FatType FromClusterCount(long clusterCount)
        => clusterCount < FatConstants.Fat12ClusterLimit ? FatType.Fat12
            : clusterCount < FatConstants.Fat16ClusterLimit ? FatType.Fat16 : FatType.Fat32;

    /// <summary>The smallest FAT entry value meaning "end of chain" for <paramref name="type"/>.</summary>
    public static uint EndOfChainMin(FatType type) => type switch
    {
        FatType.Fat12 => 0xFF8,
        FatType.Fat16 => 0xFFF8,
        _ => 0x0FFFFFF8,
    };

    /// <summary>The value written to end a chain.</summary>
    public static uint EndOfChain(FatType type) => type switch
    {
        FatType.Fat12 => 0xFFF,
        FatType.Fat16 => 0xFFFF,
        _ => 0x0FFFFFFF,
    };

    /// <summary>The value marking a bad cluster.</summary>
    public static uint BadCluster(FatType type) => type switch
    {
        FatType.Fat12 => 0xFF7,
        FatType.Fat16 => 0xFFF7,
        _ => 0x0FFFFFF7,
    };

    /// <summary>Bytes the FAT needs for <paramref name="entries"/> entries (cluster count + 2).</summary>
    public static long FatBytes(FatType type, long entries) => type switch
    {
        FatType.Fat12 => checked((entries * 3 + 1) / 2),
        FatType.Fat16 => checked(entries * 2),
        _ => checked(entries * 4),
    };
}
