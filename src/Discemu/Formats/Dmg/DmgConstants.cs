namespace Discemu.Formats.Dmg;

/// <summary>Magic numbers, chunk types and limits of Apple's Universal Disk Image Format (UDIF).</summary>
internal static class DmgConstants
{
    /// <summary>"koly": the 512-byte trailer at the end of every UDIF file.</summary>
    public const uint KolyMagic = 0x6B6F6C79;

    /// <summary>The only trailer version there is.</summary>
    public const uint KolyVersion = 4;

    /// <summary>Size of the koly trailer.</summary>
    public const int KolySize = 512;

    /// <summary>"mish": a block table (blkx resource).</summary>
    public const uint MishMagic = 0x6D697368;

    /// <summary>The only block table version there is.</summary>
    public const uint MishVersion = 1;

    /// <summary>Size of the block table header; chunk entries follow.</summary>
    public const int MishHeaderSize = 204;

    /// <summary>Size of one chunk entry of a block table.</summary>
    public const int ChunkEntrySize = 40;

    /// <summary>UDIF sectors are always 512 bytes.</summary>
    public const int SectorSize = 512;

    /// <summary>Koly flag: the image is flattened (resource fork stored inside the file).</summary>
    public const uint FlagFlattened = 1;

    /// <summary>Koly flag: internet-enabled.</summary>
    public const uint FlagInternetEnabled = 4;

    /// <summary>Checksum type: none.</summary>
    public const uint ChecksumNone = 0;

    /// <summary>Checksum type: CRC-32 (the zlib/IEEE polynomial), 32 bits.</summary>
    public const uint ChecksumCrc32 = 2;

    /// <summary>Checksum type: MD5 (not verified).</summary>
    public const uint ChecksumMd5 = 4;

    /// <summary>Largest checksum payload (bytes) in a UDIF checksum field.</summary>
    public const int ChecksumBytes = 128;

    /// <summary>Start of an encrypted image with a version-2 header ("encrcdsa").</summary>
    public static ReadOnlySpan<byte> EncryptedV2Magic => "encrcdsa"u8;

    /// <summary>End of an encrypted image with a version-1 trailer ("cdsaencr").</summary>
    public static ReadOnlySpan<byte> EncryptedV1Magic => "cdsaencr"u8;

    /// <summary>Largest XML property list accepted (bytes).</summary>
    public const long MaxPlistBytes = 128L << 20;

    /// <summary>Largest legacy resource fork accepted (bytes).</summary>
    public const long MaxResourceForkBytes = 128L << 20;

    /// <summary>Most chunks accepted over all block tables.</summary>
    public const int MaxChunks = 8 << 20;

    /// <summary>Largest decompressed chunk accepted (bytes); hdiutil writes 1 MiB chunks.</summary>
    public const int MaxChunkBytes = 64 << 20;

    /// <summary>Largest stored (compressed) chunk accepted (bytes).</summary>
    public const long MaxCompressedChunkBytes = 128L << 20;

    /// <summary>Deepest XML nesting accepted in the property list.</summary>
    public const int MaxPlistDepth = 32;
}

/// <summary>The chunk types of a UDIF block table.</summary>
internal enum DmgChunkType : uint
{
    /// <summary>Reads as zeros, nothing stored.</summary>
    Zero = 0x00000000,
    /// <summary>Stored uncompressed.</summary>
    Raw = 0x00000001,
    /// <summary>Free space ("ignore"): reads as zeros, nothing stored.</summary>
    Ignore = 0x00000002,
    /// <summary>Apple Data Compression.</summary>
    Adc = 0x80000004,
    /// <summary>zlib (RFC 1950) stream.</summary>
    Zlib = 0x80000005,
    /// <summary>bzip2 stream.</summary>
    Bzip2 = 0x80000006,
    /// <summary>LZFSE stream (bvx blocks).</summary>
    Lzfse = 0x80000007,
    /// <summary>LZMA, stored as an xz stream.</summary>
    Lzma = 0x80000008,
    /// <summary>A comment entry: covers no sectors.</summary>
    Comment = 0x7FFFFFFE,
    /// <summary>The last entry of a block table.</summary>
    Terminator = 0xFFFFFFFF,
}
