using System.Buffers;
using Discemu.Block;
using static Discemu.Formats.Qcow2.Qcow2Constants;

namespace Discemu.Formats.Qcow2;

/// <summary>A run of guest bytes that share one kind of mapping.</summary>
/// <param name="Kind">What the bytes map to.</param>
/// <param name="Length">How many guest bytes.</param>
/// <param name="HostOffset">For <see cref="Qcow2ClusterKind.Normal"/>: where the first byte lives in the file; otherwise -1.</param>
/// <param name="Entry">For <see cref="Qcow2ClusterKind.Compressed"/>: the first cluster's descriptor.</param>
internal readonly record struct Qcow2Extent(Qcow2ClusterKind Kind, long Length, long HostOffset, ulong Entry);

public sealed partial class Qcow2Image
{
    [ThreadStatic] private static byte[]? t_clusterCache;
    [ThreadStatic] private static object? t_clusterCacheOwner;
    [ThreadStatic] private static ulong t_clusterCacheEntry;

    /// <summary>
    /// Maps the guest range at <paramref name="offset"/> through <paramref name="l1"/>, merging
    /// consecutive clusters of the same kind (contiguous on the host for normal clusters).
    /// Caller holds the lock.
    /// </summary>
    private Qcow2Extent MapLocked(ulong[] l1, long offset, long maxLength, bool mergeCompressed)
    {
        var layout = _layout;
        int cb = layout.ClusterBits;
        long cm = layout.ClusterMask;
        int tableShift = cb + layout.L2EntryBits;
        int indexMask = layout.L2Entries - 1;
        long pos = offset, end = offset + maxLength;
        var kind = Qcow2ClusterKind.Unallocated;
        long host = -1;
        ulong entry0 = 0;
        bool first = true;

        while (pos < end)
        {
            long l1Index = pos >> tableShift;
            long tableEnd = Math.Min(end, (l1Index + 1) << tableShift);
            ulong l1e = l1Index < l1.Length ? l1[l1Index] : 0;
            long l2Offset = Qcow2Layout.L2Offset(l1e);
            if (l2Offset == 0)
            {
                if (!Accept(Qcow2ClusterKind.Unallocated, -1, 0)) break;
                pos = tableEnd;
                continue;
            }
            var words = GetL2(l2Offset).Words;
            while (pos < tableEnd)
            {
                int index = (int)((pos >> cb) & indexMask);
                long clusterEnd = Math.Min(tableEnd, (pos | cm) + 1);
                if (!layout.ExtendedL2)
                {
                    ulong e = words[index];
                    var k = layout.StandardKind(e);
                    long h = k == Qcow2ClusterKind.Normal ? CheckDataOffset(Qcow2Layout.HostOffset(e)) + (pos & cm) : -1;
                    if (!Accept(k, h, e)) goto done;
                    pos = clusterEnd;
                    continue;
                }
                ulong ee = words[2 * index], bitmap = words[2 * index + 1];
                if ((ee & EntryCompressed) != 0)
                {
                    if (!Accept(Qcow2ClusterKind.Compressed, -1, ee)) goto done;
                    pos = clusterEnd;
                    continue;
                }
                int scBits = layout.SubclusterBits;
                while (pos < clusterEnd)
                {
                    int sub = (int)((pos & cm) >> scBits);
                    var k = Qcow2Layout.ExtendedKind(ee, bitmap, sub);
                    long h = -1;
                    if (k == Qcow2ClusterKind.Normal)
                    {
                        long baseOffset = Qcow2Layout.HostOffset(ee);
                        if (baseOffset == 0) throw new CorruptImageException("An allocated subcluster has no host cluster.", Path);
                        h = CheckDataOffset(baseOffset) + (pos & cm);
                    }
                    if (!Accept(k, h, ee)) goto done;
                    pos = Math.Min(clusterEnd, (pos | (long)(layout.SubclusterSize - 1)) + 1);
                }
            }
        }
    done:
        return new Qcow2Extent(kind, pos - offset, host, entry0);

        bool Accept(Qcow2ClusterKind k, long h, ulong e)
        {
            if (first)
            {
                first = false;
                kind = k;
                host = h;
                entry0 = e;
                return true;
            }
            if (k != kind) return false;
            if (k == Qcow2ClusterKind.Normal && h != host + (pos - offset)) return false;
            if (k == Qcow2ClusterKind.Compressed && !mergeCompressed) return false;
            return true;
        }
    }

    private long CheckDataOffset(long hostOffset)
    {
        if ((hostOffset & _layout.ClusterMask) != 0)
            throw new CorruptImageException($"Data cluster offset 0x{hostOffset:x} is not cluster-aligned.", Path);
        return hostOffset;
    }

    /// <inheritdoc/>
    protected override void ReadCore(long offset, Span<byte> buffer) => ReadMapped(null, offset, buffer);

    /// <summary>Reads guest bytes through <paramref name="l1"/> (null: the active table).</summary>
    private void ReadMapped(ulong[]? l1, long offset, Span<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            Qcow2Extent x;
            lock (_lock) x = MapLocked(l1 ?? _l1, offset, buffer.Length, mergeCompressed: false);
            var part = buffer[..(int)x.Length];
            switch (x.Kind)
            {
                case Qcow2ClusterKind.Normal: ReadHost(x.HostOffset, part); break;
                case Qcow2ClusterKind.Zero: part.Clear(); break;
                case Qcow2ClusterKind.Compressed: ReadCompressed(x.Entry, offset, part); break;
                default: ReadBacking(offset, part); break;
            }
            offset += part.Length;
            buffer = buffer[part.Length..];
        }
    }

    /// <summary>Reads from the backing file; past its end (or without one) the bytes are zeros.</summary>
    private void ReadBacking(long offset, Span<byte> part) => ReadBelow(_backing, offset, part);

    /// <summary>Reads the part of a compressed cluster at guest <paramref name="offset"/>.</summary>
    private void ReadCompressed(ulong entry, long offset, Span<byte> part)
    {
        var cluster = DecompressCluster(entry);
        int within = (int)(offset & _layout.ClusterMask);
        cluster.AsSpan(within, part.Length).CopyTo(part);
    }

    /// <summary>Decompresses the cluster a descriptor points to (into a per-thread buffer).</summary>
    private byte[] DecompressCluster(ulong entry)
    {
        int cs = _layout.ClusterSize;
        var cache = t_clusterCache;
        if (cache is not null && cache.Length == cs && ReferenceEquals(t_clusterCacheOwner, this) && t_clusterCacheEntry == entry) return cache;
        if (cache is null || cache.Length != cs) t_clusterCache = cache = new byte[cs];
        t_clusterCacheOwner = null;
        long host = _layout.CompressedOffset(entry);
        int length = _layout.CompressedLength(entry);
        if (host == 0 || host > MaxHostOffset) throw new CorruptImageException($"Compressed cluster offset 0x{host:x} is invalid.", Path);
        var raw = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            ReadHost(host, raw.AsSpan(0, length));
            Qcow2Compression.Decompress(_header.CompressionType, raw.AsSpan(0, length), cache, Path);
        }
        finally { ArrayPool<byte>.Shared.Return(raw); }
        t_clusterCacheOwner = this;
        t_clusterCacheEntry = entry;
        return cache;
    }

    /// <inheritdoc/>
    protected override BlockStatus GetStatusCore(long offset, long maxLength)
    {
        Qcow2Extent x;
        lock (_lock) x = MapLocked(_l1, offset, maxLength, mergeCompressed: true);
        return x.Kind switch
        {
            Qcow2ClusterKind.Normal => new BlockStatus(x.Length, BlockStatusFlags.Data | BlockStatusFlags.Allocated, 0, x.HostOffset),
            Qcow2ClusterKind.Zero => new BlockStatus(x.Length, BlockStatusFlags.Zero | BlockStatusFlags.Allocated),
            Qcow2ClusterKind.Compressed => new BlockStatus(x.Length, BlockStatusFlags.Data | BlockStatusFlags.Allocated | BlockStatusFlags.Compressed),
            _ => BackingStatus(offset, x.Length),
        };
    }

    private BlockStatus BackingStatus(long offset, long length)
    {
        var backing = _backing;
        if (backing is null) return new BlockStatus(length, BlockStatusFlags.None);
        long available = backing.Length - offset;
        if (available <= 0) return new BlockStatus(length, BlockStatusFlags.Zero);
        return backing.GetStatus(offset, Math.Min(length, available)).Deeper();
    }
}
