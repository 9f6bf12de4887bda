using System.Security.Cryptography;
using Discemu.Formats;
using Discemu.Formats.Raw;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Formats.Raw;

public sealed class SplitRawTests
{
    private const string Ext2Sha256 = "a6c2f0e39afe6c6ab432ca5465349fcefe8dc944398e97b2d957d3f89dbb5d80";
    private const string BogusSha256 = "58f849de4df2655645ae92bb540067a60b1162b3eaf3c58d48a777f781f7f124";

    private static string Sha256Of(Discemu.Block.BlockDevice dev)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buf = new byte[1 << 20];
        for (long pos = 0; pos < dev.Length; pos += buf.Length)
        {
            int n = (int)Math.Min(buf.Length, dev.Length - pos);
            dev.Read(pos, buf.AsSpan(0, n));
            sha.AppendData(buf, 0, n);
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    [Fact]
    public void RealZeroBasedSplitSetOpensAsOneDisk()
    {
        string path = TestData.Real("ext2.splitraw.000");
        using var image = ImageOpener.Default.Open(path);
        var raw = Assert.IsType<RawImage>(image);
        Assert.Equal(2, raw.Pieces.Count);
        Assert.EndsWith(".001", raw.Pieces[1]);
        Assert.Equal(4194304, image.Length);
        Assert.False(image.CanWrite);
        Assert.Equal(Ext2Sha256, Sha256Of(image));
        Assert.Contains(image.FormatSpecific, kv => kv.Key == "pieces");
    }

    [Fact]
    public void BogusLoneFirstPieceIsAPlainRawFile()
    {
        string path = TestData.Real("bogus.001");
        var header = File.ReadAllBytes(path);
        var probed = FormatRegistry.Default.Probe(header.AsSpan(0, Math.Min(header.Length, FormatRegistry.Default.ProbeLength)), header.Length, path);
        Assert.Equal("raw", probed?.Format.Name);
        Assert.Equal("raw", ImageOpener.Default.Detect(path).Name);
        using var image = ImageOpener.Default.Open(path);
        var raw = Assert.IsType<RawImage>(image);
        Assert.Single(raw.Pieces);
        Assert.Equal(51200, image.Length);
        Assert.Equal(BogusSha256, Sha256Of(image));
    }

    private static void MakePieces(TempDir dir, string stem, int first, params int[] sizes)
    {
        for (int i = 0; i < sizes.Length; i++)
            File.WriteAllBytes(dir.File($"{stem}.{first + i:000}"), Enumerable.Repeat((byte)(i + 1), sizes[i]).ToArray());
    }

    [Fact]
    public void OneBasedSetIsJoinedInOrderFromAnyPiece()
    {
        using var dir = new TempDir();
        MakePieces(dir, "disk", 1, 1000, 513, 7);
        foreach (string name in new[] { "disk.001", "disk.002", "disk.003" })
        {
            using var image = ImageOpener.Default.Open(dir.File(name));
            var raw = Assert.IsType<RawImage>(image);
            Assert.Equal([dir.File("disk.001"), dir.File("disk.002"), dir.File("disk.003")], raw.Pieces);
            Assert.Equal(1520, image.Length);
            var all = new byte[1520];
            image.Read(0, all);
            Assert.True(all[..1000].All(b => b == 1) && all[1000..1513].All(b => b == 2) && all[1513..].All(b => b == 3));
        }
    }

    [Fact]
    public void SetStopsAtTheFirstGap()
    {
        using var dir = new TempDir();
        MakePieces(dir, "disk", 1, 100, 200);
        MakePieces(dir, "disk", 4, 400);
        using var image = ImageOpener.Default.Open(dir.File("disk.001"));
        Assert.Equal(300, image.Length);
        Assert.Equal(2, ((RawImage)image).Pieces.Count);
    }

    [Fact]
    public void WiderNumbersAndNonNumericExtensionsBehave()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("d.0001"), new byte[10]);
        File.WriteAllBytes(dir.File("d.0002"), new byte[20]);
        using (var image = ImageOpener.Default.Open(dir.File("d.0001"))) Assert.Equal(30, image.Length);
        // Two-digit extensions are not split sets; neither are letters.
        File.WriteAllBytes(dir.File("e.01"), new byte[10]);
        File.WriteAllBytes(dir.File("e.02"), new byte[20]);
        using (var image = ImageOpener.Default.Open(dir.File("e.01"))) Assert.Equal(10, image.Length);
        File.WriteAllBytes(dir.File("f.img"), new byte[10]);
        using (var image = ImageOpener.Default.Open(dir.File("f.img"))) Assert.Single(((RawImage)image).Pieces);
    }

    [Fact]
    public void SplitSetsCannotResizeButWrite()
    {
        using var dir = new TempDir();
        MakePieces(dir, "disk", 0, 512, 512);
        using var image = ImageOpener.Default.Open(dir.File("disk.000"), new ImageOpenOptions { Writable = true });
        Assert.True(image.CanWrite);
        Assert.Throws<NotSupportedException>(() => image.Resize(2048));
        image.Write(510, new byte[] { 9, 9, 9, 9 });
        image.Flush();
        image.Dispose();
        Assert.Equal([1, 1, 9, 9], File.ReadAllBytes(dir.File("disk.000"))[508..]);
        Assert.Equal([9, 9, 2, 2], File.ReadAllBytes(dir.File("disk.001"))[..4]);
    }
}
