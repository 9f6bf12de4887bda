using System.Buffers.Binary;
using static Discemu.Formats.Qcow2.Qcow2Constants;

namespace Discemu.Formats.Qcow2;

/// <summary>What a guest cluster (or subcluster) maps to.</summary>
internal enum Qcow2ClusterKind : byte
{
    /// <summary>Not allocated here: reads fall through to the backing file (or zeros).</summary>
    Unallocated,
    /// <summary>Reads as zeros (zero flag, or an extended-L2 zero bit).</summary>
    Zero,
    /// <summary>Stored uncompressed at a host offset.</summary>
    Normal,
    /// <summary>Stored compressed (whole cluster).</summary>
    Compressed,
}

/// <summary>
/// The geometry of an image (cluster size, L2 and refcount block shapes) and the pure decoding and
/// encoding of L1/L2 entries, compressed cluster descriptors and refcount block entries.
/// </summary>
internal sealed class Qcow2Layout
{
    /// <summary>Subclusters per cluster when extended L2 entries are used.</summary>
    public const int SubclustersPerCluster = 32;

    /// <summary>Unit of compressed cluster sizes (one sector).</summary>
    public const int CompressedSector = 512;

    public Qcow2Layout(int clusterBits, bool extendedL2, int refcountOrder, int version)
    {
        ClusterBits = clusterBits;
        ExtendedL2 = extendedL2;
        RefcountOrder = refcountOrder;
        Version = version;
        L2EntryBits = clusterBits - 3 - (extendedL2 ? 1 : 0);
        SubclusterBits = extendedL2 ? clusterBits - 5 : clusterBits;
        CompressedOffsetBits = 62 - (clusterBits - 8);
        RefcountBlockBits = clusterBits + 3 - refcountOrder;
    }

    public int Version { get; }
    public int ClusterBits { get; }
    public int ClusterSize => 1 << ClusterBits;
    public long ClusterMask => ClusterSize - 1;
    public bool ExtendedL2 { get; }
    public int RefcountOrder { get; }
    public int RefcountBits => 1 << RefcountOrder;

    /// <summary>Largest refcount value a block entry can hold.</summary>
    public ulong MaxRefcount => RefcountOrder == 6 ? ulong.MaxValue : (1UL << RefcountBits) - 1;

    /// <summary>log2 of the number of entries in an L2 table.</summary>
    public int L2EntryBits { get; }
    public int L2Entries => 1 << L2EntryBits;

    /// <summary>64-bit words per L2 entry (2 with extended L2).</summary>
    public int L2Words => ExtendedL2 ? 2 : 1;

    /// <summary>Guest bytes covered by one L2 table (by one L1 entry).</summary>
    public long L2Coverage => 1L << (ClusterBits + L2EntryBits);

    /// <summary>log2 of the subcluster size (the cluster size without extended L2).</summary>
    public int SubclusterBits { get; }
    public int SubclusterSize => 1 << SubclusterBits;

    /// <summary>Bits of host offset in a compressed cluster descriptor: 62 - (cluster_bits - 8).</summary>
    public int CompressedOffsetBits { get; }

    /// <summary>Largest number of 512-byte sectors a compressed descriptor can describe.</summary>
    public int MaxCompressedSectors => 1 << (ClusterBits - 8);

    /// <summary>log2 of the number of entries in a refcount block.</summary>
    public int RefcountBlockBits { get; }
    public long RefcountBlockEntries => 1L << RefcountBlockBits;

    /// <summary>Number of L1 entries needed for a virtual disk of <paramref name="size"/> bytes.</summary>
    public long L1EntriesFor(long size) => size <= 0 ? 0 : (long)(((ulong)size + (ulong)L2Coverage - 1) >> (ClusterBits + L2EntryBits));

    /// <summary>The L2 table offset an L1 entry points to (0 when none).</summary>
    public static long L2Offset(ulong l1Entry) => (long)(l1Entry & L1OffsetMask);

    /// <summary>True when the COPIED flag (refcount exactly one) is set.</summary>
    public static bool IsCopied(ulong entry) => (entry & EntryCopied) != 0;

    /// <summary>The kind of a standard (non-extended) L2 entry.</summary>
    public Qcow2ClusterKind StandardKind(ulong entry)
    {
        if ((entry & EntryCompressed) != 0) return Qcow2ClusterKind.Compressed;
        if (!ExtendedL2 && (entry & EntryZero) != 0) return Qcow2ClusterKind.Zero;
        return (entry & L2OffsetMask) == 0 ? Qcow2ClusterKind.Unallocated : Qcow2ClusterKind.Normal;
    }

    /// <summary>The host cluster offset of a standard entry (ignores flags).</summary>
    public static long HostOffset(ulong entry) => (long)(entry & L2OffsetMask);

    /// <summary>The kind of subcluster <paramref name="sub"/> of an extended entry.</summary>
    public static Qcow2ClusterKind ExtendedKind(ulong entry, ulong bitmap, int sub)
    {
        if ((entry & EntryCompressed) != 0) return Qcow2ClusterKind.Compressed;
        if ((bitmap >> sub & 1) != 0) return Qcow2ClusterKind.Normal;
        if ((bitmap >> (32 + sub) & 1) != 0) return Qcow2ClusterKind.Zero;
        return Qcow2ClusterKind.Unallocated;
    }

    /// <summary>Extended-L2 bitmap with every subcluster allocated.</summary>
    public const ulong AllAllocated = 0x0000_0000_FFFF_FFFFUL;

    /// <summary>Extended-L2 bitmap with every subcluster reading as zeros.</summary>
    public const ulong AllZero = 0xFFFF_FFFF_0000_0000UL;

    /// <summary>Host byte offset of a compressed descriptor.</summary>
    public long CompressedOffset(ulong entry) => (long)(entry & ((1UL << CompressedOffsetBits) - 1));

    /// <summary>Total 512-byte sectors (1 + the additional count) of a compressed descriptor.</summary>
    public int CompressedSectors(ulong entry)
        => (int)((entry >> CompressedOffsetBits) & ((1UL << (ClusterBits - 8)) - 1)) + 1;

    /// <summary>Bytes from the descriptor's offset to the end of its last sector.</summary>
    public int CompressedLength(ulong entry)
        => CompressedSectors(entry) * CompressedSector - (int)(CompressedOffset(entry) & (CompressedSector - 1));

    /// <summary>Builds a compressed descriptor for <paramref name="length"/> bytes at <paramref name="hostOffset"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The extent does not fit a descriptor.</exception>
    public ulong EncodeCompressed(long hostOffset, int length)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        if (hostOffset < 0 || (ulong)hostOffset >= 1UL << CompressedOffsetBits)
            throw new ArgumentOutOfRangeException(nameof(hostOffset), "Compressed cluster beyond the descriptor's range.");
        long firstSector = hostOffset / CompressedSector;
        long lastSector = (hostOffset + length - 1) / CompressedSector;
        long sectors = lastSector - firstSector + 1;
        if (sectors > MaxCompressedSectors) throw new ArgumentOutOfRangeException(nameof(length), "Compressed data too long for a descriptor.");
        return EntryCompressed | ((ulong)(sectors - 1) << CompressedOffsetBits) | (ulong)hostOffset;
    }

    /// <summary>First and last host cluster index a compressed descriptor touches.</summary>
    public (long First, long Last) CompressedClusters(ulong entry)
    {
        long start = CompressedOffset(entry) & ~(long)(CompressedSector - 1);
        long end = start + (long)CompressedSectors(entry) * CompressedSector - 1;
        return (start >> ClusterBits, end >> ClusterBits);
    }

    /// <summary>Reads entry <paramref name="index"/> of a refcount block in this image's width.</summary>
    public ulong GetRefcount(ReadOnlySpan<byte> block, long index) => GetRefcount(block, index, RefcountOrder);

    /// <summary>Writes entry <paramref name="index"/> of a refcount block.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value does not fit the refcount width.</exception>
    public void SetRefcount(Span<byte> block, long index, ulong value)
    {
        if (value > MaxRefcount) throw new ArgumentOutOfRangeException(nameof(value), $"Refcount {value} exceeds {RefcountBits} bits.");
        SetRefcount(block, index, RefcountOrder, value);
    }

    /// <summary>Reads entry <paramref name="index"/> of a refcount block with 2^<paramref name="order"/>-bit entries.</summary>
    public static ulong GetRefcount(ReadOnlySpan<byte> block, long index, int order)
    {
        switch (order)
        {
            case 3: return block[(int)index];
            case 4: return BinaryPrimitives.ReadUInt16BigEndian(block[(int)(index * 2)..]);
            case 5: return BinaryPrimitives.ReadUInt32BigEndian(block[(int)(index * 4)..]);
            case 6: return BinaryPrimitives.ReadUInt64BigEndian(block[(int)(index * 8)..]);
            default:
                long bit = index << order;
                int shift = (int)(bit & 7);
                return (ulong)((block[(int)(bit >> 3)] >> shift) & ((1 << (1 << order)) - 1));
        }
    }

    /// <summary>Writes entry <paramref name="index"/> of a refcount block with 2^<paramref name="order"/>-bit entries; the value must fit.</summary>
    public static void SetRefcount(Span<byte> block, long index, int order, ulong value)
    {
        switch (order)
        {
            case 3: block[(int)index] = (byte)value; break;
            case 4: BinaryPrimitives.WriteUInt16BigEndian(block[(int)(index * 2)..], (ushort)value); break;
            case 5: BinaryPrimitives.WriteUInt32BigEndian(block[(int)(index * 4)..], (uint)value); break;
            case 6: BinaryPrimitives.WriteUInt64BigEndian(block[(int)(index * 8)..], value); break;
            default:
                long bit = index << order;
                int shift = (int)(bit & 7);
                int mask = ((1 << (1 << order)) - 1) << shift;
                ref byte b = ref block[(int)(bit >> 3)];
                b = (byte)((b & ~mask) | (((int)value << shift) & mask));
                break;
        }
    }

    /// <summary>Decodes big-endian 64-bit words.</summary>
    public static void DecodeWords(ReadOnlySpan<byte> source, Span<ulong> dest)
    {
        for (int i = 0; i < dest.Length; i++) dest[i] = BinaryPrimitives.ReadUInt64BigEndian(source[(i * 8)..]);
    }

    /// <summary>Encodes 64-bit words big-endian.</summary>
    public static void EncodeWords(ReadOnlySpan<ulong> source, Span<byte> dest)
    {
        for (int i = 0; i < source.Length; i++) BinaryPrimitives.WriteUInt64BigEndian(dest[(i * 8)..], source[i]);
    }
}
