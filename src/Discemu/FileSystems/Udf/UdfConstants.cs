namespace Discemu.FileSystems.Udf;

/// <summary>Numbers from ECMA-167 3rd edition and OSTA UDF 2.60 (section numbers in the comments).</summary>
internal static class UdfConstants
{
    /// <summary>The volume recognition sequence starts at byte 32768 (ECMA-167 2/8.3).</summary>
    public const long RecognitionStart = 32768;
    /// <summary>A volume structure descriptor of the recognition sequence is 2048 bytes (ECMA-167 2/9.1).</summary>
    public const int RecognitionDescriptorSize = 2048;
    /// <summary>How many recognition descriptors the probe reads at most.</summary>
    public const int MaxRecognitionDescriptors = 32;
    /// <summary>The anchor volume descriptor pointer's first location (ECMA-167 3/8.4.2.1).</summary>
    public const uint AnchorSector = 256;

    /// <summary>A descriptor tag is 16 bytes (ECMA-167 3/7.2).</summary>
    public const int TagSize = 16;

    // Tag identifiers (ECMA-167 3/7.2.1 and 4/7.2.1).
    public const ushort TagPrimaryVolume = 1;
    public const ushort TagAnchor = 2;
    public const ushort TagVolumePointer = 3;
    public const ushort TagImplementationUse = 4;
    public const ushort TagPartition = 5;
    public const ushort TagLogicalVolume = 6;
    public const ushort TagUnallocatedSpace = 7;
    public const ushort TagTerminating = 8;
    public const ushort TagIntegrity = 9;
    public const ushort TagFileSet = 256;
    public const ushort TagFileIdentifier = 257;
    public const ushort TagAllocationExtent = 258;
    public const ushort TagIndirectEntry = 259;
    public const ushort TagTerminalEntry = 260;
    public const ushort TagFileEntry = 261;
    public const ushort TagExtendedFileEntry = 266;

    // ICB file types (ECMA-167 4/14.6.6, UDF 2.60 2.3.5.2).
    public const byte FileTypeUnspecified = 0;
    public const byte FileTypeDirectory = 4;
    public const byte FileTypeRegular = 5;
    public const byte FileTypeBlockDevice = 6;
    public const byte FileTypeCharDevice = 7;
    public const byte FileTypeFifo = 9;
    public const byte FileTypeSocket = 10;
    public const byte FileTypeTerminal = 11;
    public const byte FileTypeSymlink = 12;
    public const byte FileTypeStreamDirectory = 13;
    public const byte FileTypeVat = 248;
    public const byte FileTypeRealTime = 249;
    public const byte FileTypeMetadata = 250;
    public const byte FileTypeMetadataMirror = 251;

    // ICB tag flags (ECMA-167 4/14.6.8).
    public const ushort IcbAllocationMask = 7;
    public const ushort IcbSetUid = 1 << 6;
    public const ushort IcbSetGid = 1 << 7;
    public const ushort IcbSticky = 1 << 8;

    // Allocation descriptor types in the ICB flags.
    public const int AdShort = 0;
    public const int AdLong = 1;
    public const int AdExtended = 2;
    public const int AdEmbedded = 3;

    // Extent types in the top two bits of an extent length (ECMA-167 4/14.14.1.1).
    public const int ExtentRecorded = 0;
    public const int ExtentAllocated = 1;
    public const int ExtentUnallocated = 2;
    public const int ExtentNext = 3;
    public const uint ExtentLengthMask = 0x3FFFFFFF;

    // File characteristics of a file identifier descriptor (ECMA-167 4/14.4.3).
    public const byte FidHidden = 1;
    public const byte FidDirectory = 2;
    public const byte FidDeleted = 4;
    public const byte FidParent = 8;

    // Limits that keep damaged images from costing unbounded memory or time.
    public const long MaxDirectoryBytes = 64L << 20;
    public const int MaxExtents = 1 << 20;
    public const int MaxAllocationExtentChain = 1 << 16;
    public const int MaxIcbHops = 1024;
    public const int MaxVdsDescriptors = 4096;
    public const int MaxPointerHops = 64;
    public const long MaxVatBytes = 64L << 20;
    public const int MaxSymlinkBytes = 64 << 10;
    public const int MaxPartitionMaps = 64;
    public const int MaxSparingEntries = 1 << 16;
}
