using System.IO.Compression;
using SharpCompress.Compressors.BZip2;
using SharpCompress.Compressors.Xz;

namespace Discemu.Formats.Dmg;

/// <summary>
/// Decompresses one chunk into a buffer of exactly its sector count × 512 bytes: zlib with
/// System.IO.Compression, bzip2 and LZMA (an xz stream) with SharpCompress, ADC and LZFSE with Discemu's own
/// decoders. Too little or too much output, and any decoder failure, is a <see cref="CorruptImageException"/>.
/// </summary>
internal static class DmgCodec
{
    /// <summary>Decompresses <paramref name="input"/> (a chunk of type <paramref name="type"/>) into all of <paramref name="output"/>.</summary>
    /// <exception cref="CorruptImageException">The data does not decode to exactly <c>output.Length</c> bytes.</exception>
    public static void Decompress(DmgChunkType type, byte[] input, int inputLength, Span<byte> output, string? path)
    {
        try
        {
            switch (type)
            {
                case DmgChunkType.Zlib:
                    using (var z = new ZLibStream(new MemoryStream(input, 0, inputLength, writable: false), CompressionMode.Decompress))
                        ReadExactly(z, output, "zlib", path);
                    break;
                case DmgChunkType.Bzip2:
                    using (var b = BZip2Stream.Create(new MemoryStream(input, 0, inputLength, writable: false), SharpCompress.Compressors.CompressionMode.Decompress,
                        decompressConcatenated: false, leaveOpen: false, tolerateTruncatedStream: false))
                        ReadExactly(b, output, "bzip2", path);
                    break;
                case DmgChunkType.Lzma:
                    using (var x = new XZStream(new MemoryStream(input, 0, inputLength, writable: false)))
                        ReadExactly(x, output, "LZMA (xz)", path);
                    break;
                case DmgChunkType.Adc:
                    AdcDecoder.Decode(input.AsSpan(0, inputLength), output, path);
                    break;
                case DmgChunkType.Lzfse:
                    int n = LzfseDecoder.Decode(input.AsSpan(0, inputLength), output, path);
                    if (n != output.Length) throw new CorruptImageException($"LZFSE chunk decodes to {n} bytes instead of {output.Length}.", path);
                    break;
                default:
                    throw new InvalidOperationException($"Chunk type {type} is not compressed.");
            }
        }
        catch (Exception e) when (e is not (DiscemuException or OutOfMemoryException))
        {
            // The third-party decoders throw assorted exception types on damaged input.
            throw new CorruptImageException($"A {Name(type)} chunk is damaged: {e.Message}", path, e);
        }
    }

    /// <summary>True for the chunk types that store compressed data.</summary>
    public static bool IsCompressed(DmgChunkType type)
        => type is DmgChunkType.Adc or DmgChunkType.Zlib or DmgChunkType.Bzip2 or DmgChunkType.Lzfse or DmgChunkType.Lzma;

    /// <summary>The short name of a chunk type, as <c>info</c> shows it.</summary>
    public static string Name(DmgChunkType type) => type switch
    {
        DmgChunkType.Zero => "zero",
        DmgChunkType.Raw => "raw",
        DmgChunkType.Ignore => "ignore",
        DmgChunkType.Adc => "adc",
        DmgChunkType.Zlib => "zlib",
        DmgChunkType.Bzip2 => "bzip2",
        DmgChunkType.Lzfse => "lzfse",
        DmgChunkType.Lzma => "lzma",
        DmgChunkType.Comment => "comment",
        DmgChunkType.Terminator => "terminator",
        _ => $"0x{(uint)type:x8}",
    };

    private static void ReadExactly(Stream s, Span<byte> output, string codec, string? path)
    {
        int total = 0;
        while (total < output.Length)
        {
            int n = s.Read(output[total..]);
            if (n <= 0) throw new CorruptImageException($"A {codec} chunk decodes to {total} bytes instead of {output.Length}.", path);
            total += n;
        }
        Span<byte> extra = stackalloc byte[1];
        if (s.Read(extra) != 0) throw new CorruptImageException($"A {codec} chunk decodes to more than its {output.Length} bytes.", path);
    }
}
