using System.Text.Json.Nodes;
using Discemu.Tests.Cli;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Formats.Dmg;

/// <summary>The discemu commands on DMG images: info, convert (to raw and qcow2, checked by qemu-img), compare, map, check, and the read-only refusals.</summary>
public sealed class DmgCliTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private (byte[] Disk, string Path) Image(Func<int, ChunkCodec>? codec = null)
    {
        var disk = DmgTestData.Disk(9);
        string path = _dir.File("t.dmg");
        File.WriteAllBytes(path, new DmgBuilder { Codec = codec ?? (i => i % 2 == 0 ? ChunkCodec.Lzfse : ChunkCodec.Adc), Partitions = DmgTestData.TwoPartitions }.Build(disk));
        return (disk, path);
    }

    [Fact]
    public void InfoShowsPartitionsChunkTypesAndChecksums()
    {
        var (_, path) = Image();
        var (code, stdout, stderr) = CliHarness.Run("info", path);
        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        Assert.Contains("file format: dmg", stdout);
        Assert.Contains($"virtual size: 3 MiB ({DmgTestData.Length} bytes)", stdout);
        Assert.Contains("disk image (Apple_HFS : 1)", stdout);
        Assert.Contains("master checksum: crc32:", stdout);
        var (jcode, json, _) = CliHarness.Run("info", "--output=json", path);
        Assert.Equal(0, jcode);
        var data = JsonNode.Parse(json)!["format-specific"]!["data"]!;
        Assert.Equal("xml", (string)data["metadata"]!);
        Assert.Equal(2, data["partitions"]!.AsArray().Count);
        Assert.Equal(1, (int)data["chunk-types"]!["zero"]!);
        Assert.True((int)data["chunk-types"]!["lzfse"]! >= 2);
        Assert.True((int)data["chunk-types"]!["adc"]! >= 2);
    }

    [Fact]
    public void ConvertToRawAndQcow2AndCompare()
    {
        var (disk, path) = Image();
        string raw = _dir.File("out.raw"), qcow2 = _dir.File("out.qcow2");
        Assert.Equal(0, CliHarness.Run("convert", "-O", "raw", path, raw).Code);
        DmgRead.AssertSame(disk, File.ReadAllBytes(raw), "convert -O raw");
        Assert.Equal(0, CliHarness.Run("convert", "-O", "qcow2", "-c", path, qcow2).Code);
        PeerTools.RunOk("qemu-img", "check", qcow2);
        string back = _dir.File("back.raw");
        PeerTools.RunOk("qemu-img", "convert", "-f", "qcow2", "-O", "raw", qcow2, back);
        DmgRead.AssertSame(disk, File.ReadAllBytes(back), "qemu-img's reading of the qcow2");
        Assert.Equal(0, CliHarness.Run("compare", path, raw).Code);
        Assert.Equal(0, CliHarness.Run("compare", path, qcow2).Code);
        var bytes = File.ReadAllBytes(raw);
        bytes[1_500_000] ^= 1;
        File.WriteAllBytes(raw, bytes);
        var (code, stdout, _) = CliHarness.Run("compare", path, raw);
        Assert.Equal(1, code);
        Assert.Contains("offset 1499648", stdout); // the sector holding byte 1500000, as qemu-img reports it
    }

    [Fact]
    public void MapShowsZeroAndCompressedRanges()
    {
        var (_, path) = Image();
        var (code, stdout, _) = CliHarness.Run("map", "--output=json", path);
        Assert.Equal(0, code);
        var entries = JsonNode.Parse(stdout)!.AsArray();
        Assert.Contains(entries, e => (bool)e!["zero"]! && (bool)e["present"]! && !(bool)e["data"]!);
        Assert.Contains(entries, e => (bool)e!["compressed"]! && (bool)e["data"]!);
        Assert.Equal(DmgTestData.Length, entries.Sum(e => (long)e!["length"]!));
        var (rawCode, rawOut, _) = CliHarness.Run("map", "--output=json", Image(_ => ChunkCodec.Raw).Path);
        Assert.Equal(0, rawCode);
        Assert.Contains("\"offset\"", rawOut);
    }

    [Fact]
    public void CheckIsCleanThenReportsDamage()
    {
        var (_, path) = Image(_ => ChunkCodec.Raw);
        var (code, stdout, _) = CliHarness.Run("check", path);
        Assert.Equal(0, code);
        Assert.Contains("No errors were found on the image.", stdout);
        var bytes = File.ReadAllBytes(path);
        bytes[600] ^= 0x10;
        File.WriteAllBytes(path, bytes);
        var (bad, _, err) = CliHarness.Run("check", path);
        Assert.Equal(2, bad);
        Assert.Contains("CRC-32", err);
    }

    [Fact]
    public void CreatingOrWritingDmgIsARefusalNotACrash()
    {
        var (_, path) = Image(_ => ChunkCodec.Zlib);
        string target = _dir.File("new.dmg");
        var line = CliHarness.AssertOneLineError(CliHarness.Run("create", "-f", "dmg", target, "1M"));
        Assert.Contains("read-only", line);
        Assert.False(File.Exists(target));
        line = CliHarness.AssertOneLineError(CliHarness.Run("convert", "-O", "dmg", path, target));
        Assert.Contains("read-only", line);
        Assert.False(File.Exists(target));
        line = CliHarness.AssertOneLineError(CliHarness.Run("check", "-r", "all", path));
        Assert.Contains("read-only", line);
        line = CliHarness.AssertOneLineError(CliHarness.Run("resize", path, "+1M"));
        Assert.Contains("read-only", line);
    }
}
