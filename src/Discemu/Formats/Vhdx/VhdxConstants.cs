namespace Discemu.Formats.Vhdx;

/// <summary>Signatures, fixed offsets, GUIDs and block states of the VHDX format (MS-VHDX).</summary>
internal static class VhdxConstants
{
    public const long KiB = 1024;
    public const long MiB = 1024 * 1024;

    /// <summary>"vhdxfile" read as a little-endian 64-bit value.</summary>
    public const ulong FileSignature = 0x656C696678646876;
    /// <summary>"head".</summary>
    public const uint HeaderSignature = 0x64616568;
    /// <summary>"regi".</summary>
    public const uint RegionSignature = 0x69676572;
    /// <summary>"metadata" read as a little-endian 64-bit value.</summary>
    public const ulong MetadataSignature = 0x617461646174656D;
    /// <summary>"loge".</summary>
    public const uint LogEntrySignature = 0x65676F6C;
    /// <summary>"zero".</summary>
    public const uint ZeroDescriptorSignature = 0x6F72657A;
    /// <summary>"desc".</summary>
    public const uint DataDescriptorSignature = 0x63736564;
    /// <summary>"data".</summary>
    public const uint DataSectorSignature = 0x61746164;

    public const long Header1Offset = 64 * KiB;
    public const long Header2Offset = 128 * KiB;
    public const long RegionTable1Offset = 192 * KiB;
    public const long RegionTable2Offset = 256 * KiB;
    /// <summary>The header section (file identifier, headers, region tables) fills the first megabyte.</summary>
    public const long HeaderSectionSize = MiB;
    /// <summary>The file identifier's first 64 KiB are never rewritten.</summary>
    public const long FileIdentifierSize = 64 * KiB;
    public const int CreatorOffset = 8;
    public const int CreatorLength = 512;
    public const int HeaderSize = 4096;
    public const int RegionTableSize = 64 * 1024;
    public const int MaxRegionEntries = 2047;
    public const int MetadataTableSize = 64 * 1024;
    public const int MaxMetadataEntries = 2047;
    public const int MaxMetadataItemLength = 1024 * 1024;
    public const int MaxUserMetadataEntries = 1024;

    /// <summary>Log sectors, descriptors and the log entry header.</summary>
    public const int LogSectorSize = 4096;
    public const int LogEntryHeaderSize = 64;
    public const int LogDescriptorSize = 32;
    public const int DescriptorsInFirstSector = 126;
    public const int DescriptorsPerSector = 128;
    /// <summary>Largest log Discemu reads into memory to search and replay.</summary>
    public const long MaxLogLength = 256 * MiB;

    public const long MinBlockSize = MiB;
    public const long MaxBlockSize = 256 * MiB;
    public const long MaxVirtualSize = 64L * 1024 * 1024 * MiB;
    /// <summary>Sectors described by one sector bitmap block (2^23).</summary>
    public const long SectorsPerBitmapBlock = 1L << 23;
    public const long BitmapBlockSize = MiB;
    /// <summary>Largest BAT Discemu keeps in memory.</summary>
    public const long MaxBatBytes = 1024 * MiB;

    // BAT entry states (bits 0-2), reserved bits 3-19, FileOffsetMB bits 20-63.
    public const int StateMask = 7;
    public const ulong ReservedMask = 0xFFFF8;
    public const int OffsetShift = 20;
    public const int PayloadNotPresent = 0;
    public const int PayloadUndefined = 1;
    public const int PayloadZero = 2;
    public const int PayloadUnmapped = 3;
    public const int PayloadFullyPresent = 6;
    public const int PayloadPartiallyPresent = 7;
    public const int BitmapNotPresent = 0;
    public const int BitmapPresent = 6;

    // Metadata entry flags.
    public const uint MetadataIsUser = 1;
    public const uint MetadataIsVirtualDisk = 2;
    public const uint MetadataIsRequired = 4;

    // File parameters flags.
    public const uint LeaveBlockAllocated = 1;
    public const uint HasParent = 2;

    public static readonly Guid BatRegion = new("2DC27766-F623-4200-9D64-115E9BFD4A08");
    public static readonly Guid MetadataRegion = new("8B7CA206-4790-4B9A-B8FE-575F050F886E");
    public static readonly Guid FileParametersItem = new("CAA16737-FA36-4D43-B3B6-33F0AA44E76B");
    public static readonly Guid VirtualDiskSizeItem = new("2FA54224-CD1B-4876-B211-5DBED83BF4B8");
    /// <summary>The virtual disk id (qemu calls it "page 83 data").</summary>
    public static readonly Guid VirtualDiskIdItem = new("BECA12AB-B2E6-4523-93EF-C309E000C746");
    public static readonly Guid LogicalSectorSizeItem = new("8141BF1D-A96F-4709-BA47-F233A8FAAB5F");
    public static readonly Guid PhysicalSectorSizeItem = new("CDA348C7-445D-4471-9CC9-E9885251C556");
    public static readonly Guid ParentLocatorItem = new("A8D35F2D-B30B-454D-ABF7-D3D84834AB0C");
    public static readonly Guid VhdxParentLocatorType = new("B04AEFB7-D19E-4A81-B789-25B8E9445913");

    public static long AlignUp(long value, long alignment) => checked((value + alignment - 1) / alignment * alignment);

    public static long CeilDiv(long value, long divisor) => (value + divisor - 1) / divisor;
}
