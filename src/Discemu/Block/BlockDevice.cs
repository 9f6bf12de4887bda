using System.Buffers;

namespace Discemu.Block;

/// <summary>
/// A virtual disk addressed in bytes: the one abstraction below every file system and above every
/// image format, partition, overlay or remote export.
/// </summary>
/// <remarks>
/// <para>All I/O is positional (an offset and a span); there is no cursor. Implementations must be
/// safe for concurrent calls from several threads.</para>
/// <para>Public methods validate arguments and then call the protected <c>*Core</c> methods, which
/// drivers override. Optional operations have fallbacks: without a native write-zeroes the base
/// writes a zero buffer; without native status every range reports as allocated data; discard is
/// advisory and a no-op by default.</para>
/// </remarks>
public abstract class BlockDevice : IDisposable
{
    /// <summary>Chunk used by fallbacks that write buffers (1 MiB).</summary>
    protected const int FallbackChunk = 1 << 20;

    private int _disposed;

    /// <summary>The virtual size in bytes.</summary>
    public abstract long Length { get; }

    /// <summary>What this device allows beyond reading.</summary>
    public abstract DeviceCapabilities Capabilities { get; }

    /// <summary>True when <see cref="Write"/> is allowed.</summary>
    public bool CanWrite => (Capabilities & DeviceCapabilities.Write) != 0;

    /// <summary>True once the device has been disposed.</summary>
    protected bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Reads exactly <c>buffer.Length</c> bytes at <paramref name="offset"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range is not inside the device.</exception>
    /// <exception cref="ObjectDisposedException">The device was disposed.</exception>
    /// <exception cref="CorruptImageException">The image's metadata for this range is invalid.</exception>
    public void Read(long offset, Span<byte> buffer)
    {
        CheckRange(offset, buffer.Length);
        if (buffer.Length != 0) ReadCore(offset, buffer);
    }

    /// <summary>Writes <paramref name="data"/> at <paramref name="offset"/>.</summary>
    /// <exception cref="NotSupportedException">The device is read-only.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The range is not inside the device.</exception>
    public void Write(long offset, ReadOnlySpan<byte> data)
    {
        CheckWritable();
        CheckRange(offset, data.Length);
        if (data.Length != 0) WriteCore(offset, data);
    }

    /// <summary>Makes every completed write durable.</summary>
    public void Flush()
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if (CanWrite) FlushCore();
    }

    /// <summary>Makes the range read as zeros. With <paramref name="mayUnmap"/> the device may deallocate it.</summary>
    /// <exception cref="NotSupportedException">The device is read-only.</exception>
    public void WriteZeroes(long offset, long length, bool mayUnmap = true)
    {
        CheckWritable();
        CheckRange(offset, length);
        if (length != 0) WriteZeroesCore(offset, length, mayUnmap);
    }

    /// <summary>Advises that the range is no longer needed. Contents afterwards are unspecified
    /// unless <see cref="GetStatus"/> reports them.</summary>
    /// <exception cref="NotSupportedException">The device is read-only.</exception>
    public void Discard(long offset, long length)
    {
        CheckWritable();
        CheckRange(offset, length);
        if (length != 0) DiscardCore(offset, length);
    }

    /// <summary>
    /// Describes the range that starts at <paramref name="offset"/>: the returned length is at least 1
    /// and at most <paramref name="maxLength"/> bytes, all of which share the returned flags.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The range is empty or not inside the device.</exception>
    public BlockStatus GetStatus(long offset, long maxLength)
    {
        CheckRange(offset, maxLength);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 1L);
        var status = GetStatusCore(offset, maxLength);
        if (status.Length <= 0 || status.Length > maxLength)
            throw new InvalidOperationException($"{GetType().Name} returned a status of {status.Length} bytes for a query of {maxLength}.");
        return status;
    }

    /// <summary>Changes the virtual size.</summary>
    /// <exception cref="NotSupportedException">The device cannot be resized.</exception>
    public void Resize(long newLength)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(newLength);
        if ((Capabilities & DeviceCapabilities.Resize) == 0) throw new NotSupportedException("The device cannot be resized.");
        ResizeCore(newLength);
    }

    /// <summary>Reads a range the public method has validated.</summary>
    protected abstract void ReadCore(long offset, Span<byte> buffer);

    /// <summary>Writes a validated range. Drivers that report <see cref="DeviceCapabilities.Write"/> override this.</summary>
    protected virtual void WriteCore(long offset, ReadOnlySpan<byte> data) => ThrowHelper.ReadOnly();

    /// <summary>Flushes; no-op by default.</summary>
    protected virtual void FlushCore() { }

    /// <summary>Fallback write-zeroes: writes a zero buffer over the range.</summary>
    protected virtual void WriteZeroesCore(long offset, long length, bool mayUnmap) => WriteZeroBuffer(offset, length);

    /// <summary>Discard; advisory no-op by default.</summary>
    protected virtual void DiscardCore(long offset, long length) { }

    /// <summary>Default status: everything is allocated data.</summary>
    protected virtual BlockStatus GetStatusCore(long offset, long maxLength)
        => new(maxLength, BlockStatusFlags.Data | BlockStatusFlags.Allocated);

    /// <summary>Resizes; only called when <see cref="DeviceCapabilities.Resize"/> is reported.</summary>
    protected virtual void ResizeCore(long newLength) => throw new NotSupportedException("The device cannot be resized.");

    /// <summary>Writes zeros over the range through <see cref="WriteCore"/>, a chunk at a time.</summary>
    protected void WriteZeroBuffer(long offset, long length)
    {
        int chunk = (int)Math.Min(length, FallbackChunk);
        byte[] zeros = ArrayPool<byte>.Shared.Rent(chunk);
        try
        {
            Array.Clear(zeros, 0, chunk);
            while (length > 0)
            {
                int n = (int)Math.Min(length, chunk);
                WriteCore(offset, zeros.AsSpan(0, n));
                offset += n;
                length -= n;
            }
        }
        finally { ArrayPool<byte>.Shared.Return(zeros); }
    }

    /// <summary>Throws unless [offset, offset+count) lies inside the device.</summary>
    protected void CheckRange(long offset, long count)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        long length = Length;
        if (offset > length || count > length - offset)
            throw new ArgumentOutOfRangeException(nameof(offset), $"Range {offset}+{count} is outside the device ({length} bytes).");
    }

    private void CheckWritable()
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if (!CanWrite) ThrowHelper.ReadOnly();
    }

    /// <summary>Releases the device and whatever it owns.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases resources; override to close files and owned inner devices.</summary>
    protected virtual void Dispose(bool disposing) { }
}
