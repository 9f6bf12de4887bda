using System.Buffers.Binary;

namespace Discemu.Formats.Qcow2;

public sealed partial class Qcow2Image
{
    /// <inheritdoc/>
    /// <exception cref="BadArgumentException">The size is not a multiple of 512, or too large for the L1 table.</exception>
    /// <exception cref="UnsupportedFeatureException">The image has internal snapshots and would shrink.</exception>
    protected override void ResizeCore(long newLength)
    {
        if (newLength % 512 != 0) throw new BadArgumentException($"The size {newLength} is not a multiple of 512 bytes.", Path);
        MarkDirtyForLazyRefcounts();
        long oldLength = Volatile.Read(ref _size);
        if (newLength < oldLength)
        {
            // Like qemu-img resize --shrink: what lies beyond the new end is dropped. Clusters wholly past it
            // are freed (zero-flagged where a backing file would otherwise show through, so growing again reads zeros).
            if (_snapshots.Count > 0) throw new UnsupportedFeatureException("Cannot shrink an image that has internal snapshots.", Path);
            long firstWhole = (newLength + _layout.ClusterMask) & ~_layout.ClusterMask;
            long oldEnd = (oldLength + _layout.ClusterMask) & ~_layout.ClusterMask;
            bool hasBacking = _backing is not null || BackingFileName is not null;
            if (firstWhole < oldEnd)
                ChangeClusters(firstWhole, oldEnd, hasBacking && _layout.Version >= 3 ? ClusterChange.ZeroUnmap : ClusterChange.Deallocate);
        }
        lock (_lock)
        {
            oldLength = _size;
            if (newLength == oldLength) return;
            if (newLength > oldLength)
            {
                long needed = _layout.L1EntriesFor(newLength);
                if (needed > Qcow2Constants.MaxL1Entries) throw new BadArgumentException($"The size {newLength} needs an L1 table larger than the format allows for this cluster size.", Path);
                if (needed > _l1.Length) GrowL1((int)needed);
            }
            WriteSize(newLength);
        }
        if (newLength > oldLength && (oldLength & _layout.ClusterMask) != 0)
        {
            // The old last cluster may hold stale bytes beyond the old end: they must now read as zeros.
            long tailEnd = Math.Min(newLength, (oldLength + _layout.ClusterMask) & ~_layout.ClusterMask);
            ZeroPartial(oldLength, tailEnd - oldLength);
        }
    }

    private void WriteSize(long size)
    {
        _header = _header with { Size = size };
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(b, (ulong)size);
        File.Write(24, b);
        Volatile.Write(ref _size, size);
    }

    /// <summary>Moves the L1 table to a new place with <paramref name="entries"/> entries. Caller holds the lock.</summary>
    private void GrowL1(int entries)
    {
        WriteBackMetadata();
        long bytes = entries * 8L;
        long clusters = (bytes + _layout.ClusterMask) >> _layout.ClusterBits;
        long start = AllocateClusters(clusters) << _layout.ClusterBits;
        var l1 = new ulong[entries];
        _l1.CopyTo(l1, 0);
        var raw = new byte[clusters << _layout.ClusterBits];
        Qcow2Layout.EncodeWords(l1, raw);
        File.Write(start, raw);
        WriteDirtyRefBlocks();
        File.Flush();
        long oldOffset = _header.L1TableOffset;
        long oldClusters = (_l1.Length * 8L + _layout.ClusterMask) >> _layout.ClusterBits;
        _header = _header with { L1Size = (uint)entries, L1TableOffset = start };
        Span<byte> b = stackalloc byte[12];
        BinaryPrimitives.WriteUInt32BigEndian(b, (uint)entries);
        BinaryPrimitives.WriteUInt64BigEndian(b[4..], (ulong)start);
        File.Write(36, b);
        _l1 = l1;
        _l1Dirty = false;
        if (oldOffset != 0)
            for (long i = 0; i < oldClusters; i++) FreeClusterLater((oldOffset >> _layout.ClusterBits) + i);
    }

    /// <inheritdoc/>
    /// <exception cref="NotSupportedException">The image is read-only.</exception>
    /// <exception cref="BadArgumentException">The name does not fit in the header cluster.</exception>
    public void SetBackingFile(string? fileName, string? formatName)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if (!CanWrite) throw new NotSupportedException("The device is read-only.");
        if (fileName is not null && System.Text.Encoding.UTF8.GetByteCount(fileName) > Qcow2Constants.MaxBackingFileNameLength)
            throw new BadArgumentException("The backing file name is longer than 1023 bytes.", Path);
        lock (_lock)
        {
            string? oldName = _backingName, oldFormat = _backingFormat;
            _backingName = string.IsNullOrEmpty(fileName) ? null : fileName;
            _backingFormat = _backingName is null ? null : formatName;
            try
            {
                WriteHeaderArea();
            }
            catch
            {
                _backingName = oldName;
                _backingFormat = oldFormat;
                throw;
            }
            File.Flush();
        }
    }
}
