using System.Buffers.Binary;
using static Discemu.Formats.Qcow2.Qcow2Constants;

namespace Discemu.Formats.Qcow2;

/// <summary>The fixed QCOW2 header (versions 2 and 3), big-endian, with every field validated on read.</summary>
internal readonly record struct Qcow2Header
{
    public int Version { get; init; }
    public ulong BackingFileOffset { get; init; }
    public uint BackingFileSize { get; init; }
    public int ClusterBits { get; init; }
    public long Size { get; init; }
    public uint CryptMethod { get; init; }
    public uint L1Size { get; init; }
    public long L1TableOffset { get; init; }
    public long RefcountTableOffset { get; init; }
    public uint RefcountTableClusters { get; init; }
    public uint SnapshotCount { get; init; }
    public long SnapshotsOffset { get; init; }
    public ulong IncompatibleFeatures { get; init; }
    public ulong CompatibleFeatures { get; init; }
    public ulong AutoclearFeatures { get; init; }
    public int RefcountOrder { get; init; }
    public int HeaderLength { get; init; }
    public byte CompressionType { get; init; }

    public int ClusterSize => 1 << ClusterBits;
    public int RefcountBits => 1 << RefcountOrder;
    public bool ExtendedL2 => (IncompatibleFeatures & IncompatExtendedL2) != 0;
    public bool Dirty => (IncompatibleFeatures & IncompatDirty) != 0;
    public bool LazyRefcounts => (CompatibleFeatures & CompatLazyRefcounts) != 0;

    /// <summary>True when the bytes start with the QCOW2 magic.</summary>
    public static bool HasMagic(ReadOnlySpan<byte> data) => data.Length >= 4 && BinaryPrimitives.ReadUInt32BigEndian(data) == Magic;

    /// <summary>Parses and validates the header.</summary>
    /// <exception cref="CorruptImageException">A field is out of range.</exception>
    /// <exception cref="UnsupportedFeatureException">The version is not 2 or 3.</exception>
    public static Qcow2Header Read(ReadOnlySpan<byte> data, string? path)
    {
        if (data.Length < V2HeaderLength || !HasMagic(data)) throw new CorruptImageException("Not a QCOW2 image (bad magic or short header).", path);
        int version = (int)BinaryPrimitives.ReadUInt32BigEndian(data[4..]);
        if (version is not (2 or 3)) throw new UnsupportedFeatureException($"QCOW2 version {version} is not supported.", path);
        uint clusterBits = BinaryPrimitives.ReadUInt32BigEndian(data[20..]);
        if (clusterBits is < MinClusterBits or > MaxClusterBits)
            throw new CorruptImageException($"Cluster size 2^{clusterBits} is outside 512 B to 2 MiB.", path);
        ulong size = BinaryPrimitives.ReadUInt64BigEndian(data[24..]);
        if (size > long.MaxValue / 2) throw new CorruptImageException($"Virtual size {size} is too large.", path);

        var h = new Qcow2Header
        {
            Version = version,
            BackingFileOffset = BinaryPrimitives.ReadUInt64BigEndian(data[8..]),
            BackingFileSize = BinaryPrimitives.ReadUInt32BigEndian(data[16..]),
            ClusterBits = (int)clusterBits,
            Size = (long)size,
            CryptMethod = BinaryPrimitives.ReadUInt32BigEndian(data[32..]),
            L1Size = BinaryPrimitives.ReadUInt32BigEndian(data[36..]),
            L1TableOffset = CheckOffset(BinaryPrimitives.ReadUInt64BigEndian(data[40..]), "L1 table", path),
            RefcountTableOffset = CheckOffset(BinaryPrimitives.ReadUInt64BigEndian(data[48..]), "refcount table", path),
            RefcountTableClusters = BinaryPrimitives.ReadUInt32BigEndian(data[56..]),
            SnapshotCount = BinaryPrimitives.ReadUInt32BigEndian(data[60..]),
            SnapshotsOffset = CheckOffset(BinaryPrimitives.ReadUInt64BigEndian(data[64..]), "snapshot table", path),
            RefcountOrder = 4,
            HeaderLength = V2HeaderLength,
        };
        if (version == 3)
        {
            if (data.Length < V3MinHeaderLength) throw new CorruptImageException("QCOW2 v3 header is truncated.", path);
            uint refcountOrder = BinaryPrimitives.ReadUInt32BigEndian(data[96..]);
            uint headerLength = BinaryPrimitives.ReadUInt32BigEndian(data[100..]);
            if (refcountOrder > MaxRefcountOrder) throw new CorruptImageException($"Refcount order {refcountOrder} is larger than 6.", path);
            if (headerLength < V3MinHeaderLength || headerLength > (1u << (int)clusterBits))
                throw new CorruptImageException($"Header length {headerLength} is invalid.", path);
            h = h with
            {
                IncompatibleFeatures = BinaryPrimitives.ReadUInt64BigEndian(data[72..]),
                CompatibleFeatures = BinaryPrimitives.ReadUInt64BigEndian(data[80..]),
                AutoclearFeatures = BinaryPrimitives.ReadUInt64BigEndian(data[88..]),
                RefcountOrder = (int)refcountOrder,
                HeaderLength = (int)headerLength,
            };
            if (headerLength > V3MinHeaderLength)
            {
                if (data.Length <= V3MinHeaderLength) throw new CorruptImageException("QCOW2 header is truncated.", path);
                h = h with { CompressionType = data[V3MinHeaderLength] };
            }
            bool typeBit = (h.IncompatibleFeatures & IncompatCompressionType) != 0;
            if (h.CompressionType > CompressionZstd) throw new UnsupportedFeatureException($"Compression type {h.CompressionType} is not supported.", path);
            if (typeBit != (h.CompressionType != CompressionZlib))
                throw new CorruptImageException("Compression type field and its feature bit disagree.", path);
        }
        if (h.BackingFileSize > MaxBackingFileNameLength) throw new CorruptImageException($"Backing file name is {h.BackingFileSize} bytes (at most 1023).", path);
        if (h.SnapshotCount > MaxSnapshots) throw new CorruptImageException($"{h.SnapshotCount} snapshots is more than the format allows.", path);
        if (h.L1Size > MaxL1Entries) throw new CorruptImageException($"L1 table of {h.L1Size} entries is too large.", path);
        if ((long)h.RefcountTableClusters << h.ClusterBits > MaxRefcountTableBytes)
            throw new CorruptImageException($"Refcount table of {h.RefcountTableClusters} clusters is too large.", path);
        if (h.RefcountTableClusters == 0) throw new CorruptImageException("Refcount table is empty.", path);
        CheckAligned(h.L1TableOffset, h, "L1 table", path);
        CheckAligned(h.RefcountTableOffset, h, "refcount table", path);
        if (h.SnapshotCount > 0) CheckAligned(h.SnapshotsOffset, h, "snapshot table", path);
        return h;
    }

    private static long CheckOffset(ulong value, string what, string? path)
        => value > MaxHostOffset ? throw new CorruptImageException($"The {what} offset 0x{value:x} is out of range.", path) : (long)value;

    private static void CheckAligned(long offset, Qcow2Header h, string what, string? path)
    {
        if ((offset & (h.ClusterSize - 1)) != 0) throw new CorruptImageException($"The {what} offset 0x{offset:x} is not cluster-aligned.", path);
    }

    /// <summary>Serialises the header into <paramref name="dest"/> (at least <see cref="HeaderLength"/> bytes).</summary>
    public void Write(Span<byte> dest)
    {
        dest[..HeaderLength].Clear();
        BinaryPrimitives.WriteUInt32BigEndian(dest, Magic);
        BinaryPrimitives.WriteUInt32BigEndian(dest[4..], (uint)Version);
        BinaryPrimitives.WriteUInt64BigEndian(dest[8..], BackingFileOffset);
        BinaryPrimitives.WriteUInt32BigEndian(dest[16..], BackingFileSize);
        BinaryPrimitives.WriteUInt32BigEndian(dest[20..], (uint)ClusterBits);
        BinaryPrimitives.WriteUInt64BigEndian(dest[24..], (ulong)Size);
        BinaryPrimitives.WriteUInt32BigEndian(dest[32..], CryptMethod);
        BinaryPrimitives.WriteUInt32BigEndian(dest[36..], L1Size);
        BinaryPrimitives.WriteUInt64BigEndian(dest[40..], (ulong)L1TableOffset);
        BinaryPrimitives.WriteUInt64BigEndian(dest[48..], (ulong)RefcountTableOffset);
        BinaryPrimitives.WriteUInt32BigEndian(dest[56..], RefcountTableClusters);
        BinaryPrimitives.WriteUInt32BigEndian(dest[60..], SnapshotCount);
        BinaryPrimitives.WriteUInt64BigEndian(dest[64..], (ulong)SnapshotsOffset);
        if (Version < 3) return;
        BinaryPrimitives.WriteUInt64BigEndian(dest[72..], IncompatibleFeatures);
        BinaryPrimitives.WriteUInt64BigEndian(dest[80..], CompatibleFeatures);
        BinaryPrimitives.WriteUInt64BigEndian(dest[88..], AutoclearFeatures);
        BinaryPrimitives.WriteUInt32BigEndian(dest[96..], (uint)RefcountOrder);
        BinaryPrimitives.WriteUInt32BigEndian(dest[100..], (uint)HeaderLength);
        if (HeaderLength > V3MinHeaderLength) dest[V3MinHeaderLength] = CompressionType;
    }
}
