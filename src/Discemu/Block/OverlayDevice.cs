namespace Discemu.Block;

/// <summary>
/// Copy-on-write: reads come from <c>base</c> until a block is written; writes go to a separate
/// writable device, so the base is never modified. Written blocks are tracked in memory at
/// <see cref="BlockSize"/> granularity.
/// </summary>
public sealed class OverlayDevice : BlockDevice
{
    private readonly BlockDevice _base;
    private readonly BlockDevice _overlay;
    private readonly ulong[] _written;
    private readonly Lock _copyLock = new();
    private readonly bool _owns;

    /// <summary>Layers <paramref name="overlay"/> (which receives every write) over <paramref name="baseDevice"/>.</summary>
    /// <param name="baseDevice">The device whose contents show through; only read.</param>
    /// <param name="overlay">Writable storage at least as long as the base; a <see cref="MemoryDevice"/> when null.</param>
    /// <param name="blockSize">Tracking granularity, a power of two of at least 512 bytes.</param>
    /// <param name="owns">Dispose both devices with this one.</param>
    /// <exception cref="ArgumentException">The overlay is read-only or shorter than the base, or the block size is invalid.</exception>
    public OverlayDevice(BlockDevice baseDevice, BlockDevice? overlay = null, int blockSize = 64 * 1024, bool owns = true)
    {
        ArgumentNullException.ThrowIfNull(baseDevice);
        if (blockSize < 512 || (blockSize & (blockSize - 1)) != 0) throw new ArgumentException("Block size must be a power of two ≥ 512.", nameof(blockSize));
        overlay ??= new MemoryDevice(baseDevice.Length);
        if (!overlay.CanWrite) throw new ArgumentException("The overlay device must be writable.", nameof(overlay));
        if (overlay.Length < baseDevice.Length) throw new ArgumentException("The overlay device is shorter than the base.", nameof(overlay));
        _base = baseDevice;
        _overlay = overlay;
        BlockSize = blockSize;
        long blocks = (baseDevice.Length + blockSize - 1) / blockSize;
        _written = new ulong[(blocks + 63) / 64];
        _owns = owns;
    }

    /// <summary>The tracking granularity in bytes.</summary>
    public int BlockSize { get; }

    /// <inheritdoc/>
    public override long Length => _base.Length;

    /// <inheritdoc/>
    public override DeviceCapabilities Capabilities =>
        DeviceCapabilities.Write | DeviceCapabilities.Status | (_overlay.Capabilities & (DeviceCapabilities.FastZero | DeviceCapabilities.Discard));

    private bool IsWritten(long block) => (Volatile.Read(ref _written[block >> 6]) & (1UL << (int)(block & 63))) != 0;

    private void MarkWritten(long block) => Interlocked.Or(ref _written[block >> 6], 1UL << (int)(block & 63));

    /// <summary>Length of the run of blocks from <paramref name="offset"/> (≤ max) that share the written state of its block.</summary>
    private long RunLength(long offset, long max, out bool written)
    {
        long block = offset / BlockSize;
        written = IsWritten(block);
        long end = offset + max;
        long pos = (block + 1) * BlockSize;
        while (pos < end && IsWritten(pos / BlockSize) == written) pos += BlockSize;
        return Math.Min(pos, end) - offset;
    }

    /// <inheritdoc/>
    protected override void ReadCore(long offset, Span<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            int n = (int)RunLength(offset, buffer.Length, out bool written);
            (written ? _overlay : _base).Read(offset, buffer[..n]);
            offset += n;
            buffer = buffer[n..];
        }
    }

    /// <inheritdoc/>
    protected override void WriteCore(long offset, ReadOnlySpan<byte> data)
    {
        CopyUpEdges(offset, data.Length);
        _overlay.Write(offset, data);
        MarkRange(offset, data.Length);
    }

    /// <inheritdoc/>
    protected override void WriteZeroesCore(long offset, long length, bool mayUnmap)
    {
        CopyUpEdges(offset, length);
        _overlay.WriteZeroes(offset, length, mayUnmap);
        MarkRange(offset, length);
    }

    /// <inheritdoc/>
    protected override void DiscardCore(long offset, long length) => WriteZeroesCore(offset, length, true);

    /// <inheritdoc/>
    protected override void FlushCore() => _overlay.Flush();

    /// <summary>Copies the base's bytes of partly covered, not yet written edge blocks into the overlay.</summary>
    private void CopyUpEdges(long offset, long length)
    {
        long end = offset + length;
        if (offset % BlockSize != 0) CopyUp(offset / BlockSize);
        if (end % BlockSize != 0 && end != Length) CopyUp((end - 1) / BlockSize);
    }

    private void CopyUp(long block)
    {
        if (IsWritten(block)) return;
        lock (_copyLock)
        {
            if (IsWritten(block)) return;
            long start = block * BlockSize;
            int n = (int)Math.Min(BlockSize, Length - start);
            var buf = new byte[n];
            _base.Read(start, buf);
            _overlay.Write(start, buf);
            MarkWritten(block);
        }
    }

    private void MarkRange(long offset, long length)
    {
        for (long b = offset / BlockSize, last = (offset + length - 1) / BlockSize; b <= last; b++) MarkWritten(b);
    }

    /// <inheritdoc/>
    protected override BlockStatus GetStatusCore(long offset, long maxLength)
    {
        long n = RunLength(offset, maxLength, out bool written);
        if (!written) return _base.GetStatus(offset, n).Deeper();
        var s = _overlay.GetStatus(offset, n);
        return s with { Flags = s.Flags | BlockStatusFlags.Allocated };
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (!disposing || !_owns) return;
        _overlay.Dispose();
        _base.Dispose();
    }
}
