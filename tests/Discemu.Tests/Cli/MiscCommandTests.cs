using System.Text.Json.Nodes;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Cli;

public sealed class MiscCommandTests
{
    [Fact]
    public void MeasureSizeMatchesQemuImg()
    {
        PeerTools.Require("qemu-img");
        foreach (var size in new[] { "10G", "1M", "12345" })
        {
            var ours = CliHarness.Run("measure", "--size", size, "-O", "raw");
            Assert.Equal(0, ours.Code);
            Assert.Equal(PeerTools.RunOk("qemu-img", "measure", "--size", size, "-O", "raw"), ours.Out);
            var json = CliHarness.Run("measure", "--output=json", "--size", size, "-O", "raw");
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse(PeerTools.RunOk("qemu-img", "measure", "--output=json", "--size", size, "-O", "raw")), JsonNode.Parse(json.Out)));
        }
    }

    [Fact]
    public void MeasureOfFileReportsFullyAllocatedSize()
    {
        using var dir = new TempDir();
        string path = CliHarness.SparseRaw(dir, "a.raw", 4 << 20, (0, 4096));
        var (code, stdout, _) = CliHarness.Run("measure", "--output", "json", "-O", "raw", path);
        Assert.Equal(0, code);
        Assert.Equal(4 << 20, (long)JsonNode.Parse(stdout)!["fully-allocated"]!);
        Assert.Contains("cannot be used together", CliHarness.AssertOneLineError(CliHarness.Run("measure", "--size", "1M", path)));
        Assert.Contains("Either --size", CliHarness.AssertOneLineError(CliHarness.Run("measure")));
    }

    [Fact]
    public void ResizeGrowsAndShrinksOnlyWithShrink()
    {
        using var dir = new TempDir();
        string path = CliHarness.SparseRaw(dir, "a.raw", 4 << 20);
        Assert.Equal((0, "Image resized.\n"), Normalize(CliHarness.Run("resize", path, "+1M")));
        Assert.Equal(5 << 20, new FileInfo(path).Length);
        Assert.Contains("--shrink", CliHarness.AssertOneLineError(CliHarness.Run("resize", path, "1M")));
        Assert.Equal(5 << 20, new FileInfo(path).Length);
        Assert.Contains("--shrink", CliHarness.AssertOneLineError(CliHarness.Run("resize", path, "--", "-512k")));
        var shrunk = CliHarness.Run("resize", "--shrink", path, "--", "-512k");
        Assert.Equal(0, shrunk.Code);
        Assert.Equal((5 << 20) - (512 << 10), new FileInfo(path).Length);
        Assert.Equal(0, CliHarness.Run("resize", "-f", "raw", "--preallocation=full", path, "6M").Code);
        Assert.Equal(6 << 20, new FileInfo(path).Length);
        Assert.Contains("preallocation", CliHarness.AssertOneLineError(CliHarness.Run("resize", "--preallocation=bogus", path, "7M")));
        Assert.Contains("Invalid size", CliHarness.AssertOneLineError(CliHarness.Run("resize", path, "12Q")));
    }

    private static (int, string) Normalize((int Code, string Out, string Err) r) => (r.Code, r.Out.ReplaceLineEndings("\n"));

    [Fact]
    public void DdCopiesLikeQemuImgDd()
    {
        PeerTools.Require("qemu-img");
        using var dir = new TempDir();
        string src = CliHarness.SparseRaw(dir, "src.raw", 4 << 20, (65536, 5000), (200_000, 300));
        foreach (var ops in new[] { new[] { "bs=64k", "count=3", "skip=1" }, ["bs=1M", "count=10"], ["bs=4096", "skip=16"] })
        {
            string ours = dir.File("ours.raw"), theirs = dir.File("theirs.raw");
            File.Delete(ours);
            File.Delete(theirs);
            Assert.Equal(0, CliHarness.Run(["dd", "-O", "raw", .. ops, $"if={src}", $"of={ours}"]).Code);
            PeerTools.RunOk("qemu-img", ["dd", "-f", "raw", "-O", "raw", .. ops, $"if={src}", $"of={theirs}"]);
            Assert.Equal(File.ReadAllBytes(theirs), File.ReadAllBytes(ours));
        }
    }

    [Fact]
    public void DdErrors()
    {
        using var dir = new TempDir();
        string src = CliHarness.SparseRaw(dir, "src.raw", 1 << 20);
        Assert.Contains("cannot skip", CliHarness.AssertOneLineError(CliHarness.Run("dd", "bs=64k", "skip=100", $"if={src}", $"of={dir.File("o")}")));
        Assert.Contains("both input and output", CliHarness.AssertOneLineError(CliHarness.Run("dd", $"if={src}")));
        Assert.Contains("unrecognized operand foo", CliHarness.AssertOneLineError(CliHarness.Run("dd", $"if={src}", $"of={dir.File("o")}", "foo=1")));
        Assert.Contains("Invalid bs", CliHarness.AssertOneLineError(CliHarness.Run("dd", "bs=0", $"if={src}", $"of={dir.File("o")}")));
    }

    [Fact]
    public void CheckOnRawIsUnsupportedWith63()
    {
        using var dir = new TempDir();
        string path = CliHarness.SparseRaw(dir, "a.raw", 4096);
        var line = CliHarness.AssertOneLineError(CliHarness.Run("check", path), expectedCode: 63);
        Assert.Equal("discemu: This image format does not support checks", line);
        Assert.Equal(63, CliHarness.Run("check", "--output=json", path).Code);
        Assert.Equal(1, CliHarness.Run("check", dir.File("missing")).Code);
    }

    [Fact]
    public void CommitAndRebaseNeedABackingCapableFormat()
    {
        using var dir = new TempDir();
        string path = CliHarness.SparseRaw(dir, "a.raw", 4096);
        Assert.Contains("does not have a backing file", CliHarness.AssertOneLineError(CliHarness.Run("commit", path)));
        Assert.Contains("backing file", CliHarness.AssertOneLineError(CliHarness.Run("rebase", "-u", "-b", "x.raw", path)));
        CliHarness.AssertOneLineError(CliHarness.Run("rebase", path)); // -b is required
    }

    [Fact]
    public void GlobalErrorsAndVersion()
    {
        Assert.Equal("discemu: Command not found: frob", CliHarness.AssertOneLineError(CliHarness.Run("frob")));
        Assert.Equal("discemu: Not enough arguments", CliHarness.AssertOneLineError(CliHarness.Run()));
        Assert.Equal("discemu: unrecognized option '--bogus'", CliHarness.AssertOneLineError(CliHarness.Run("info", "--bogus", "x.raw")));
        var version = CliHarness.Run("--version");
        Assert.Equal(0, version.Code);
        Assert.StartsWith("discemu version ", version.Out);
        var help = CliHarness.Run("--help");
        Assert.Equal(0, help.Code);
        Assert.Contains("convert", help.Out);
    }

    [Fact]
    public void DebugShowsStackTrace()
    {
        using var dir = new TempDir();
        var (code, _, stderr) = CliHarness.Run("info", "--debug", dir.File("missing.raw"));
        Assert.Equal(1, code);
        Assert.StartsWith("discemu: ", stderr);
        Assert.Contains("   at ", stderr);
    }
}
