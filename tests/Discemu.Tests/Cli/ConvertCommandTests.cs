using Discemu.Block;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Cli;

public sealed class ConvertCommandTests
{
    [Fact]
    public void RawToRawIsIdenticalAndSparse()
    {
        using var dir = new TempDir();
        string src = CliHarness.SparseRaw(dir, "src.raw", 8 << 20, (0, 4096), (3 << 20, 100_000));
        string dst = dir.File("dst.raw");
        var (code, stdout, stderr) = CliHarness.Run("convert", "-f", "raw", "-O", "raw", src, dst);
        Assert.Equal(0, code);
        Assert.Equal("", stdout + stderr);
        Assert.Equal(CliHarness.Sha256(src), CliHarness.Sha256(dst));
        using var dev = FileDevice.Open(dst, false);
        Assert.True(dev.GetStatus(1 << 20, 1 << 20).IsZero, "a hole of the source must stay a hole");
    }

    [Fact]
    public void ZeroDataBecomesHolesUnlessSparseDetectionIsOff()
    {
        using var dir = new TempDir();
        string src = dir.File("zeros.raw");
        File.WriteAllBytes(src, new byte[1 << 20]); // allocated zeros
        string sparse = dir.File("sparse.raw"), full = dir.File("full.raw");
        Assert.Equal(0, CliHarness.Run("convert", "-O", "raw", src, sparse).Code);
        Assert.Equal(0, CliHarness.Run("convert", "-S", "0", "-O", "raw", src, full).Code);
        using (var s = FileDevice.Open(sparse, false)) Assert.True(s.GetStatus(0, s.Length).IsZero);
        using (var f = FileDevice.Open(full, false)) Assert.True(f.GetStatus(0, f.Length).HasData);
        Assert.Equal(CliHarness.Sha256(src), CliHarness.Sha256(sparse));
        Assert.Equal(CliHarness.Sha256(src), CliHarness.Sha256(full));
    }

    [Fact]
    public void SeveralSourcesAreConcatenated()
    {
        using var dir = new TempDir();
        string a = CliHarness.SparseRaw(dir, "a.raw", 1 << 20, (5, 1000));
        string b = CliHarness.SparseRaw(dir, "b.raw", 512 << 10, (70_000, 3000));
        string dst = dir.File("ab.raw");
        Assert.Equal(0, CliHarness.Run("convert", "-O", "raw", a, b, dst).Code);
        var expected = File.ReadAllBytes(a).Concat(File.ReadAllBytes(b)).ToArray();
        Assert.Equal(expected, File.ReadAllBytes(dst));
    }

    [Fact]
    public void ExistingTargetWithDashNGetsZeroedWhereSourceIsZero()
    {
        using var dir = new TempDir();
        string src = CliHarness.SparseRaw(dir, "src.raw", 1 << 20, (4096, 4096));
        string dst = CliHarness.SparseRaw(dir, "dst.raw", 1 << 20, (0, 1 << 20));
        Assert.Equal(0, CliHarness.Run("convert", "-n", "-O", "raw", src, dst).Code);
        Assert.Equal(CliHarness.Sha256(src), CliHarness.Sha256(dst));
    }

    [Fact]
    public void MatchesQemuImgConvertOutput()
    {
        PeerTools.Require("qemu-img");
        using var dir = new TempDir();
        string src = CliHarness.SparseRaw(dir, "src.raw", 6 << 20, (8192, 70_000), (5 << 20, 4096));
        string ours = dir.File("ours.raw"), theirs = dir.File("theirs.raw");
        Assert.Equal(0, CliHarness.Run("convert", "-W", "-m", "4", "-O", "raw", src, ours).Code);
        PeerTools.RunOk("qemu-img", "convert", "-f", "raw", "-O", "raw", src, theirs);
        Assert.Equal(CliHarness.Sha256(theirs), CliHarness.Sha256(ours));
        Assert.Contains("Images are identical.", PeerTools.RunOk("qemu-img", "compare", "-f", "raw", "-F", "raw", theirs, ours));
    }

    [Theory]
    [InlineData("unsafe")]
    [InlineData("writeback")]
    [InlineData("none")]
    [InlineData("writethrough")]
    [InlineData("directsync")]
    public void CacheModesOfTheTargetAreAccepted(string mode)
    {
        using var dir = new TempDir();
        string src = CliHarness.SparseRaw(dir, "src.raw", 1 << 20, (8192, 5000));
        string dst = dir.File("dst.raw");
        Assert.Equal(0, CliHarness.Run("convert", "-t", mode, "-O", "raw", src, dst).Code);
        Assert.Equal(CliHarness.Sha256(src), CliHarness.Sha256(dst));
    }

    [Fact]
    public void UnknownCacheModeIsRejected()
    {
        using var dir = new TempDir();
        string src = CliHarness.SparseRaw(dir, "src.raw", 1 << 20);
        Assert.Contains("Invalid cache option: bogus", CliHarness.AssertOneLineError(CliHarness.Run("convert", "-t", "bogus", "-O", "raw", src, dir.File("x.raw"))));
        Assert.False(File.Exists(dir.File("x.raw")), "nothing is created when an option is invalid");
    }

    [Fact]
    public void ErrorsAreOneLine()
    {
        using var dir = new TempDir();
        string src = CliHarness.SparseRaw(dir, "src.raw", 1 << 20);
        CliHarness.AssertOneLineError(CliHarness.Run("convert", "-O", "raw", dir.File("missing.raw"), dir.File("x.raw")));
        Assert.Contains("Unknown format", CliHarness.AssertOneLineError(CliHarness.Run("convert", "-O", "nope", src, dir.File("x.raw"))));
        Assert.Contains("sparse", CliHarness.AssertOneLineError(CliHarness.Run("convert", "-S", "1000", "-O", "raw", src, dir.File("x.raw"))));
        Assert.Contains("Invalid parameter 'foo'", CliHarness.AssertOneLineError(CliHarness.Run("convert", "-o", "foo=bar", "-O", "raw", src, dir.File("y.raw"))));
        Assert.Contains("Compression not supported", CliHarness.AssertOneLineError(CliHarness.Run("convert", "-c", "-O", "raw", src, dir.File("z.raw"))));
        CliHarness.AssertOneLineError(CliHarness.Run("convert", "-O", "raw", src));
    }

    [Fact]
    public void Qcow2RoundTripAndCompressedMatchQemu()
    {
        using var dir = new TempDir();
        PeerTools.Require("qemu-img");
        string src = CliHarness.SparseRaw(dir, "src.raw", 4 << 20, (0, 65536), (2 << 20, 10_000));
        string q = dir.File("a.qcow2"), qc = dir.File("c.qcow2"), back = dir.File("back.raw");
        Assert.Equal(0, CliHarness.Run("convert", "-O", "qcow2", src, q).Code);
        Assert.Equal(0, CliHarness.Run("convert", "-c", "-O", "qcow2", src, qc).Code);
        PeerTools.RunOk("qemu-img", "check", q);
        PeerTools.RunOk("qemu-img", "check", qc);
        Assert.Contains("Images are identical.", PeerTools.RunOk("qemu-img", "compare", "-F", "qcow2", src, qc));
        Assert.Equal(0, CliHarness.Run("convert", "-f", "qcow2", "-O", "raw", q, back).Code);
        Assert.Equal(CliHarness.Sha256(src), CliHarness.Sha256(back));
    }

    [Fact]
    public void Qcow2WithBackingOnlyHoldsDifferences()
    {
        using var dir = new TempDir();
        PeerTools.Require("qemu-img");
        string baseFile = CliHarness.SparseRaw(dir, "base.raw", 4 << 20, (0, 1 << 20));
        string src = dir.File("src.raw");
        File.Copy(baseFile, src);
        using (var fs = new FileStream(src, FileMode.Open))
        {
            fs.Position = 2 << 20;
            fs.Write(new byte[] { 1, 2, 3 });
            fs.Position = 4096;
            fs.Write(new byte[8192]); // zeros over backing data must be written explicitly
        }
        string top = dir.File("top.qcow2");
        Assert.Equal(0, CliHarness.Run("convert", "-O", "qcow2", "-B", baseFile, "-F", "raw", src, top).Code);
        Assert.Contains("Images are identical.", PeerTools.RunOk("qemu-img", "compare", "-f", "raw", "-F", "qcow2", src, top));
        var map = System.Text.Json.Nodes.JsonNode.Parse(PeerTools.RunOk("qemu-img", "map", "--output=json", top))!.AsArray();
        long own = map.Where(e => (int)e!["depth"]! == 0).Sum(e => (long)e!["length"]!);
        Assert.InRange(own, 1, 2 * 65536); // only the two clusters that differ from the backing
    }
}
