using System.Buffers;
using System.IO.Compression;

namespace Discemu.Formats.Vmdk;

/// <summary>
/// Grain compression: VMware and qemu store a compressed grain as a zlib stream (RFC 1950: a deflate
/// stream with a two-byte header and an Adler-32 trailer). Raw deflate data (RFC 1951) is also read.
/// </summary>
internal static class VmdkCompression
{
    /// <summary>The most bytes a zlib stream of <paramref name="length"/> input bytes can take (zlib's compressBound, plus slack).</summary>
    public static int Bound(int length) => length + (length >> 12) + (length >> 14) + (length >> 25) + 13 + 64;

    /// <summary>
    /// Inflates <paramref name="source"/> (which may carry padding after the stream) into
    /// <paramref name="dest"/>; returns the bytes produced. More output than fits is an error.
    /// </summary>
    /// <exception cref="CorruptImageException">The data is not a valid stream or inflates to more than <paramref name="dest"/>.</exception>
    public static unsafe int Inflate(ReadOnlySpan<byte> source, Span<byte> dest, string? path)
    {
        bool zlib = source.Length >= 2 && (source[0] & 0x0F) == 8 && (source[0] >> 4) <= 7 && ((source[0] << 8) | source[1]) % 31 == 0;
        fixed (byte* p = source)
        {
            using var input = new UnmanagedMemoryStream(p, source.Length);
            using Stream inflater = zlib ? new ZLibStream(input, CompressionMode.Decompress) : new DeflateStream(input, CompressionMode.Decompress);
            int total = 0;
            try
            {
                while (total < dest.Length)
                {
                    int n = inflater.Read(dest[total..]);
                    if (n <= 0) return total;
                    total += n;
                }
                Span<byte> extra = stackalloc byte[1];
                if (inflater.Read(extra) > 0) throw new CorruptImageException("A compressed VMDK grain inflates to more than a grain.", path);
            }
            catch (InvalidDataException e) { throw new CorruptImageException("A compressed VMDK grain holds invalid deflate data.", path, e); }
            return total;
        }
    }

    /// <summary>Compresses <paramref name="source"/> into a zlib stream in <paramref name="dest"/> (at least <see cref="Bound"/> bytes); returns its length.</summary>
    public static int Deflate(ReadOnlySpan<byte> source, Span<byte> dest, CompressionLevel level = CompressionLevel.Optimal)
    {
        var output = new SpanStream(dest.Length);
        try
        {
            using (var deflater = new ZLibStream(output, level, leaveOpen: true))
                deflater.Write(source);
            output.Written.CopyTo(dest);
            return output.Written.Length;
        }
        finally { output.Release(); }
    }

    /// <summary>A write-only stream into a pooled buffer of a fixed capacity.</summary>
    private sealed class SpanStream(int capacity) : Stream
    {
        private byte[]? _buffer = ArrayPool<byte>.Shared.Rent(capacity);
        private int _length;

        public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _length);

        public void Release()
        {
            if (_buffer is not null) ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (buffer.Length > capacity - _length) throw new InvalidOperationException("Compressed grain exceeds its bound.");
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
}
