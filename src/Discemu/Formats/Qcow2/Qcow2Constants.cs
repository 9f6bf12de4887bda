namespace Discemu.Formats.Qcow2;

/// <summary>Numbers fixed by the QCOW2 specification (qemu docs/interop/qcow2.txt).</summary>
internal static class Qcow2Constants
{
    /// <summary>"QFI\xfb" as a big-endian 32-bit number.</summary>
    public const uint Magic = 0x514649FB;

    /// <summary>Size of the version 2 header (and of the mandatory part of version 3).</summary>
    public const int V2HeaderLength = 72;

    /// <summary>Size of the version 3 header without the compression-type field.</summary>
    public const int V3MinHeaderLength = 104;

    /// <summary>Size of the version 3 header with the compression-type field and padding.</summary>
    public const int V3HeaderLength = 112;

    public const int MinClusterBits = 9;
    public const int MaxClusterBits = 21;
    public const int MaxRefcountOrder = 6;
    public const int MaxBackingFileNameLength = 1023;

    // Incompatible feature bits.
    public const ulong IncompatDirty = 1UL << 0;
    public const ulong IncompatCorrupt = 1UL << 1;
    public const ulong IncompatExternalDataFile = 1UL << 2;
    public const ulong IncompatCompressionType = 1UL << 3;
    public const ulong IncompatExtendedL2 = 1UL << 4;

    // Compatible feature bits.
    public const ulong CompatLazyRefcounts = 1UL << 0;

    // Autoclear feature bits.
    public const ulong AutoclearBitmaps = 1UL << 0;
    public const ulong AutoclearRawExternalData = 1UL << 1;

    // Header extension types.
    public const uint ExtEnd = 0x00000000;
    public const uint ExtBackingFormat = 0xE2792ACA;
    public const uint ExtFeatureNameTable = 0x6803F857;
    public const uint ExtBitmaps = 0x23852875;
    public const uint ExtFullDiskEncryption = 0x0537BE77;
    public const uint ExtExternalDataFile = 0x44415441;

    // Encryption methods.
    public const uint CryptNone = 0;
    public const uint CryptAes = 1;
    public const uint CryptLuks = 2;

    // Compression types.
    public const byte CompressionZlib = 0;
    public const byte CompressionZstd = 1;

    // L1/L2 entry bits.
    public const ulong EntryCopied = 1UL << 63;
    public const ulong EntryCompressed = 1UL << 62;
    public const ulong EntryZero = 1UL << 0;
    public const ulong L1OffsetMask = 0x00FFFFFFFFFFFE00UL;
    public const ulong L2OffsetMask = 0x00FFFFFFFFFFFE00UL;
    public const ulong RefcountTableOffsetMask = 0xFFFFFFFFFFFFFE00UL;

    /// <summary>Highest host offset any QCOW2 table may point to (56 bits).</summary>
    public const long MaxHostOffset = (1L << 56) - 1;

    /// <summary>Upper bound on the L1 table size qemu accepts (32 MiB of entries).</summary>
    public const int MaxL1Entries = 32 * 1024 * 1024 / 8;

    /// <summary>Upper bound on the refcount table qemu accepts (8 MiB).</summary>
    public const long MaxRefcountTableBytes = 8L * 1024 * 1024;

    /// <summary>Upper bound on snapshots (qemu's QCOW_MAX_SNAPSHOTS).</summary>
    public const int MaxSnapshots = 65536;
}
