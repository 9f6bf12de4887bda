using System.IO.Compression;
using Discemu.Formats.Vmdk;

namespace Discemu.Tests.Formats.Vmdk;

/// <summary>Grain compression: zlib streams any inflater reads, with incompressible grains stored as they are.</summary>
public sealed class VmdkCompressionTests
{
    private static byte[] InflateWithDotNet(ReadOnlySpan<byte> stream)
    {
        using var input = new MemoryStream(stream.ToArray());
        using var z = new ZLibStream(input, CompressionMode.Decompress);
        using var output = new MemoryStream();
        z.CopyTo(output);
        return output.ToArray();
    }

    [Fact]
    public void Adler32MatchesTheReferenceValues()
    {
        Assert.Equal(1u, VmdkCompression.Adler32([]));
        Assert.Equal(0x11E60398u, VmdkCompression.Adler32("Wikipedia"u8));
        var big = new byte[200_000];
        new Random(3).NextBytes(big);
        // Cross-check on data long enough to need the deferred modulo: zlib's own trailer is the Adler-32.
        var stream = new MemoryStream();
        using (var z = new ZLibStream(stream, CompressionLevel.Fastest, leaveOpen: true)) z.Write(big);
        var bytes = stream.ToArray();
        Assert.Equal(System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(bytes.Length - 4)), VmdkCompression.Adler32(big));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(65535)]
    [InlineData(65536)]
    [InlineData(200_001)]
    public void StoredStreamsInflateToTheirInput(int length)
    {
        var data = new byte[length];
        new Random(length).NextBytes(data);
        var dest = new byte[VmdkCompression.Bound(length)];
        int n = VmdkCompression.Store(data, dest);
        Assert.Equal(data, InflateWithDotNet(dest.AsSpan(0, n)));
        var back = new byte[length];
        Assert.Equal(length, VmdkCompression.Inflate(dest.AsSpan(0, n), back, null));
        Assert.Equal(data, back);
    }

    [Fact]
    public void RandomGrainsAreStoredAndEverythingElseIsCompressed()
    {
        var random = new byte[65536];
        new Random(1).NextBytes(random);
        Assert.True(VmdkCompression.LooksIncompressible(random));
        var dest = new byte[VmdkCompression.Bound(65536)];
        int n = VmdkCompression.Deflate(random, dest);
        Assert.Equal(2 + 2 * 5 + 65536 + 4, n);
        Assert.Equal(random, InflateWithDotNet(dest.AsSpan(0, n)));

        var half = (byte[])random.Clone();
        half.AsSpan(32768).Clear();
        Assert.False(VmdkCompression.LooksIncompressible(half));
        n = VmdkCompression.Deflate(half, dest);
        Assert.InRange(n, 1, 40_000);
        Assert.Equal(half, InflateWithDotNet(dest.AsSpan(0, n)));

        var text = System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("compressible text ", 4000)))[..65536];
        Assert.False(VmdkCompression.LooksIncompressible(text));
        n = VmdkCompression.Deflate(text, dest);
        Assert.InRange(n, 1, 2000);
        Assert.Equal(text, InflateWithDotNet(dest.AsSpan(0, n)));
    }

    [Fact]
    public void InflateRefusesGarbageAndOverlongStreams()
    {
        var dest = new byte[100];
        Assert.Throws<CorruptImageException>(() => VmdkCompression.Inflate([0x78, 0x9c, 0xff, 0xff, 0xff, 0x00], dest, null));
        var big = new byte[200];
        var stream = new byte[VmdkCompression.Bound(200)];
        int n = VmdkCompression.Store(big, stream);
        Assert.Throws<CorruptImageException>(() => VmdkCompression.Inflate(stream.AsSpan(0, n), dest, null));
    }
}
