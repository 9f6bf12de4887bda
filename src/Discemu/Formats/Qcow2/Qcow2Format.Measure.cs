using System.Numerics;
using Discemu.Block;
using static Discemu.Formats.Qcow2.Qcow2Constants;

namespace Discemu.Formats.Qcow2;

public sealed partial class Qcow2Format
{
    private const int DefaultClusterSize = 64 * 1024;
    private const int MinExtendedL2ClusterSize = 16 * 1024;
    private const int DefaultRefcountBits = 16;

    /// <summary>
    /// Computes the file size a new QCOW2 image needs, as <c>qemu-img measure -O qcow2</c> does: the
    /// metadata of a fully allocated image (header, L2 and L1 tables, refcount table and blocks) plus
    /// either every data cluster (fully allocated) or only those the source has data in (required).
    /// </summary>
    /// <exception cref="BadArgumentException">An option is unknown or invalid, or the size is too large for the cluster size.</exception>
    public override MeasureResult Measure(long virtualSize, BlockDevice? source, CreateOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(virtualSize);
        var p = MeasureParameters.Parse(options);

        long cs = p.ClusterSize;
        if (source is not null) virtualSize = source.Length;
        long aligned = AlignUp(virtualSize, cs);
        int l2EntrySize = p.ExtendedL2 ? 16 : 8;
        long l2Tables = CeilDiv(aligned / cs, cs / l2EntrySize);
        if (l2Tables > MaxL1Entries)
            throw new BadArgumentException("The image size is too large (try using a larger cluster size).");

        long dataRequired = 0;
        if (source is not null)
            dataRequired = p.HasBacking ? aligned : CountDataBytes(source, cs);
        if (p.Preallocation is "full" or "falloc") dataRequired = aligned;

        long fully = PreallocatedSize(aligned, cs, p.RefcountOrder, l2EntrySize);
        return new MeasureResult(fully - aligned + dataRequired, fully);
    }

    /// <summary>Bytes of whole clusters the source has data in (zero ranges and holes are skipped).</summary>
    private static long CountDataBytes(BlockDevice source, long clusterSize)
    {
        long total = 0;
        long length = source.Length;
        long offset = 0;
        while (offset < length)
        {
            var status = source.GetStatus(offset, length - offset);
            long next = offset + status.Length;
            if (!status.IsZero && status.HasData && status.IsAllocated)
            {
                // Count from the start of this cluster to the end of the cluster holding the last byte,
                // then continue after it so no cluster is counted twice.
                long clusterStart = offset - offset % clusterSize;
                long clusterEnd = Math.Min(AlignUp(next, clusterSize), AlignUp(length, clusterSize));
                total += clusterEnd - clusterStart;
                next = Math.Min(clusterEnd, length);
            }
            offset = next;
        }
        return total;
    }

    /// <summary>The size of a fully allocated image: data plus every metadata structure it needs.</summary>
    internal static long PreallocatedSize(long alignedSize, long clusterSize, int refcountOrder, int l2EntrySize)
    {
        long meta = clusterSize; // header cluster
        long l2Entries = AlignUp(alignedSize / clusterSize, clusterSize / l2EntrySize);
        meta += l2Entries * l2EntrySize;
        long l1Entries = AlignUp(l2Entries * l2EntrySize / clusterSize, clusterSize / 8);
        meta += l1Entries * 8;
        meta += RefcountMetadataSize((meta + alignedSize) / clusterSize, clusterSize, refcountOrder);
        return checked(meta + alignedSize);
    }

    /// <summary>Bytes of refcount table and blocks needed to count <paramref name="clusters"/> clusters plus themselves.</summary>
    internal static long RefcountMetadataSize(long clusters, long clusterSize, int refcountOrder)
    {
        long perTableCluster = clusterSize / 8;
        long perBlock = clusterSize * 8 >> refcountOrder;
        long table = 0, blocks = 0, n = 0, last;
        do
        {
            last = n;
            blocks = CeilDiv(clusters + table + blocks, perBlock);
            table = CeilDiv(blocks, perTableCluster);
            n = clusters + blocks + table;
        }
        while (n != last);
        return (blocks + table) * clusterSize;
    }

    private static long AlignUp(long value, long alignment) => checked((value + alignment - 1) / alignment * alignment);

    private static long CeilDiv(long value, long divisor) => (value + divisor - 1) / divisor;

    /// <summary>The creation options measure honours, validated like qemu-img does.</summary>
    private readonly record struct MeasureParameters(int ClusterSize, int RefcountOrder, bool ExtendedL2, string Preallocation, bool HasBacking)
    {
        public static MeasureParameters Parse(CreateOptions options)
        {
            string compat = options.GetChoice("compat", "1.1", "0.10", "v2", "1.1", "v3");
            bool v3 = compat is "1.1" or "v3";
            bool extendedL2 = options.GetBool("extended_l2", false);
            long clusterSize = options.GetSize("cluster_size", DefaultClusterSize);
            if (clusterSize is < 1L << MinClusterBits or > 1L << MaxClusterBits || !BitOperations.IsPow2(clusterSize))
                throw new BadArgumentException("Cluster size must be a power of two between 512 and 2048k.");
            long refcountBits = options.GetSize("refcount_bits", DefaultRefcountBits);
            if (refcountBits is < 1 or > 64 || !BitOperations.IsPow2(refcountBits))
                throw new BadArgumentException("Refcount width must be a power of two and may not exceed 64 bits.");
            if (!v3 && refcountBits != DefaultRefcountBits)
                throw new BadArgumentException("Different refcount widths than 16 bits require compatibility level 1.1 or above (use compat=1.1 or greater).");
            // Like qemu-img measure, only what changes the size is validated here; the
            // version-dependent checks of the other options are left to create.
            if (extendedL2 && clusterSize < MinExtendedL2ClusterSize)
                throw new BadArgumentException($"Extended L2 entries are only supported with cluster sizes of at least {MinExtendedL2ClusterSize} bytes.");
            string prealloc = options.GetChoice("preallocation", "off", "off", "metadata", "falloc", "full");
            options.GetBool("lazy_refcounts", false);
            options.GetChoice("compression_type", "zlib", "zlib", "zstd");
            bool hasBacking = !string.IsNullOrEmpty(options.GetString("backing_file"));
            options.GetString("backing_fmt");
            if (options.GetString("encryption") is not null || options.GetString("encrypt.format") is not null)
                throw new UnsupportedFeatureException("Measuring encrypted QCOW2 images is not supported.");
            options.ThrowOnUnused("qcow2");
            return new MeasureParameters((int)clusterSize, BitOperations.Log2((ulong)refcountBits), extendedL2, prealloc, hasBacking);
        }
    }
}
