using System.Buffers.Binary;
using System.IO.Compression;
using Discemu.Util;

namespace Discemu.Formats.Ewf;

/// <summary>Decoding and encoding of single chunks: zlib streams and raw data with an Adler-32.</summary>
internal static class EwfChunkCodec
{
    /// <summary>
    /// Decodes a stored chunk into <paramref name="dest"/> (the chunk's media bytes; the last chunk may
    /// be short). <paramref name="chunkSize"/> is the set's full chunk size.
    /// </summary>
    /// <returns>Null when the chunk is intact, else what is wrong with it.</returns>
    public static string? TryDecode(ReadOnlySpan<byte> stored, EwfChunkKind kind, int chunkSize, Span<byte> dest)
    {
        switch (kind)
        {
            case EwfChunkKind.Compressed:
                return TryInflate(stored, chunkSize, dest);
            case EwfChunkKind.Pattern:
                if (stored.Length < 8) return "pattern-fill chunk without a pattern";
                for (int i = 0; i < dest.Length; i++) dest[i] = stored[i & 7];
                return null;
            case EwfChunkKind.RawUnchecked:
                if (stored.Length < dest.Length) return "chunk is shorter than its media data";
                stored[..dest.Length].CopyTo(dest);
                return null;
            default:
                int dataLength = stored.Length - 4;
                if (dataLength != dest.Length && dataLength != chunkSize)
                    return $"uncompressed chunk of {stored.Length} bytes does not hold {dest.Length} bytes and a checksum";
                uint expected = BinaryPrimitives.ReadUInt32LittleEndian(stored[dataLength..]);
                if (Adler32.Compute(stored[..dataLength]) != expected) return "chunk checksum mismatch";
                stored[..dest.Length].CopyTo(dest);
                return null;
        }
    }

    private static unsafe string? TryInflate(ReadOnlySpan<byte> stored, int chunkSize, Span<byte> dest)
    {
        int total = 0;
        fixed (byte* p = stored)
        {
            using var input = new UnmanagedMemoryStream(p, stored.Length);
            try
            {
                using var inflater = new ZLibStream(input, CompressionMode.Decompress);
                while (total < dest.Length)
                {
                    int n = inflater.Read(dest[total..]);
                    if (n <= 0) break;
                    total += n;
                }
                if (total < dest.Length) return $"compressed chunk holds {total} bytes instead of {dest.Length}";
                // Read to the end of the stream so zlib checks its Adler-32; a short last chunk may be padded up to the chunk size.
                Span<byte> rest = stackalloc byte[512];
                long extra = 0;
                int m;
                while ((m = inflater.Read(rest)) > 0)
                {
                    extra += m;
                    if (total + extra > chunkSize) return "compressed chunk holds more than a chunk";
                }
            }
            catch (InvalidDataException) { return "compressed chunk is not a valid zlib stream"; }
        }
        return null;
    }

    /// <summary>
    /// Compresses <paramref name="data"/> with zlib at <paramref name="level"/> (1–9) into <paramref name="output"/>.
    /// </summary>
    /// <returns>The compressed length, or -1 when it would not be smaller than <paramref name="limit"/>.</returns>
    public static int Compress(ReadOnlySpan<byte> data, int level, byte[] output, int limit)
    {
        var sink = new BoundedBufferStream(output, limit);
        using (var z = new ZLibStream(sink, new ZLibCompressionOptions { CompressionLevel = level }, leaveOpen: true))
            z.Write(data);
        return sink.Overflowed ? -1 : sink.Written.Length;
    }
}
