using System.Text.Json.Nodes;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Cli;

public sealed class InfoCommandTests
{
    [Fact]
    public void HumanOutputShowsSizes()
    {
        using var dir = new TempDir();
        string path = CliHarness.SparseRaw(dir, "a.raw", 4 << 20, (65536, 4096));
        var (code, stdout, stderr) = CliHarness.Run("info", path);
        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        var lines = stdout.Split('\n');
        Assert.Equal($"image: {path}", lines[0]);
        Assert.Equal("file format: raw", lines[1]);
        Assert.Equal("virtual size: 4 MiB (4194304 bytes)", lines[2]);
        Assert.StartsWith("disk size: ", lines[3]);
    }

    [Fact]
    public void JsonMatchesQemuImg()
    {
        PeerTools.Require("qemu-img");
        using var dir = new TempDir();
        string path = CliHarness.SparseRaw(dir, "a.raw", 3 << 20, (0, 8192), (1 << 20, 4096));
        var (code, stdout, _) = CliHarness.Run("info", "--output", "json", path);
        Assert.Equal(0, code);
        string peer = PeerTools.RunOk("qemu-img", "info", "--output=json", "-f", "raw", path);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(peer), JsonNode.Parse(stdout)), $"discemu:\n{stdout}\nqemu-img:\n{peer}");
    }

    [Fact]
    public void BackingChainJsonIsAnArray()
    {
        using var dir = new TempDir();
        string path = CliHarness.SparseRaw(dir, "a.raw", 1 << 20);
        var (code, stdout, _) = CliHarness.Run("info", "--output=json", "--backing-chain", path);
        Assert.Equal(0, code);
        var array = Assert.IsType<JsonArray>(JsonNode.Parse(stdout));
        Assert.Single(array);
        Assert.Equal(1 << 20, (long)array[0]!["virtual-size"]!);
        Assert.Equal("raw", (string)array[0]!["format"]!);
    }

    [Fact]
    public void MissingFileIsOneLineError()
    {
        using var dir = new TempDir();
        var line = CliHarness.AssertOneLineError(CliHarness.Run("info", dir.File("nope.img")));
        Assert.Contains("nope.img", line);
    }

    [Fact]
    public void UnknownFormatIsOneLineError()
    {
        using var dir = new TempDir();
        string path = CliHarness.SparseRaw(dir, "a.raw", 4096);
        var line = CliHarness.AssertOneLineError(CliHarness.Run("info", "-f", "vhdx-nope", path));
        Assert.Contains("Unknown format 'vhdx-nope'", line);
    }

    [Fact]
    public void Qcow2InfoShowsClusterSizeAndBacking()
    {
        using var dir = new TempDir();
        string baseFile = CliHarness.SparseRaw(dir, "base.raw", 2 << 20);
        string top = dir.File("top.qcow2");
        Assert.Equal(0, CliHarness.Run("create", "-f", "qcow2", "-b", baseFile, "-F", "raw", top).Code);
        var (code, stdout, _) = CliHarness.Run("info", "--output=json", top);
        Assert.Equal(0, code);
        var json = JsonNode.Parse(stdout)!;
        Assert.Equal("qcow2", (string)json["format"]!);
        Assert.Equal(2 << 20, (long)json["virtual-size"]!);
        Assert.Equal(65536, (int)json["cluster-size"]!);
        Assert.Equal(baseFile, (string)json["backing-filename"]!);
        Assert.Equal("raw", (string)json["backing-filename-format"]!);
        var human = CliHarness.Run("info", "--backing-chain", top).Out;
        Assert.Contains("cluster_size: 65536", human);
        Assert.Contains($"\n\nimage: {baseFile}\n", human);
    }
}
