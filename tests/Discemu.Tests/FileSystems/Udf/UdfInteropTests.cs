using System.Globalization;
using Discemu.FileSystems;
using Discemu.Tests.Cli;
using Discemu.Tests.FileSystems.Iso9660;
using Discemu.Tests.Infrastructure;
using static Discemu.Tests.FileSystems.Iso9660.IsoTestKit;

namespace Discemu.Tests.FileSystems.Udf;

/// <summary>
/// UDF volumes made by the peers read back: genisoimage -udf bridge discs (UDF 1.02 with files) against the
/// source tree, and mkudffs volumes of every revision and media type (physical, sparable and virtual
/// partitions; 512, 2048 and 4096-byte blocks; strategy 4 and 4096) against udfinfo's report.
/// </summary>
public sealed class UdfInteropTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A source tree genisoimage's UDF writer records faithfully (it writes no symbolic links or modes).</summary>
    private string Source()
    {
        string src = MakeSource(_dir, symlinks: false, depth: 4);
        return src;
    }

    [Fact]
    public void GenisoimageBridgeReadsAsTheSourceTree()
    {
        PeerTools.Require("genisoimage");
        string src = Source();
        string iso = _dir.File("bridge.iso");
        PeerTools.RunOk("genisoimage", "-quiet", "-udf", "-R", "-J", "-joliet-long", "-V", "BRIDGE", "-o", iso, src);
        var (image, fs) = Open(iso);
        using (image)
        using (fs)
        {
            Assert.Equal("udf", fs.Type.Name);
            Assert.Equal("1.02", fs.Info.Single(i => i.Key == "udf-revision").Value);
            Assert.Equal("BRIDGE", fs.Label);
            AssertSame(HostSnapshot(src, modes: false), FsSnapshot(fs, modes: false));
        }
        // The ISO 9660 side stays reachable by name, and shows the same tree through Rock Ridge.
        using var iso9660 = Discemu.Formats.ImageOpener.Default.Open(iso);
        using var isoFs = FileSystemRegistry.Default.Open(iso9660, new FileSystemOpenOptions { Type = "iso9660" });
        Assert.Equal("iso9660", isoFs.Type.Name);
        AssertSame(HostSnapshot(src, modes: false), FsSnapshot(isoFs, modes: false));
    }

    [Fact]
    public void CliPicksUdfOnABridgeAndIso9660WhenAsked()
    {
        PeerTools.Require("genisoimage");
        string src = _dir.File("small");
        Directory.CreateDirectory(Path.Join(src, "sub"));
        File.WriteAllText(Path.Join(src, "sub", "Fïlé.txt"), "content\n");
        string iso = _dir.File("bridge.iso");
        PeerTools.RunOk("genisoimage", "-quiet", "-udf", "-o", iso, src);
        var info = CliHarness.Run("fsinfo", iso);
        Assert.Equal(0, info.Code);
        Assert.Contains("file system: udf", info.Out, StringComparison.Ordinal);
        var ls = CliHarness.Run("ls", iso + ":/sub");
        Assert.True(ls.Code == 0, ls.Err);
        Assert.Equal("Fïlé.txt", ls.Out.Trim());
        string outDir = _dir.File("out");
        Directory.CreateDirectory(outDir);
        var get = CliHarness.Run("get", iso + ":/sub/Fïlé.txt", outDir);
        Assert.True(get.Code == 0, get.Err);
        Assert.Equal("content\n", File.ReadAllText(Path.Join(outDir, "Fïlé.txt")));
        var isoInfo = CliHarness.Run("fsinfo", "--type", "iso9660", iso);
        Assert.Equal(0, isoInfo.Code);
        Assert.Contains("file system: iso9660", isoInfo.Out, StringComparison.Ordinal);
        var isoList = CliHarness.Run("ls", "--type", "iso9660", iso);
        Assert.Equal(0, isoList.Code);
        Assert.Contains("SUB", isoList.Out, StringComparison.OrdinalIgnoreCase);
    }

    public static TheoryData<string, string, int, string> MkudffsVariants => new()
    {
        { "hd", "1.02", 2048, "physical" },
        { "hd", "2.01", 512, "physical" },
        { "hd", "2.01", 4096, "physical" },
        { "dvd", "1.50", 2048, "physical" },
        { "dvdram", "2.00", 2048, "physical" },
        { "dvdrw", "2.01", 2048, "sparable" },
        { "cdrw", "1.50", 2048, "sparable" },
        { "cdr", "1.50", 2048, "virtual" },
        { "cdr", "2.01", 2048, "virtual" },
        { "dvdr", "2.60", 2048, "virtual" },
        { "bdr", "2.50", 2048, "virtual" },
        { "bdr", "2.60", 2048, "virtual" },
    };

    [Theory]
    [MemberData(nameof(MkudffsVariants))]
    public void MkudffsVolumeAgreesWithUdfinfo(string media, string revision, int blockSize, string lastMap)
    {
        PeerTools.Require("mkudffs");
        PeerTools.Require("udfinfo");
        string path = _dir.File($"{media}-{revision}.udf");
        int blocks = (6 << 20) / blockSize;
        PeerTools.RunOk("mkudffs", "--media-type=" + media, "--udfrev=" + revision, "--blocksize=" + blockSize, "--label=Vol " + media,
            "--fsid=Set" + revision, "--uid=1234", "--gid=567", "--mode=0750", "--new-file", path, blocks.ToString(CultureInfo.InvariantCulture));
        var udfinfo = PeerTools.RunOk("udfinfo", "--blocksize=" + blockSize, path).Split('\n')
            .Where(l => l.Contains('=')).Select(l => l.Split('=', 2)).GroupBy(p => p[0]).ToDictionary(g => g.Key, g => g.First()[1]);

        var (image, fs) = Open(path);
        using (image)
        using (fs)
        {
            var info = fs.Info.ToDictionary(k => k.Key, k => k.Value);
            Assert.Equal(revision, info["udf-revision"]);
            Assert.Equal(udfinfo["udfrev"], info["min-read-revision"]);
            Assert.Equal(udfinfo["udfwriterev"], info["min-write-revision"]);
            Assert.Equal(udfinfo["integrity"], info["integrity"]);
            Assert.Equal(udfinfo["numdirs"], info["directories"]!.ToString());
            Assert.Equal(udfinfo["numfiles"], info["files"]!.ToString());
            Assert.Equal(udfinfo["lvid"], info["logical-volume-id"]);
            Assert.Equal(udfinfo["vid"], info["volume-id"]);
            Assert.Equal(udfinfo["fsid"], info["file-set-id"]);
            Assert.Equal(udfinfo["fullvsid"], info["volume-set-id"]);
            Assert.Equal(udfinfo["blocksize"], info["logical-block-size"]!.ToString());
            Assert.Equal(udfinfo["lvid"], fs.Label);
            var maps = ((List<object?>)info["partitions"]!).Cast<Dictionary<string, object?>>().ToList();
            Assert.Equal(lastMap, maps[^1]["type"]);
            if (udfinfo.TryGetValue("vatblock", out var vat))
                Assert.Equal(uint.Parse(vat, CultureInfo.InvariantCulture) - (uint)maps[^1]["start-sector"]!, maps[^1]["vat-block"]);
            // Only UDF 1.50's hidden "Non-Allocatable Space" list (UDF 2.60 2.3.12) may be there.
            Assert.All(fs.ListDirectory(fs.Root), e => Assert.Equal(FileAttributes.Hidden, e.Attributes));
            Assert.Equal(0x41E8u, fs.Root.Mode); // directory, 0750
            Assert.Equal(1234u, fs.Root.Uid);
            Assert.Equal(567u, fs.Root.Gid);
            Assert.NotNull(fs.Root.Modified);
        }
    }

    [Theory]
    [InlineData("hd", "4096")]
    [InlineData("worm", "4096")]
    [InlineData("hd", "4")]
    public void IcbStrategiesRead(string media, string strategy)
    {
        PeerTools.Require("mkudffs");
        string path = _dir.File("strategy.udf");
        PeerTools.RunOk("mkudffs", "--media-type=" + media, "--strategy=" + strategy, "--label=S" + strategy, "--new-file", path, "2000");
        var (image, fs) = Open(path);
        using (image)
        using (fs)
        {
            Assert.Equal("S" + strategy, fs.Label);
            Assert.Empty(fs.ListDirectory(fs.Root));
            Assert.True(fs.Root.IsDirectory);
        }
    }
}

/// <summary>UDF inside a container format: the file commands read through the image format like any other device.</summary>
public sealed class UdfContainerTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void UdfInsideQcow2ReadsLikeTheRawImage()
    {
        PeerTools.Require("qemu-img");
        string raw = _dir.File("hand.udf");
        File.WriteAllBytes(raw, UdfHandMadeTests.Sample(0x0250).Build());
        string qcow2 = _dir.File("hand.qcow2");
        PeerTools.RunOk("qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, qcow2);
        var rawTree = CliHarness.Run("tree", raw);
        var qcowTree = CliHarness.Run("tree", qcow2);
        Assert.True(qcowTree.Code == 0, qcowTree.Err);
        Assert.Equal(rawTree.Out, qcowTree.Out);
        Assert.Contains("split.bin", qcowTree.Out, StringComparison.Ordinal);
        string outDir = _dir.File("out");
        Directory.CreateDirectory(outDir);
        var get = CliHarness.Run("get", qcow2 + ":/dir", outDir);
        Assert.True(get.Code == 0, get.Err);
        Assert.Equal("inner\n", File.ReadAllText(Path.Join(outDir, "dir", "inner.txt")));
    }
}
