using System.Text.Json;
using Discemu.Tests.Cli;
using Discemu.Tests.Infrastructure;
using static Discemu.Tests.Formats.Vmdk.VmdkTestKit;

namespace Discemu.Tests.Formats.Vmdk;

/// <summary>Every command works on VMDK images, with qemu-img's output where qemu-img has it.</summary>
public sealed class VmdkCliTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void InfoShowsWhatQemuImgShowsAndTheAdapter()
    {
        PeerTools.Require("qemu-img");
        string image = _dir.File("i.vmdk");
        QemuImg("create", "-f", "vmdk", "-o", "subformat=twoGbMaxExtentSparse,adapter_type=buslogic", image, "3G");
        var theirs = QemuInfo(image).GetProperty("format-specific").GetProperty("data");
        var (code, stdout, stderr) = CliHarness.Run("info", "--output", "json", image);
        Assert.True(code == 0, stderr);
        var ours = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(3L << 30, ours.GetProperty("virtual-size").GetInt64());
        Assert.Equal(65536, ours.GetProperty("cluster-size").GetInt32());
        var data = ours.GetProperty("format-specific").GetProperty("data");
        foreach (var key in new[] { "cid", "parent-cid" }) Assert.Equal(theirs.GetProperty(key).GetInt64(), data.GetProperty(key).GetInt64());
        Assert.Equal(theirs.GetProperty("create-type").GetString(), data.GetProperty("create-type").GetString());
        var e1 = theirs.GetProperty("extents").EnumerateArray().ToList();
        var e2 = data.GetProperty("extents").EnumerateArray().ToList();
        Assert.Equal(e1.Count, e2.Count);
        for (int i = 0; i < e1.Count; i++)
            foreach (var key in new[] { "virtual-size", "filename", "cluster-size", "format" })
                Assert.Equal(e1[i].GetProperty(key).ToString(), e2[i].GetProperty(key).ToString());
        Assert.Equal("buslogic", data.GetProperty("adapter-type").GetString());
        var human = CliHarness.Run("info", image).Out;
        Assert.Contains("create type: twoGbMaxExtentSparse", human);
        Assert.Contains("file format: vmdk", human);
    }

    [Fact]
    public void CreatePrintsQemuImgsFormattingLine()
    {
        PeerTools.Require("qemu-img");
        string[][] cases = [[], ["-o", "subformat=streamOptimized"], ["-o", "compat6=on,adapter_type=lsilogic"], ["-o", "zeroed_grain=on,hwversion=14"]];
        foreach (var extra in cases)
        {
            string ours = _dir.File("o.vmdk"), theirs = _dir.File("t.vmdk");
            var (code, stdout, stderr) = CliHarness.Run(["create", "-f", "vmdk", .. extra, ours, "10M"]);
            Assert.True(code == 0, stderr);
            string expected = QemuImg(["create", "-f", "vmdk", .. extra, theirs, "10M"]);
            Assert.Equal(expected.Replace(theirs, ours, StringComparison.Ordinal), stdout);
            AssertQemuCheckClean(ours);
        }
    }

    [Fact]
    public void ResizeSaysItIsNotSupported()
    {
        string image = _dir.File("r.vmdk");
        using (Create(image, 1 << 20)) { }
        var line = CliHarness.AssertOneLineError(CliHarness.Run("resize", image, "2M"));
        Assert.Contains("does not support resize", line);
    }

    [Fact]
    public void ConvertDashCIsRefusedBeforeAnythingIsCreated()
    {
        string src = MixedSource(_dir, "s.raw", 1 << 20, 1);
        var line = CliHarness.AssertOneLineError(CliHarness.Run("convert", "-c", "-O", "vmdk", "-o", "subformat=streamOptimized", src, _dir.File("c.vmdk")));
        Assert.Contains("Compression not supported", line);
        Assert.False(File.Exists(_dir.File("c.vmdk")));
    }

    [Theory]
    [InlineData("monolithicSparse")]
    [InlineData("twoGbMaxExtentSparse")]
    [InlineData("monolithicFlat")]
    [InlineData("streamOptimized")]
    public void MeasureMatchesWhatConvertWrites(string subformat)
    {
        // Data and holes only: measure counts allocated ranges (as qemu-img measure does), so explicit zeros would count too.
        string src = CliHarness.SparseRaw(_dir, "s.raw", 5L << 20, (0, 300_000), (1_000_000, 70_000), ((5L << 20) - 5000, 5000));
        var (code, stdout, stderr) = CliHarness.Run("measure", "--output", "json", "-O", "vmdk", "-o", $"subformat={subformat}", src);
        Assert.True(code == 0, stderr);
        var m = JsonDocument.Parse(stdout).RootElement;
        long required = m.GetProperty("required").GetInt64(), fully = m.GetProperty("fully-allocated").GetInt64();
        (code, _, stderr) = CliHarness.Run("convert", "-O", "vmdk", "-o", $"subformat={subformat}", src, _dir.File("m.vmdk"));
        Assert.True(code == 0, stderr);
        long written = Directory.GetFiles(_dir.PathName, "m*.vmdk").Sum(f => new FileInfo(f).Length);
        if (subformat == "streamOptimized") Assert.InRange(written, 1, required);
        else if (subformat == "monolithicSparse") Assert.Equal(required, written);
        else Assert.InRange(required - written, 0, 4095); // the descriptor file counts as a whole 4 KiB block
        Assert.True(fully >= required);
        var empty = JsonDocument.Parse(CliHarness.Run("measure", "--output", "json", "-O", "vmdk", "-o", $"subformat={subformat}", "--size", "5M").Out).RootElement;
        Assert.Equal(fully, empty.GetProperty("fully-allocated").GetInt64());
    }

    [Fact]
    public void MapCompareAndCheckWorkOnSplitImages()
    {
        string src = MixedSource(_dir, "s.raw", 6L << 20, 3);
        string image = _dir.File("m.vmdk");
        Assert.Equal(0, CliHarness.Run("convert", "-O", "vmdk", "-o", "subformat=twoGbMaxExtentSparse", src, image).Code);
        Assert.Equal(0, CliHarness.Run("compare", src, image).Code);
        Assert.Equal(0, CliHarness.Run("check", image).Code);
        var map = JsonDocument.Parse(CliHarness.Run("map", "--output", "json", image).Out).RootElement.EnumerateArray().ToList();
        Assert.Equal(6L << 20, map.Sum(e => e.GetProperty("length").GetInt64()));
        Assert.Contains(map, e => e.GetProperty("data").GetBoolean());
        Assert.Contains(map, e => !e.GetProperty("present").GetBoolean());
        using (var w = Open(image, writable: true)) w.Write(100, [1, 2, 3]);
        var diff = CliHarness.Run("compare", src, image);
        Assert.Equal(1, diff.Code);
        Assert.Contains("Content mismatch at offset 0!", diff.Out); // sector granularity, as qemu-img reports it
    }
}
