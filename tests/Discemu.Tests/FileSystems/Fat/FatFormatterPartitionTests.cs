using System.Text.RegularExpressions;
using Discemu.Formats;
using Discemu.FileSystems.Fat;
using Discemu.Tests.Infrastructure;
using static Discemu.Tests.Cli.CliHarness;
using static Discemu.Tests.FileSystems.Fat.FatMkfsKit;
using static Discemu.Tests.FileSystems.Fat.FatTestKit;

namespace Discemu.Tests.FileSystems.Fat;

/// <summary><c>mkfs fat --partition</c>: sfdisk --dump and sgdisk -v read the table as written; the partition passes fsck.fat.</summary>
public sealed partial class FatFormatterTests
{
    [Theory]
    [InlineData("mbr", "16M", null, "4")]
    [InlineData("mbr", "64M", null, "6")]
    [InlineData("mbr", "4M", null, "1")]
    [InlineData("mbr", "48M", "32", "c")]
    [InlineData("gpt", "64M", null, "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7")]
    [InlineData("gpt", "48M", "32", "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7")]
    public void PartitionTablesReadTheSameInSfdiskAndThePartitionPassesFsck(string scheme, string size, string? fat, string sfdiskType)
    {
        PeerTools.Require("sfdisk");
        PeerTools.Require("fsck.fat");
        string img = _dir.File("part.img");
        var args = new List<string> { "mkfs", "fat", img, "--size", size, "--partition", scheme, "--label", "USB", "-q" };
        if (fat is not null) args.AddRange(["--fat", fat]);
        Ok([.. args]);
        string dump = PeerTools.RunOk("sfdisk", "--dump", img);
        Assert.Contains($"label: {(scheme == "gpt" ? "gpt" : "dos")}", dump);
        var m = Regex.Match(dump, @"part\.img1 : start=\s*(\d+), size=\s*(\d+), type=([0-9A-Fa-f-]+)");
        Assert.True(m.Success, dump);
        long start = long.Parse(m.Groups[1].Value), length = long.Parse(m.Groups[2].Value);
        Assert.Equal(2048, start);
        Assert.Equal(sfdiskType, m.Groups[3].Value);
        // Our table reader agrees with sfdisk.
        using (var image = ImageOpener.Default.Open(img))
        {
            var table = Discemu.Partitions.PartitionTableRegistry.Default.Open(image);
            var p = Assert.Single(table.Partitions);
            Assert.Equal(start * 512, p.Start);
            Assert.Equal(length * 512, p.Length);
        }
        if (scheme == "gpt")
        {
            PeerTools.Require("sgdisk");
            string verify = PeerTools.RunOk("sgdisk", "-v", img);
            Assert.Contains("No problems found", verify);
        }
        string part = Extract(_dir, img, start * 512, length * 512, "p1.img");
        AssertFsckClean(part);
        Assert.Equal((uint)start, Boot(part).HiddenSectors);
        Assert.Equal(0, Check(img, start * 512, length * 512).ExitCode);
        // check on the disk checks the table and the FAT partition; check IMAGE:1 the partition alone.
        var whole = Run("check", img);
        Assert.True(whole.Code == 0, whole.Out + whole.Err);
        var one = Run("check", img + ":1");
        Assert.True(one.Code == 0, one.Out + one.Err);
        Assert.Contains("No errors were found", one.Out);
    }

    [Fact]
    public void MakesTheImageInAnotherFormat()
    {
        string img = _dir.File("fat.qcow2");
        Ok("mkfs", "fat", img, "--size", "32M", "-O", "qcow2", "--label", "Q", "-q");
        using var image = ImageOpener.Default.Open(img);
        Assert.Equal("qcow2", image.Format.Name);
        var result = FatChecker.Check(image);
        Assert.True(result.ExitCode == 0, string.Join('\n', result.Messages));
        Assert.Equal("Q", new FatVolumeProbe(image).Label);
    }

    [Fact]
    public void FormatsAnExistingImageInPlace()
    {
        string img = _dir.File("exist.img");
        Ok("create", "-q", img, "20M");
        Ok("mkfs", "fat", img, "-q");
        Assert.Equal(FatType.Fat16, Boot(img).Type);
        Assert.Equal(0, Check(img).ExitCode);
    }

    [Theory]
    [InlineData("--floppy", "1.44M", "--partition", "mbr")]
    [InlineData("--floppy", "999K")]
    [InlineData("--size", "64M", "--fat", "12", "--cluster", "16K")]
    [InlineData("--size", "1M", "--fat", "32")]
    [InlineData("--size", "16M", "--cluster", "3000")]
    [InlineData("--size", "16M", "--label", "WAY TOO LONG LABEL")]
    [InlineData("--size", "16M", "--label", "BAD*NAME")]
    public void BadOptionsAreOneLineErrors(params string[] options)
    {
        string img = _dir.File("bad.img");
        var r = Run(["mkfs", "fat", img, .. options]);
        AssertOneLineError(r);
    }

    [Fact]
    public void NoSizeAndNoImageIsAnError()
    {
        var r = Run("mkfs", "fat", _dir.File("missing.img"));
        Assert.Contains("size is needed", AssertOneLineError(r));
    }

    /// <summary>Reads the label from the boot sector of a device.</summary>
    private sealed class FatVolumeProbe(Discemu.Block.BlockDevice device)
    {
        public string? Label
        {
            get
            {
                var s = new byte[512];
                device.Read(0, s);
                return FatBootSector.TryRead(s, out var b, out _) ? b.LabelText : null;
            }
        }
    }
}
