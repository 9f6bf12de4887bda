using Discemu.Block;

namespace Discemu.FileSystems.Iso9660.Authoring;

/// <summary>
/// Sequential output to a fresh device through one bounded buffer: positions only grow, all-zero 64 KiB chunks
/// are not written (a new image reads zeros there), so sparse sources stay sparse.
/// </summary>
internal sealed class IsoSink(BlockDevice device, int bufferSize = 4 << 20)
{
    private const int ZeroChunk = 64 << 10;
    private readonly byte[] _buffer = new byte[bufferSize];
    private long _start;
    private int _fill;

    /// <summary>The next byte's offset.</summary>
    public long Position => _start + _fill;

    /// <summary>A span of <paramref name="length"/> bytes at the current position to fill (at most the buffer size); call <see cref="Advance"/> after.</summary>
    public Span<byte> GetSpan(int length)
    {
        if (_fill + length > _buffer.Length) Flush();
        return _buffer.AsSpan(_fill, length);
    }

    public void Advance(int length) => _fill += length;

    public void Write(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            if (_fill == _buffer.Length) Flush();
            int n = Math.Min(data.Length, _buffer.Length - _fill);
            data[..n].CopyTo(_buffer.AsSpan(_fill));
            _fill += n;
            data = data[n..];
        }
    }

    /// <summary>Moves forward to <paramref name="offset"/>; the bytes skipped read as zeros.</summary>
    public void SkipTo(long offset)
    {
        if (offset < Position) throw new InvalidOperationException($"The writer went back from {Position} to {offset}.");
        long gap = offset - Position;
        if (gap <= _buffer.Length - _fill)
        {
            _buffer.AsSpan(_fill, (int)gap).Clear();
            _fill += (int)gap;
            return;
        }
        Flush();
        _start = offset;
    }

    /// <summary>Pads with zeros to the next multiple of <paramref name="alignment"/>.</summary>
    public void Align(int alignment) => SkipTo((Position + alignment - 1) / alignment * alignment);

    public void Flush()
    {
        var data = _buffer.AsSpan(0, _fill);
        int pos = 0;
        while (pos < data.Length)
        {
            // Write runs of non-zero chunks in one call; skip zero chunks.
            int n = Math.Min(ZeroChunk, data.Length - pos);
            if (data.Slice(pos, n).IndexOfAnyExcept((byte)0) < 0) { pos += n; continue; }
            int end = pos + n;
            while (end < data.Length)
            {
                int m = Math.Min(ZeroChunk, data.Length - end);
                if (data.Slice(end, m).IndexOfAnyExcept((byte)0) < 0) break;
                end += m;
            }
            device.Write(_start + pos, data[pos..end]);
            pos = end;
        }
        _start += _fill;
        _fill = 0;
    }
}
