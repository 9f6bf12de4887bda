using System.Security.Cryptography;
using Discemu.Formats.Ewf;

namespace Discemu.Tests.Formats.Ewf;

/// <summary>Media contents for EWF tests: random, zero, text-like and repetitive regions, so compression takes every path.</summary>
internal static class EwfTestMedia
{
    /// <summary>Mixed media of <paramref name="length"/> bytes (a multiple of 512), deterministic for a seed.</summary>
    public static byte[] Mixed(int length, int seed = 1)
    {
        var data = new byte[length];
        var rng = new Random(seed);
        const int region = 48 * 1024; // not a multiple of the chunk size: regions straddle chunks
        for (int start = 0, k = 0; start < length; start += region, k++)
        {
            var span = data.AsSpan(start, Math.Min(region, length - start));
            switch (k % 4)
            {
                case 0: rng.NextBytes(span); break;
                case 1: break; // zeros
                case 2:
                    for (int i = 0; i < span.Length; i++) span[i] = (byte)"the quick brown fox jumps over the lazy dog "[(i + k) % 44];
                    break;
                default:
                    for (int i = 0; i < span.Length; i++) span[i] = (byte)rng.Next(4);
                    break;
            }
        }
        return data;
    }

    /// <summary>Writes <paramref name="media"/> as a file.</summary>
    public static string WriteFile(string path, byte[] media)
    {
        File.WriteAllBytes(path, media);
        return path;
    }

    /// <summary>Reads a whole image in uneven pieces (exercising partial-chunk reads and the cache).</summary>
    public static byte[] ReadAll(Discemu.Block.BlockDevice image)
    {
        var all = new byte[image.Length];
        long pos = 0;
        int step = 1000;
        while (pos < all.Length)
        {
            int n = (int)Math.Min(step, all.Length - pos);
            image.Read(pos, all.AsSpan((int)pos, n));
            pos += n;
            step = step * 3 % 200_000 + 511;
        }
        return all;
    }

    public static string Hex(byte[] b) => Convert.ToHexStringLower(b);

    public static string Md5(byte[] b) => Hex(MD5.HashData(b));

    public static string Sha1(byte[] b) => Hex(SHA1.HashData(b));

    /// <summary>Writes an E01 set of <paramref name="media"/> with <see cref="EwfWriter"/>, appending in pieces of <paramref name="piece"/> bytes.</summary>
    public static EwfHashes WriteSet(string firstPath, byte[] media, EwfWriterOptions options, int piece = 70_000, IEnumerable<(long, long)>? errors = null)
    {
        using var writer = EwfWriter.Create(firstPath, options with { MediaSize = media.Length });
        for (int pos = 0; pos < media.Length; pos += piece) writer.Append(media.AsSpan(pos, Math.Min(piece, media.Length - pos)));
        foreach (var (o, l) in errors ?? []) writer.AddError(o, l);
        return writer.Complete();
    }
}
