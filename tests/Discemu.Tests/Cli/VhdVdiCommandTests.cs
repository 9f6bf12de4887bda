using System.Text.Json.Nodes;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Cli;

/// <summary>Commands where VHD and VDI behave in their own way: create's summary line and options, info's facts, aliases, resize, check.</summary>
public sealed class VhdVdiCommandTests
{
    [Theory]
    [InlineData("vpc", "")]
    [InlineData("vpc", "subformat=fixed")]
    [InlineData("vpc", "subformat=dynamic,force_size=on")]
    [InlineData("vdi", "")]
    [InlineData("vdi", "static=on")]
    public void CreatePrintsQemuImgsSummaryLine(string format, string options)
    {
        using var dir = new TempDir();
        PeerTools.Require("qemu-img");
        string file = dir.File("a.img");
        string[] args = options.Length > 0 ? ["create", "-f", format, "-o", options, file, "10M"] : ["create", "-f", format, file, "10M"];
        string expected = PeerTools.RunOk("qemu-img", args);
        File.Delete(file);
        var (code, stdout, _) = CliHarness.Run(args);
        Assert.Equal(0, code);
        Assert.Equal(expected, stdout);
    }

    [Fact]
    public void VhdIsAnAliasAndInfoShowsTheSizeRule()
    {
        using var dir = new TempDir();
        string file = dir.File("a.vhd");
        Assert.Equal(0, CliHarness.Run("create", "-q", "-f", "vhd", "-o", "subformat=fixed,azure=on", file, "10000000").Code);
        var (code, stdout, _) = CliHarness.Run("info", file);
        Assert.Equal(0, code);
        Assert.Contains("file format: vpc", stdout);
        Assert.Contains("virtual size: 10 MiB (10485760 bytes)", stdout); // rounded up to a whole MiB for Azure
        Assert.Contains("disk type: fixed", stdout);
        Assert.Contains("size from: footer", stdout);
        var json = JsonNode.Parse(CliHarness.Run("info", "--output", "json", file).Out)!;
        Assert.Equal("vpc", (string?)json["format-specific"]!["type"]);
        var data = json["format-specific"]!["data"]!;
        Assert.Equal("qem2", (string?)data["creator-app"]);
        Assert.Equal(10485760L, (long?)data["current-size"]);
        Assert.NotNull(data["geometry"]!["cylinders"]);
    }

    [Theory]
    [InlineData("subformat=fixed,azure=on,force_size=off", "force_size=off")]
    [InlineData("subformat=dynamic,azure=on", "subformat=fixed")]
    [InlineData("subformat=sparse", "subformat")]
    [InlineData("cluster_size=64k", "cluster_size")]
    [InlineData("preallocation=full", "fixed")]
    public void BadVhdOptionsAreRefused(string options, string mentioned)
    {
        using var dir = new TempDir();
        var line = CliHarness.AssertOneLineError(CliHarness.Run("create", "-f", "vpc", "-o", options, dir.File("a.vhd"), "10M"));
        Assert.Contains(mentioned, line);
    }

    [Fact]
    public void OptionsHelpListsTheFormatsOptions()
    {
        var (code, stdout, _) = CliHarness.Run("create", "-f", "vpc", "-o", "help");
        Assert.Equal(0, code);
        foreach (var o in new[] { "subformat", "force_size", "azure", "preallocation" }) Assert.Contains(o, stdout);
        (code, stdout, _) = CliHarness.Run("create", "-f", "vdi", "-o", "help");
        Assert.Equal(0, code);
        Assert.Contains("static", stdout);
    }

    [Fact]
    public void ResizeGrowsAVdiImageQemuImgCannotResize()
    {
        using var dir = new TempDir();
        PeerTools.Require("qemu-img");
        string file = dir.File("a.vdi");
        PeerTools.RunOk("qemu-img", "create", "-q", "-f", "vdi", file, "10M");
        PeerTools.RunOk("qemu-io", "-f", "vdi", "-c", "write -P 0x42 9M 1M", file);
        // qemu-img leaves one sector for the block map: 128 blocks of 1 MiB fit.
        Assert.Equal(0, CliHarness.Run("resize", file, "100M").Code);
        Assert.Contains("104857600", PeerTools.RunOk("qemu-img", "info", "--output", "json", file));
        PeerTools.RunOk("qemu-img", "check", file);
        PeerTools.RunOk("qemu-io", "-f", "vdi", "-c", "read -P 0x42 9M 1M", "-c", "read -P 0 10M 90M", file);
        var line = CliHarness.AssertOneLineError(CliHarness.Run("resize", file, "1G"));
        Assert.Contains("block map has room for", line);
        Assert.Equal(0, CliHarness.Run("resize", "--shrink", file, "9M").Code);
        Assert.Equal(0, CliHarness.Run("resize", file, "12M").Code);
        PeerTools.RunOk("qemu-io", "-f", "vdi", "-c", "read -P 0 9M 3M", file);
        PeerTools.RunOk("qemu-img", "check", file);
    }

    [Fact]
    public void CheckAndMapWorkOnVhds()
    {
        using var dir = new TempDir();
        string src = CliHarness.SparseRaw(dir, "src.raw", 6 << 20, (0, 10_000), (5 << 20, 4096));
        string file = dir.File("a.vhd");
        Assert.Equal(0, CliHarness.Run("convert", "-O", "vpc", src, file).Code);
        var (code, stdout, _) = CliHarness.Run("check", file);
        Assert.Equal(0, code);
        Assert.Contains("No errors were found on the image.", stdout);
        Assert.Contains("2/3 = 66.67% allocated", stdout);
        var map = JsonNode.Parse(CliHarness.Run("map", "--output", "json", file).Out)!.AsArray();
        var data = map.Where(e => (bool)e!["data"]!).Select(e => ((long)e!["start"]!, (long)e["length"]!)).ToList();
        Assert.Equal([(0L, 12288L), (5L << 20, 4096L)], data);
        Assert.Equal(0, CliHarness.Run("compare", src, file).Code);
    }
}
