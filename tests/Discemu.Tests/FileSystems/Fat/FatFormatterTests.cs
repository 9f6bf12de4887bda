using Discemu.Block;
using Discemu.FileSystems.Fat;
using Discemu.Tests.Infrastructure;
using static Discemu.Tests.Cli.CliHarness;
using static Discemu.Tests.FileSystems.Fat.FatMkfsKit;
using static Discemu.Tests.FileSystems.Fat.FatTestKit;

namespace Discemu.Tests.FileSystems.Fat;

/// <summary><c>mkfs fat</c> output against fsck.fat -n, minfo/mdir/mcopy, mkfs.fat's choices, sfdisk and sgdisk.</summary>
public sealed partial class FatFormatterTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static void Ok(params string[] args)
    {
        var r = Run(args);
        Assert.True(r.Code == 0, $"discemu {string.Join(' ', args)} exited {r.Code}: {r.Err}");
    }

    public static TheoryData<string> Floppies() => [.. FatFloppyGeometry.All.Select(g => g.Name)];

    [Theory]
    [MemberData(nameof(Floppies))]
    public void EveryFloppyPassesFsckAndMinfoReadsItsGeometry(string name)
    {
        PeerTools.Require("fsck.fat");
        PeerTools.Require("minfo");
        var g = FatFloppyGeometry.Find(name);
        string img = _dir.File("floppy.img");
        Ok("mkfs", "fat", img, "--floppy", name, "--label", "Floppy 1", "--invariant", "-q");
        Assert.Equal(g.Length, new FileInfo(img).Length);
        AssertFsckClean(img);
        Assert.Equal(0, Check(img).ExitCode);
        var (code, info, err) = Mtools("minfo", "-i", img, "::");
        Assert.True(code == 0, err);
        Assert.Contains($"sectors per track: {g.SectorsPerTrack}\n", info);
        Assert.Contains($"heads: {g.Heads}\n", info);
        Assert.Contains($"media descriptor byte: 0x{g.Media:x2}\n", info);
        Assert.Contains($"cluster size: {g.SectorsPerCluster} sectors\n", info);
        Assert.Contains($"max available root directory slots: {g.RootEntries}\n", info);
        Assert.Contains($"sectors per fat: {g.FatSectors}\n", info);
        var boot = Boot(img);
        Assert.Equal(FatType.Fat12, boot.Type);
        Assert.Equal(g.TotalSectors, boot.TotalSectors16);
        Assert.Equal(0x00, boot.DriveNumber);
        var dir = Mtools("mdir", "-i", img, "::");
        Assert.Contains("Volume in drive : is FLOPPY 1", dir.Out);
    }

    /// <summary>The table's FAT sizes are the exact minimum the layout needs.</summary>
    [Fact]
    public void FloppyFatSizesAreTheMinimum()
    {
        foreach (var g in FatFloppyGeometry.All)
            Assert.Equal(g.FatSectors, FatFormatter.FatSectors(FatType.Fat12, g.TotalSectors, 1, g.RootEntries, g.SectorsPerCluster, 2, 512));
    }

    [Theory]
    [InlineData("2M", null, 12)]
    [InlineData("8M", null, 12)]
    [InlineData("16M", null, 16)]
    [InlineData("64M", null, 16)]
    [InlineData("600M", null, 32)]
    [InlineData("48M", "32", 32)]
    [InlineData("300M", "16", 16)]
    [InlineData("6M", "16", 16)]
    public void DiskImagesPassFsckAndMtoolsReadsThem(string size, string? fat, int expectedType)
    {
        PeerTools.Require("fsck.fat");
        PeerTools.Require("mcopy");
        string img = _dir.File("disk.img");
        var args = new List<string> { "mkfs", "fat", img, "--size", size, "--label", "DATA", "-q" };
        if (fat is not null) args.AddRange(["--fat", fat]);
        Ok([.. args]);
        Assert.Equal(expectedType, (int)Boot(img).Type);
        AssertFsckClean(img);
        Assert.Equal(0, Check(img).ExitCode);
        // mtools writes a file and a directory into it; both checkers still find nothing.
        string payload = _dir.File("payload.bin");
        File.WriteAllBytes(payload, [.. Enumerable.Range(0, 70000).Select(i => (byte)(i * 7))]);
        Assert.Equal(0, Mtools("mmd", "-i", img, "::Sub Dir").Code);
        Assert.Equal(0, Mtools("mcopy", "-i", img, payload, "::Sub Dir/A long file name.bin").Code);
        var listing = Mtools("mdir", "-i", img, "::Sub Dir");
        Assert.Contains("A long file name.bin", listing.Out);
        AssertFsckClean(img);
        var result = Check(img);
        Assert.True(result.ExitCode == 0, string.Join('\n', result.Messages));
    }

    /// <summary>Same FAT type, cluster size, media byte and root entries as mkfs.fat for the same size (reserved sectors and CHS geometry differ: see README.mkfs.md).</summary>
    [Theory]
    [InlineData(2)]
    [InlineData(8)]
    [InlineData(16)]
    [InlineData(64)]
    [InlineData(256)]
    [InlineData(1024)]
    public void BpbMatchesMkfsFatChoices(int mib)
    {
        PeerTools.Require("mkfs.fat");
        string theirs = CliHarness_SparseFile(_dir, "theirs.img", mib * (1L << 20));
        PeerTools.RunOk("mkfs.fat", theirs);
        string ours = _dir.File("ours.img");
        Ok("mkfs", "fat", ours, "--size", $"{mib}M", "-q");
        var a = Boot(ours);
        var b = Boot(theirs);
        Assert.Equal(b.Type, a.Type);
        Assert.Equal(b.SectorsPerCluster, a.SectorsPerCluster);
        Assert.Equal(b.Media, a.Media);
        Assert.Equal(b.RootEntryCount, a.RootEntryCount);
        Assert.Equal(b.NumberOfFats, a.NumberOfFats);
        Assert.Equal(b.BytesPerSector, a.BytesPerSector);
        // FAT sizes agree within the slack of the two formulas.
        Assert.InRange(a.FatSize, b.FatSize - 2, b.FatSize + 2);
    }

    private static string CliHarness_SparseFile(TempDir dir, string name, long size)
    {
        string path = dir.File(name);
        using var f = File.Create(path);
        f.SetLength(size);
        return path;
    }

    [Theory]
    [InlineData("1.44M", null)]
    [InlineData(null, "64M")]
    [InlineData(null, "600M")]
    public void InvariantModeIsByteIdentical(string? floppy, string? size)
    {
        string a = _dir.File("a.img"), b = _dir.File("b.img");
        foreach (var img in new[] { a, b })
        {
            var args = new List<string> { "mkfs", "fat", img, "--invariant", "--label", "SAME", "-q" };
            args.AddRange(floppy is not null ? ["--floppy", floppy] : ["--size", size!]);
            Ok([.. args]);
        }
        Assert.Equal(Sha256(a), Sha256(b));
        Assert.Equal(FatFormatOptions.InvariantVolumeId, Boot(a).VolumeId);
    }

    [Theory]
    [InlineData("gpt")]
    [InlineData("mbr")]
    public void InvariantPartitionedDisksAreByteIdentical(string scheme)
    {
        string a = _dir.File("a.img"), b = _dir.File("b.img");
        Ok("mkfs", "fat", a, "--size", "40M", "--partition", scheme, "--invariant", "-q");
        Ok("mkfs", "fat", b, "--size", "40M", "--partition", scheme, "--invariant", "-q");
        Assert.Equal(Sha256(a), Sha256(b));
    }

    [Fact]
    public void AGivenTimestampGivesTheSameBytesAndADifferentOneDoesNot()
    {
        byte[] Make(DateTimeOffset t)
        {
            using var dev = new MemoryDevice(1474560);
            FatFormatter.Format(dev, new FatFormatOptions { Floppy = FatFloppyGeometry.Find("1.44M"), Label = "X", Timestamp = t });
            var bytes = new byte[dev.Length];
            dev.Read(0, bytes);
            return bytes;
        }
        var t1 = DateTimeOffset.FromUnixTimeSeconds(1700000000);
        Assert.Equal(Make(t1), Make(t1));
        Assert.NotEqual(Make(t1), Make(t1.AddSeconds(10)));
    }
}
