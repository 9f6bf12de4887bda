using System.Text.Json.Nodes;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Cli;

/// <summary>Commands that need a format with backing files, metadata checks and snapshots (qcow2).</summary>
public sealed class Qcow2CommandTests
{
    private static void Poke(string path, long offset, byte[] data)
    {
        using var fs = new FileStream(path, FileMode.Open);
        fs.Position = offset;
        fs.Write(data);
    }

    [Fact]
    public void CheckCleanImageMatchesQemuImg()
    {
        using var dir = new TempDir();
        PeerTools.Require("qemu-img");
        string src = CliHarness.SparseRaw(dir, "src.raw", 4 << 20, (0, 200_000));
        string q = dir.File("a.qcow2");
        PeerTools.RunOk("qemu-img", "convert", "-f", "raw", "-O", "qcow2", src, q);
        var ours = CliHarness.Run("check", q);
        Assert.Equal(0, ours.Code);
        Assert.Equal(PeerTools.RunOk("qemu-img", "check", q), ours.Out);
        var json = CliHarness.Run("check", "--output=json", q);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(PeerTools.RunOk("qemu-img", "check", "--output=json", q)), JsonNode.Parse(json.Out)), json.Out);
    }

    [Fact]
    public void CommitWritesIntoBackingAndEmptiesTop()
    {
        using var dir = new TempDir();
        PeerTools.Require("qemu-img");
        string baseFile = CliHarness.SparseRaw(dir, "base.raw", 4 << 20, (0, 65536));
        string top = dir.File("top.qcow2");
        PeerTools.RunOk("qemu-img", "create", "-f", "qcow2", "-b", baseFile, "-F", "raw", top);
        string expected = dir.File("expected.raw");
        File.Copy(baseFile, expected);
        Poke(expected, 1 << 20, [1, 2, 3, 4]);
        Assert.Equal(0, CliHarness.Run("convert", "-n", "-O", "qcow2", "-f", "raw", expected, top).Code);
        var (code, stdout, _) = CliHarness.Run("commit", top);
        Assert.Equal(0, code);
        Assert.Equal("Image committed.\n", stdout.ReplaceLineEndings("\n"));
        Assert.Equal(CliHarness.Sha256(expected), CliHarness.Sha256(baseFile));
        Assert.Contains("Images are identical.", PeerTools.RunOk("qemu-img", "compare", "-f", "raw", "-F", "qcow2", expected, top));
        PeerTools.RunOk("qemu-img", "check", top);
    }

    [Fact]
    public void SafeRebaseKeepsContentAndUnsafeOnlyChangesReference()
    {
        using var dir = new TempDir();
        PeerTools.Require("qemu-img");
        string oldBase = CliHarness.SparseRaw(dir, "old.raw", 4 << 20, (0, 100_000), (3 << 20, 4096));
        string newBase = CliHarness.SparseRaw(dir, "new.raw", 4 << 20, (50_000, 100_000));
        string top = dir.File("top.qcow2");
        PeerTools.RunOk("qemu-img", "create", "-f", "qcow2", "-b", oldBase, "-F", "raw", top);
        string before = dir.File("before.raw");
        PeerTools.RunOk("qemu-img", "convert", "-O", "raw", top, before);
        Assert.Equal(0, CliHarness.Run("rebase", "-b", newBase, "-F", "raw", top).Code);
        Assert.Contains(newBase, PeerTools.RunOk("qemu-img", "info", top));
        Assert.Contains("Images are identical.", PeerTools.RunOk("qemu-img", "compare", "-f", "raw", "-F", "qcow2", before, top));
        Assert.Equal(0, CliHarness.Run("rebase", "-b", "", top).Code);
        Assert.DoesNotContain("backing file", PeerTools.RunOk("qemu-img", "info", top));
        Assert.Contains("Images are identical.", PeerTools.RunOk("qemu-img", "compare", "-f", "raw", "-F", "qcow2", before, top));
        Assert.Equal(0, CliHarness.Run("rebase", "-u", "-b", "renamed.raw", "-F", "raw", top).Code);
        Assert.Contains("\"backing-filename\": \"renamed.raw\"", CliHarness.Run("info", "--output=json", top).Out);
    }

    [Fact]
    public void MapOfOverlayMatchesQemuImg()
    {
        using var dir = new TempDir();
        PeerTools.Require("qemu-img");
        string baseFile = CliHarness.SparseRaw(dir, "base.raw", 4 << 20, (1 << 20, 65536));
        string top = dir.File("top.qcow2");
        PeerTools.RunOk("qemu-img", "create", "-f", "qcow2", "-b", baseFile, "-F", "raw", top);
        PeerTools.RunOk("qemu-io", "-f", "qcow2", "-c", "write -P 0x11 0 128k", top);
        var ours = CliHarness.Run("map", top);
        Assert.Equal(0, ours.Code);
        Assert.Equal(PeerTools.RunOk("qemu-img", "map", top), ours.Out);
    }
}
