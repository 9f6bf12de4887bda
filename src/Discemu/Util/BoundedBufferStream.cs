using System.Buffers;

namespace Discemu.Util;

/// <summary>
/// A write-only stream into a fixed buffer (a given array, or one rented from the pool) that notes, and ignores,
/// writes past its limit: compressors write into it and the caller keeps the result only when it fit.
/// </summary>
internal sealed class BoundedBufferStream : Stream
{
    private byte[]? _buffer;
    private readonly int _limit;
    private readonly bool _rented;
    private int _length;

    /// <summary>Writes into <paramref name="buffer"/>, at most <paramref name="limit"/> bytes.</summary>
    public BoundedBufferStream(byte[] buffer, int limit)
    {
        _buffer = buffer;
        _limit = Math.Min(limit, buffer.Length);
    }

    /// <summary>Writes into a pooled buffer of <paramref name="capacity"/> bytes; call <see cref="Release"/> when done.</summary>
    public BoundedBufferStream(int capacity)
    {
        _buffer = ArrayPool<byte>.Shared.Rent(capacity);
        _limit = capacity;
        _rented = true;
    }

    /// <summary>The bytes written so far.</summary>
    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _length);

    /// <summary>True once a write did not fit (it and every later write were dropped).</summary>
    public bool Overflowed { get; private set; }

    /// <summary>Returns a pooled buffer (no-op for a given array).</summary>
    public void Release()
    {
        if (_rented && _buffer is not null) ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = null;
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (Overflowed) return;
        if (buffer.Length > _limit - _length) { Overflowed = true; return; }
        buffer.CopyTo(_buffer.AsSpan(_length));
        _length += buffer.Length;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => _length;
    public override long Position { get => _length; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
