using System.Collections.Concurrent;

namespace Discemu.Block;

/// <summary>
/// A RAM disk. Storage is allocated in 64 KiB chunks on first write, so an unwritten device of any
/// size costs nothing, and <see cref="BlockDevice.GetStatus"/> reports unwritten and discarded chunks as holes.
/// </summary>
public sealed class MemoryDevice : BlockDevice
{
    private const int ChunkShift = 16;
    private const int ChunkSize = 1 << ChunkShift;
    private readonly ConcurrentDictionary<long, byte[]> _chunks = new();
    private readonly Lock _writeLock = new();
    private long _length;

    /// <summary>Creates an empty (all-zero) device of <paramref name="length"/> bytes.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is negative.</exception>
    public MemoryDevice(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        _length = length;
    }

    /// <summary>Creates a device holding a copy of <paramref name="contents"/>.</summary>
    public MemoryDevice(ReadOnlySpan<byte> contents) : this(contents.Length)
    {
        if (!contents.IsEmpty) WriteCore(0, contents);
    }

    /// <inheritdoc/>
    public override long Length => Volatile.Read(ref _length);

    /// <inheritdoc/>
    public override DeviceCapabilities Capabilities =>
        DeviceCapabilities.Write | DeviceCapabilities.FastZero | DeviceCapabilities.Discard | DeviceCapabilities.Resize | DeviceCapabilities.Status;

    /// <summary>Bytes of storage currently allocated.</summary>
    public long AllocatedBytes => (long)_chunks.Count * ChunkSize;

    /// <inheritdoc/>
    protected override void ReadCore(long offset, Span<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            long index = offset >> ChunkShift;
            int within = (int)(offset & (ChunkSize - 1));
            int n = Math.Min(buffer.Length, ChunkSize - within);
            if (_chunks.TryGetValue(index, out var chunk))
            {
                lock (chunk) chunk.AsSpan(within, n).CopyTo(buffer);
            }
            else buffer[..n].Clear();
            buffer = buffer[n..];
            offset += n;
        }
    }

    /// <inheritdoc/>
    protected override void WriteCore(long offset, ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            long index = offset >> ChunkShift;
            int within = (int)(offset & (ChunkSize - 1));
            int n = Math.Min(data.Length, ChunkSize - within);
            var chunk = _chunks.GetOrAdd(index, static _ => new byte[ChunkSize]);
            lock (chunk) data[..n].CopyTo(chunk.AsSpan(within, n));
            data = data[n..];
            offset += n;
        }
    }

    /// <inheritdoc/>
    protected override void WriteZeroesCore(long offset, long length, bool mayUnmap)
    {
        long end = offset + length;
        while (offset < end)
        {
            long index = offset >> ChunkShift;
            int within = (int)(offset & (ChunkSize - 1));
            int n = (int)Math.Min(end - offset, ChunkSize - within);
            if (n == ChunkSize) _chunks.TryRemove(index, out _);
            else if (_chunks.TryGetValue(index, out var chunk)) lock (chunk) chunk.AsSpan(within, n).Clear();
            offset += n;
        }
    }

    /// <inheritdoc/>
    protected override void DiscardCore(long offset, long length) => WriteZeroesCore(offset, length, true);

    /// <inheritdoc/>
    protected override BlockStatus GetStatusCore(long offset, long maxLength)
    {
        long end = offset + maxLength;
        bool allocated = _chunks.ContainsKey(offset >> ChunkShift);
        long pos = offset;
        while (pos < end && _chunks.ContainsKey(pos >> ChunkShift) == allocated)
            pos = ((pos >> ChunkShift) + 1) << ChunkShift;
        long len = Math.Min(pos, end) - offset;
        return allocated
            ? new BlockStatus(len, BlockStatusFlags.Data | BlockStatusFlags.Allocated)
            : new BlockStatus(len, BlockStatusFlags.Zero);
    }

    /// <inheritdoc/>
    protected override void ResizeCore(long newLength)
    {
        lock (_writeLock)
        {
            long old = _length;
            if (newLength < old)
            {
                // Drop chunks past the end and clear the tail of the last one so growing again reads zeros.
                foreach (var key in _chunks.Keys)
                    if (key << ChunkShift >= newLength) _chunks.TryRemove(key, out _);
                int within = (int)(newLength & (ChunkSize - 1));
                if (within != 0 && _chunks.TryGetValue(newLength >> ChunkShift, out var chunk))
                    lock (chunk) chunk.AsSpan(within).Clear();
            }
            Volatile.Write(ref _length, newLength);
        }
    }
}
