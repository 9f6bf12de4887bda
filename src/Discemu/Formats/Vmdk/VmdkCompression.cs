using System.Buffers;
using System.IO.Compression;
using Discemu.Util;

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

    /// <summary>
    /// Compresses <paramref name="source"/> into a zlib stream in <paramref name="dest"/> (at least
    /// <see cref="Bound"/> bytes); returns its length. Data that samples show to be incompressible
    /// (random or already compressed) is written as stored deflate blocks straight away: the same
    /// stream deflate itself falls back to for such data, at a small fraction of the cost.
    /// </summary>
    public static int Deflate(ReadOnlySpan<byte> source, Span<byte> dest, CompressionLevel level = CompressionLevel.Optimal)
    {
        if (LooksIncompressible(source)) return Store(source, dest);
        int n = Compress(source, dest, level);
        return n >= 0 ? n : Store(source, dest);
    }

    /// <summary>Bytes in each of the four samples <see cref="LooksIncompressible"/> compresses.</summary>
    private const int SampleBytes = 2048;

    /// <summary>
    /// True when four samples spread over the data (8 KiB in all) do not shrink below 97% with the
    /// fastest deflate level: a grain of random or already-compressed data. A grain with any
    /// compressible part (zeros, text, tables) almost always shows it in one of the samples.
    /// </summary>
    internal static bool LooksIncompressible(ReadOnlySpan<byte> source)
    {
        if (source.Length < 8 * SampleBytes) return false;
        var sample = ArrayPool<byte>.Shared.Rent(4 * SampleBytes);
        var output = ArrayPool<byte>.Shared.Rent(Bound(4 * SampleBytes));
        try
        {
            for (int i = 0; i < 4; i++) source.Slice(i * (source.Length / 4), SampleBytes).CopyTo(sample.AsSpan(i * SampleBytes));
            int n = Compress(sample.AsSpan(0, 4 * SampleBytes), output.AsSpan(0, Bound(4 * SampleBytes)), CompressionLevel.Fastest);
            return n < 0 || n >= 4 * SampleBytes * 97 / 100;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(sample);
            ArrayPool<byte>.Shared.Return(output);
        }
    }

    /// <summary>
    /// Writes <paramref name="source"/> as a zlib stream of stored deflate blocks (RFC 1950 header 78 01,
    /// RFC 1951 blocks of at most 65535 bytes, Adler-32 trailer); returns its length.
    /// </summary>
    internal static int Store(ReadOnlySpan<byte> source, Span<byte> dest)
    {
        dest[0] = 0x78;
        dest[1] = 0x01;
        int pos = 2, done = 0;
        do
        {
            int n = Math.Min(65535, source.Length - done);
            dest[pos] = (byte)(done + n == source.Length ? 1 : 0);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(dest[(pos + 1)..], (ushort)n);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(dest[(pos + 3)..], (ushort)~n);
            source.Slice(done, n).CopyTo(dest[(pos + 5)..]);
            pos += 5 + n;
            done += n;
        }
        while (done < source.Length);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(dest[pos..], Adler32(source));
        return pos + 4;
    }

    /// <summary>The Adler-32 checksum (RFC 1950) of <paramref name="data"/>.</summary>
    internal static uint Adler32(ReadOnlySpan<byte> data)
    {
        const uint Mod = 65521;
        const int Block = 5552; // the most bytes before the sums can overflow 32 bits
        uint a = 1, b = 0;
        while (!data.IsEmpty)
        {
            int n = Math.Min(Block, data.Length);
            foreach (byte x in data[..n])
            {
                a += x;
                b += a;
            }
            a %= Mod;
            b %= Mod;
            data = data[n..];
        }
        return (b << 16) | a;
    }

    /// <summary>Deflates into a zlib stream; returns its length, or -1 when it does not fit <paramref name="dest"/> (the fastest levels can expand random data).</summary>
    private static int Compress(ReadOnlySpan<byte> source, Span<byte> dest, CompressionLevel level)
    {
        var output = new BoundedBufferStream(dest.Length);
        try
        {
            using (var deflater = new ZLibStream(output, level, leaveOpen: true))
                deflater.Write(source);
            if (output.Overflowed) return -1;
            output.Written.CopyTo(dest);
            return output.Written.Length;
        }
        finally { output.Release(); }
    }
}
