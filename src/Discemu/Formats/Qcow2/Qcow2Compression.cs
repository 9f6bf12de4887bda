using System.Buffers;
using System.IO.Compression;
using ZstdSharp;
using Discemu.Util;
using static Discemu.Formats.Qcow2.Qcow2Constants;

namespace Discemu.Formats.Qcow2;

/// <summary>Compression of whole clusters: raw deflate (zlib type) or one zstd frame (zstd type).</summary>
internal static class Qcow2Compression
{
    [ThreadStatic] private static Compressor? t_zstdCompressor;
    [ThreadStatic] private static Decompressor? t_zstdDecompressor;

    /// <summary>Name qemu uses for a compression type.</summary>
    public static string Name(byte type) => type == CompressionZstd ? "zstd" : "zlib";

    /// <summary>
    /// Decompresses <paramref name="source"/> (which may carry trailing bytes after the stream) into
    /// exactly <paramref name="dest"/>.Length bytes.
    /// </summary>
    /// <exception cref="CorruptImageException">The data is not a valid stream or is too short.</exception>
    public static void Decompress(byte type, ReadOnlySpan<byte> source, Span<byte> dest, string? path)
    {
        int produced = type == CompressionZstd ? DecompressZstd(source, dest, path) : DecompressDeflate(source, dest, path);
        if (produced != dest.Length)
            throw new CorruptImageException($"Compressed cluster decompressed to {produced} bytes instead of {dest.Length}.", path);
    }

    private static unsafe int DecompressDeflate(ReadOnlySpan<byte> source, Span<byte> dest, string? path)
    {
        fixed (byte* p = source)
        {
            using var input = new UnmanagedMemoryStream(p, source.Length);
            using var inflater = new DeflateStream(input, CompressionMode.Decompress);
            int total = 0;
            try
            {
                while (total < dest.Length)
                {
                    int n = inflater.Read(dest[total..]);
                    if (n <= 0) break;
                    total += n;
                }
            }
            catch (InvalidDataException e) { throw new CorruptImageException("Invalid deflate data in a compressed cluster.", path, e); }
            return total;
        }
    }

    private static int DecompressZstd(ReadOnlySpan<byte> source, Span<byte> dest, string? path)
    {
        var d = t_zstdDecompressor ??= new Decompressor();
        d.ResetStream();
        int consumed = 0, written = 0;
        try
        {
            while (true)
            {
                var status = d.UnwrapStream(source[consumed..], dest[written..], out int c, out int w);
                consumed += c;
                written += w;
                if (status == OperationStatus.Done || written == dest.Length) return written;
                if (status == OperationStatus.InvalidData) throw new CorruptImageException("Invalid zstd data in a compressed cluster.", path);
                if (c == 0 && w == 0) return written;
            }
        }
        catch (ZstdException e) { throw new CorruptImageException("Invalid zstd data in a compressed cluster.", path, e); }
    }

    /// <summary>
    /// Compresses <paramref name="source"/> into <paramref name="dest"/>; returns the compressed length,
    /// or -1 when the result would not be smaller than <paramref name="dest"/>.
    /// </summary>
    public static int Compress(byte type, ReadOnlySpan<byte> source, Span<byte> dest)
        => type == CompressionZstd ? CompressZstd(source, dest) : CompressDeflate(source, dest);

    private static int CompressZstd(ReadOnlySpan<byte> source, Span<byte> dest)
    {
        var c = t_zstdCompressor ??= new Compressor(Compressor.DefaultCompressionLevel);
        return c.TryWrap(source, dest, out int written) ? written : -1;
    }

    private static int CompressDeflate(ReadOnlySpan<byte> source, Span<byte> dest)
    {
        var output = new BoundedBufferStream(dest.Length);
        try
        {
            using (var deflater = new DeflateStream(output, CompressionLevel.Optimal, leaveOpen: true))
                deflater.Write(source);
            if (output.Overflowed) return -1;
            output.Written.CopyTo(dest);
            return output.Written.Length;
        }
        finally { output.Release(); }
    }
}
