namespace Discemu.Formats.Ewf;

/// <summary>Magic numbers, sizes and names of the EWF (E01/S01) and EWF2 (Ex01) formats.</summary>
internal static class EwfConstants
{
    /// <summary>EWF-E01 / EWF-S01 segment signature: "EVF\t\r\n\xff\0".</summary>
    public static ReadOnlySpan<byte> EvfSignature => [0x45, 0x56, 0x46, 0x09, 0x0d, 0x0a, 0xff, 0x00];

    /// <summary>EWF-L01 (logical evidence) segment signature: "LVF\t\r\n\xff\0".</summary>
    public static ReadOnlySpan<byte> LvfSignature => [0x4c, 0x56, 0x46, 0x09, 0x0d, 0x0a, 0xff, 0x00];

    /// <summary>EWF2-Ex01 segment signature: "EVF2\r\n\x81\0".</summary>
    public static ReadOnlySpan<byte> Evf2Signature => [0x45, 0x56, 0x46, 0x32, 0x0d, 0x0a, 0x81, 0x00];

    /// <summary>EWF2-Lx01 segment signature: "LEF2\r\n\x81\0".</summary>
    public static ReadOnlySpan<byte> Lef2Signature => [0x4c, 0x45, 0x46, 0x32, 0x0d, 0x0a, 0x81, 0x00];

    /// <summary>Size of the EWF1 segment file header.</summary>
    public const int FileHeaderSize = 13;

    /// <summary>Size of the EWF2 segment file header.</summary>
    public const int FileHeader2Size = 32;

    /// <summary>Size of an EWF1 section descriptor.</summary>
    public const int SectionDescriptorSize = 76;

    /// <summary>Size of an EWF2 section descriptor.</summary>
    public const int SectionDescriptor2Size = 64;

    /// <summary>Volume/data section payload in EnCase, FTK and linen files.</summary>
    public const int VolumeSizeE01 = 1052;

    /// <summary>Volume section payload of the original EWF and SMART (S01) files.</summary>
    public const int VolumeSizeS01 = 94;

    /// <summary>Table header size (before the entries).</summary>
    public const int TableHeaderSize = 24;

    /// <summary>Entries a table holds at most in EnCase 6 style files (older readers stop at 16375).</summary>
    public const int MaxTableEntries = 16375;

    /// <summary>Table entry flag: the chunk is zlib-compressed.</summary>
    public const uint CompressedFlag = 0x80000000;

    /// <summary>Error2 header size.</summary>
    public const int Error2HeaderSize = 520;

    /// <summary>Digest section payload (MD5, SHA-1, padding, checksum).</summary>
    public const int DigestSize = 80;

    /// <summary>Hash section payload (MD5, unknown, checksum).</summary>
    public const int HashSize = 36;

    /// <summary>Largest chunk (sectors per chunk times bytes per sector) accepted: 64 MiB.</summary>
    public const int MaxChunkSize = 64 << 20;

    /// <summary>Most entries one table (or EWF2 sector/error table) may list: bounds the allocation (64 MiB of EWF1 entries).</summary>
    public const uint MaxTableEntriesRead = 16 << 20;

    /// <summary>Largest error2 / EWF2 error table section read (64 MiB).</summary>
    public const long MaxErrorSection = 64 << 20;

    /// <summary>Largest decompressed header/case text accepted (16 MiB).</summary>
    public const int MaxHeaderText = 16 << 20;

    /// <summary>Media flag: the image is an image file (always set).</summary>
    public const byte MediaFlagImage = 0x01;

    /// <summary>Media flag: a physical device.</summary>
    public const byte MediaFlagPhysical = 0x02;

    // EWF2 section types.
    public const uint Ewf2DeviceInformation = 0x01;
    public const uint Ewf2CaseData = 0x02;
    public const uint Ewf2SectorData = 0x03;
    public const uint Ewf2SectorTable = 0x04;
    public const uint Ewf2ErrorTable = 0x05;
    public const uint Ewf2Md5Hash = 0x08;
    public const uint Ewf2Sha1Hash = 0x09;
    public const uint Ewf2EncryptionKeys = 0x0b;
    public const uint Ewf2Next = 0x0d;
    public const uint Ewf2Done = 0x0f;

    /// <summary>EWF2 section data flag: the data is encrypted.</summary>
    public const uint Ewf2DataEncrypted = 0x02;

    /// <summary>EWF2 chunk flags.</summary>
    public const uint Ewf2ChunkCompressed = 0x01, Ewf2ChunkChecksummed = 0x02, Ewf2ChunkPatternFill = 0x04;

    /// <summary>EWF2 sector table header size (without its 12 bytes of alignment padding).</summary>
    public const int Ewf2TableHeaderSize = 20;
}
