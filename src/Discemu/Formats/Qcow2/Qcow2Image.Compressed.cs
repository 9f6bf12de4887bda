using System.Buffers;
using static Discemu.Formats.Qcow2.Qcow2Constants;

namespace Discemu.Formats.Qcow2;

public sealed partial class Qcow2Image
{
    /// <summary>Next free byte (sector-aligned) in the host cluster being packed with compressed data; 0 when none.</summary>
    private long _compressedCursor;

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The range is not one aligned cluster (or the short last one).</exception>
    /// <exception cref="NotSupportedException">The image is read-only.</exception>
    public void WriteCompressed(long offset, ReadOnlySpan<byte> data)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if (!CanWrite) throw new NotSupportedException("The device is read-only.");
        int cs = _layout.ClusterSize;
        long size = Length;
        if ((offset & _layout.ClusterMask) != 0 || offset < 0 || offset >= size)
            throw new ArgumentException("Compressed writes must start at a cluster boundary inside the disk.", nameof(offset));
        if (data.Length != Math.Min(cs, size - offset))
            throw new ArgumentException("Compressed writes cover exactly one cluster (the last one may be short).", nameof(data));

        byte[] input = ArrayPool<byte>.Shared.Rent(cs);
        byte[] output = ArrayPool<byte>.Shared.Rent(cs);
        try
        {
            data.CopyTo(input);
            input.AsSpan(data.Length, cs - data.Length).Clear();
            int limit = Math.Min(cs - CompressedSectorSlack, _layout.MaxCompressedSectors * Qcow2Layout.CompressedSector);
            int length = limit <= 0 ? -1 : Qcow2Compression.Compress(_header.CompressionType, input.AsSpan(0, cs), output.AsSpan(0, limit));
            if (length <= 0)
            {
                Write(offset, data);
                return;
            }
            MarkDirtyForLazyRefcounts();
            StoreCompressed(offset, output.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(input);
            ArrayPool<byte>.Shared.Return(output);
        }
    }

    /// <summary>Compressed data must save at least one sector to be worth storing compressed.</summary>
    private const int CompressedSectorSlack = Qcow2Layout.CompressedSector;

    private void StoreCompressed(long offset, ReadOnlySpan<byte> compressed)
    {
        var layout = _layout;
        long c = offset >> layout.ClusterBits;
        long l1Index = offset / layout.L2Coverage;
        long host;
        lock (_lock)
        {
            WaitNotInFlight(c, c);
            GetWritableL2(l1Index);
            host = AllocateCompressedBytes(compressed.Length);
            _inFlight.Add(c);
        }
        bool committed = false;
        try
        {
            File.Write(host, compressed);
            lock (_lock)
            {
                var table = GetL2(Qcow2Layout.L2Offset(_l1[l1Index]));
                int index = (int)(c & (layout.L2Entries - 1)) * layout.L2Words;
                ulong old = table.Words[index];
                table.Words[index] = layout.EncodeCompressed(host, compressed.Length);
                if (layout.ExtendedL2) table.Words[index + 1] = 0;
                _l2Cache.MarkDirty(table);
                FreeEntryLater(old);
                committed = true;
                _inFlight.Remove(c);
                Monitor.PulseAll(_lock);
            }
        }
        finally
        {
            if (!committed)
            {
                lock (_lock)
                {
                    FreeCompressedLater(layout.EncodeCompressed(host, compressed.Length));
                    _inFlight.Remove(c);
                    Monitor.PulseAll(_lock);
                }
            }
        }
    }

    /// <summary>
    /// Finds room for <paramref name="length"/> compressed bytes: after the previous compressed
    /// cluster in the same host cluster when it fits, else at the start of a new cluster. Caller holds the lock.
    /// </summary>
    private long AllocateCompressedBytes(int length)
    {
        long cm = _layout.ClusterMask;
        long cursor = _compressedCursor;
        if (cursor != 0 && (cursor & cm) != 0 && (cursor & cm) + length <= _layout.ClusterSize)
        {
            long cluster = cursor >> _layout.ClusterBits;
            ulong refs = GetRefcount(cluster);
            if (refs >= 1 && refs < _layout.MaxRefcount)
            {
                SetRefcount(cluster, refs + 1);
                _compressedCursor = AdvanceCursor(cursor, length);
                return cursor;
            }
        }
        long start = AllocateClusters(1) << _layout.ClusterBits;
        _compressedCursor = AdvanceCursor(start, length);
        return start;
    }

    private long AdvanceCursor(long at, int length)
    {
        long next = (at + length + Qcow2Layout.CompressedSector - 1) & ~(long)(Qcow2Layout.CompressedSector - 1);
        return (next & _layout.ClusterMask) == 0 ? 0 : next;
    }
}
