namespace Discemu.Formats.Vmdk;

/// <summary>
/// Magic numbers and limits of the VMDK formats (VMware "Virtual Disk Format" 1.1 and 5.0 technical
/// notes; libyal's VMDK documentation). All on-disk integers are little-endian; a sector is 512 bytes.
/// </summary>
internal static class VmdkConstants
{
    /// <summary>Bytes per sector: every offset and size in VMDK metadata counts these.</summary>
    public const int Sector = 512;

    /// <summary>"KDMV" read as a little-endian 32-bit value: the hosted sparse extent header.</summary>
    public const uint SparseMagic = 0x564D444B;

    /// <summary>"COWD" read as a little-endian 32-bit value: the ESX Server sparse (vmfsSparse) header.</summary>
    public const uint CowdMagic = 0x44574F43;

    /// <summary>The seSparse constant header magic (a 64-bit little-endian field).</summary>
    public const ulong SeSparseConstMagic = 0xCAFEBABE;

    /// <summary>The seSparse volatile header magic.</summary>
    public const ulong SeSparseVolatileMagic = 0xCAFECAFE;

    /// <summary>The only seSparse version this reader knows (2.1).</summary>
    public const ulong SeSparseVersion = 0x0000000200000001;

    /// <summary>Sparse header flag: the end-of-line characters at bytes 73-76 are valid (a transfer-damage test).</summary>
    public const uint FlagValidNewline = 0x1;

    /// <summary>Sparse header flag: a redundant grain directory and grain tables are kept.</summary>
    public const uint FlagRedundantGrainTables = 0x2;

    /// <summary>Sparse header flag (version 2 and later): a grain table entry of 1 means "zeroed grain".</summary>
    public const uint FlagZeroedGrain = 0x4;

    /// <summary>Sparse header flag: grains are stored compressed.</summary>
    public const uint FlagCompressed = 0x10000;

    /// <summary>Sparse header flag: grains and metadata are preceded by markers (stream-optimized).</summary>
    public const uint FlagMarkers = 0x20000;

    /// <summary>Every flag this driver understands.</summary>
    public const uint KnownFlags = FlagValidNewline | FlagRedundantGrainTables | FlagZeroedGrain | FlagCompressed | FlagMarkers;

    /// <summary>Compression algorithm field: none.</summary>
    public const ushort CompressionNone = 0;

    /// <summary>Compression algorithm field: deflate (stored as a zlib stream).</summary>
    public const ushort CompressionDeflate = 1;

    /// <summary>Grain directory offset meaning "read the footer at the end of the file" (stream-optimized).</summary>
    public const ulong GdAtEnd = 0xFFFFFFFFFFFFFFFF;

    /// <summary>A grain table entry that reads as zeros in images with <see cref="FlagZeroedGrain"/>.</summary>
    public const uint ZeroedGrainEntry = 1;

    /// <summary>Marker type: end of stream.</summary>
    public const uint MarkerEndOfStream = 0;

    /// <summary>Marker type: a grain table follows.</summary>
    public const uint MarkerGrainTable = 1;

    /// <summary>Marker type: the grain directory follows.</summary>
    public const uint MarkerGrainDirectory = 2;

    /// <summary>Marker type: the footer (a copy of the header) follows.</summary>
    public const uint MarkerFooter = 3;

    /// <summary>Bytes before a compressed grain's data: the LBA (8) and the compressed size (4).</summary>
    public const int GrainMarkerHeader = 12;

    /// <summary>The header's byte 73..76 end-of-line test characters.</summary>
    public const byte SingleEndLine = (byte)'\n', NonEndLine = (byte)' ', DoubleEndLine1 = (byte)'\r', DoubleEndLine2 = (byte)'\n';

    /// <summary>Grain table entries per table in hosted sparse extents written by VMware and qemu.</summary>
    public const int DefaultGtes = 512;

    /// <summary>The most grain table entries per table accepted (qemu refuses more as well).</summary>
    public const int MaxGtes = 512;

    /// <summary>Default grain size: 128 sectors (64 KiB), as VMware and qemu-img write.</summary>
    public const int DefaultGrainSectors = 128;

    /// <summary>The largest grain accepted when reading: 4096 sectors (2 MiB); bounds every grain buffer.</summary>
    public const long MaxGrainSectors = 4096;

    /// <summary>Largest descriptor read (a text file or an embedded descriptor): 1 MiB.</summary>
    public const int MaxDescriptorBytes = 1 << 20;

    /// <summary>Sectors qemu-img and VMware reserve for an embedded descriptor.</summary>
    public const int EmbeddedDescriptorSectors = 20;

    /// <summary>The largest virtual size accepted: 2^54 bytes (16 PiB), so every byte offset and sum stays far from overflow.</summary>
    public const long MaxVirtualBytes = 1L << 54;

    /// <summary>Parent CID meaning "no parent".</summary>
    public const uint NoParentCid = 0xFFFFFFFF;

    /// <summary>Extent size of the twoGbMaxExtent subformats (as qemu-img writes them).</summary>
    public const long SplitExtentBytes = 2L << 30;

    /// <summary>Entries in a vmfsSparse (COWD) grain table.</summary>
    public const int CowdGtes = 4096;

    /// <summary>Bytes of the COWD header.</summary>
    public const int CowdHeaderBytes = 2048;

    /// <summary>seSparse: grain size (sectors) and grain table size (sectors) the format fixes.</summary>
    public const ulong SeSparseGrainSectors = 8, SeSparseGrainTableSectors = 64;
}
