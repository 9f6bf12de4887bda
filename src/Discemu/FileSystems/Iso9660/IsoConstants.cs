namespace Discemu.FileSystems.Iso9660;

/// <summary>Magic numbers and limits of ISO 9660 (ECMA-119), SUSP/RRIP 1.12, Joliet, El Torito and zisofs.</summary>
internal static class IsoConstants
{
    /// <summary>Logical sector size (ECMA-119 6.1.2): directory records never cross one.</summary>
    public const int SectorSize = 2048;

    /// <summary>The volume descriptor set starts at logical sector 16 of a session.</summary>
    public const int VolumeDescriptorStart = 16;

    /// <summary>Most volume descriptors read before the terminator.</summary>
    public const int MaxVolumeDescriptors = 64;

    /// <summary>"CD001", the standard identifier of every volume descriptor.</summary>
    public static ReadOnlySpan<byte> StandardIdentifier => "CD001"u8;

    // Volume descriptor types (ECMA-119 8.1.1).
    public const byte VdBootRecord = 0;
    public const byte VdPrimary = 1;
    public const byte VdSupplementary = 2;
    public const byte VdPartition = 3;
    public const byte VdTerminator = 255;

    /// <summary>The boot system identifier of an El Torito boot record, padded with NULs to 32 bytes.</summary>
    public static ReadOnlySpan<byte> ElToritoIdentifier => "EL TORITO SPECIFICATION"u8;

    // Directory record (ECMA-119 9.1).
    public const int DirectoryRecordMinLength = 34;
    public const int DirectoryRecordHeaderLength = 33;
    public const byte FlagHidden = 0x01;
    public const byte FlagDirectory = 0x02;
    public const byte FlagAssociated = 0x04;
    public const byte FlagRecord = 0x08;
    public const byte FlagProtection = 0x10;
    public const byte FlagMultiExtent = 0x80;

    /// <summary>Largest directory read (bytes): far above any real directory, small enough to bound memory.</summary>
    public const long MaxDirectoryBytes = 64L << 20;

    /// <summary>Most extents of one multi-extent file (a 4 TiB file in 4 GiB pieces).</summary>
    public const int MaxFileExtents = 1024;

    // SUSP 1.12 and RRIP 1.12.
    public const int MaxContinuationAreas = 256;
    public const int MaxContinuationBytes = 64 << 10;
    public const int MaxSystemUseBytes = 1 << 20;
    public const int MaxNameBytes = 4096;
    public const int MaxSymlinkBytes = 65536;

    // Joliet escape sequences (the SVD's bytes 88..), UCS-2 levels 1, 2, 3.
    public static ReadOnlySpan<byte> JolietLevel1 => "%/@"u8;
    public static ReadOnlySpan<byte> JolietLevel2 => "%/C"u8;
    public static ReadOnlySpan<byte> JolietLevel3 => "%/E"u8;

    // Multi-session media written by libisoburn (xorriso -dev): sessions start on 32-block boundaries after
    // a 64 KiB area whose volume descriptors point to the newest session.
    public const int EmulatedSessionAlignment = 32;
    public const int MaxSessions = 4096;
}
