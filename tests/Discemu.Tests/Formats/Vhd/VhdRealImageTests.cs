using System.Buffers.Binary;
using System.Security.Cryptography;
using Discemu.Formats;
using Discemu.Formats.Vhd;
using Discemu.Tests.Infrastructure;
using static Discemu.Tests.Formats.Vhd.DiskTestKit;

namespace Discemu.Tests.Formats.Vhd;

/// <summary>The VHDs made by other tools in ../shared/testdata/real behave as its README says.</summary>
public sealed class VhdRealImageTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Ext2VhdFromQemuIsSizedByItsGeometryAndHasTheListedContent()
    {
        using var vhd = ImageOpener.Default.Open(TestData.Real("ext2.vhd"));
        Assert.Equal("vpc", vhd.Format.Name);
        Assert.Equal(4212736, vhd.Length);
        Assert.Equal("qemu", VhdInteropTests.Specific(vhd, "creator-app"));
        Assert.Equal("chs", VhdInteropTests.Specific(vhd, "size-from"));
        Assert.Equal("870be7ae16c1fa8faab05c6eb9205dc9a7ae35c5f552c5cf8a267c0bc6a5cb99", Convert.ToHexStringLower(SHA256.HashData(ReadAll(vhd))));
        Assert.Equal(0, ((ICheckableImage)vhd).Check(CheckRepair.None).ExitCode);
    }

    [Fact]
    public void Ext2VhdMatchesQemuImg()
    {
        PeerTools.Require("qemu-img");
        string path = TestData.Real("ext2.vhd");
        using var vhd = ImageOpener.Default.Open(path);
        Assert.Equal(QemuVirtualSize(path, "vpc"), vhd.Length);
        AssertSameBytes(QemuRaw(_dir, path, "vpc"), ReadAll(vhd), "ext2.vhd");
    }

    [Theory]
    [InlineData("image.vhd")]
    [InlineData("image-differential.vhd")]
    public void WrongFooterChecksumsAreRefusedClearly(string name)
    {
        // qemu-img refuses these too ("Incorrect header checksum").
        string path = TestData.Real(name);
        var e = Assert.Throws<CorruptImageException>(() => ImageOpener.Default.Open(path));
        Assert.Contains("checksum", e.Message);
        Assert.Contains("footer", e.Message);
        Assert.Equal(path, e.ImagePath);
        var line = Discemu.Tests.Cli.CliHarness.AssertOneLineError(DiskTestKit.RunCli("info", path));
        Assert.Contains("checksum is wrong", line);
    }

    [Fact]
    public void FatDifferentialWithoutItsParentNamesThePathLookedFor()
    {
        string path = TestData.Real("fat-differential.vhd");
        var e = Assert.Throws<ImageAccessException>(() => ImageOpener.Default.Open(path));
        Assert.Contains(Path.Combine(Path.GetDirectoryName(path)!, "fat-parent.vhd"), e.Message);
        Assert.Contains(@"C:\Projects\dfvfs\test_data\fat-parent.vhd", e.Message);
        // Without its parent it opens for inspection: a Windows differencing disk sized by its footer.
        using var alone = ImageOpener.Default.Open(path, new ImageOpenOptions { OpenBacking = false });
        Assert.Equal(4194304, alone.Length);
        Assert.Equal("win", VhdInteropTests.Specific(alone, "creator-app"));
        Assert.Equal("fat-parent.vhd", alone.BackingFileName);
    }

    [Fact]
    public void FatDifferentialOverAStandInParentShowsItsOwnSectorsOverTheParent()
    {
        // A parent made here, carrying the unique id the child records, filled with 0xEE: the child's marked
        // sectors (the bitmap, most significant bit first) must show the child's bytes, the rest the parent's.
        string child = _dir.File("fat-differential.vhd");
        File.Copy(TestData.Real("fat-differential.vhd"), child);
        var raw = File.ReadAllBytes(child);
        var header = raw.AsSpan(512, 1024);
        var parentId = new Guid(header.Slice(40, 16), bigEndian: true);
        MakeParent(_dir.File("fat-parent.vhd"), 4194304, parentId, 0xEE);

        var expected = new byte[4194304];
        expected.AsSpan().Fill(0xEE);
        long table = (long)BinaryPrimitives.ReadUInt64BigEndian(header[16..]);
        for (int block = 0; block < 2; block++)
        {
            uint entry = BinaryPrimitives.ReadUInt32BigEndian(raw.AsSpan((int)table + block * 4));
            if (entry == 0xFFFFFFFF) continue;
            int start = (int)(entry * 512);
            for (int sector = 0; sector < 4096; sector++)
                if ((raw[start + sector / 8] & (0x80 >> (sector % 8))) != 0)
                    raw.AsSpan(start + 512 + sector * 512, 512).CopyTo(expected.AsSpan(block * (2 << 20) + sector * 512));
        }
        using var vhd = ImageOpener.Default.Open(child);
        AssertSameBytes(expected, ReadAll(vhd), "fat-differential over its stand-in parent");
        AssertStatusAgrees(vhd, expected, "fat-differential");
        Assert.Equal(0, ((ICheckableImage)vhd).Check(CheckRepair.None).ExitCode);
    }

    [Fact]
    public void FatDifferentialOverAZeroParentMatchesQemuImgWhichIgnoresTheParent()
    {
        PeerTools.Require("qemu-img");
        // qemu-img reads a differencing disk as a dynamic one (no parent, bitmaps ignored); over a parent of
        // zeros Discemu must then agree byte for byte, since Windows leaves unmarked sectors zero.
        string child = _dir.File("fat-differential.vhd");
        File.Copy(TestData.Real("fat-differential.vhd"), child);
        var parentId = new Guid(File.ReadAllBytes(child).AsSpan(512 + 40, 16), bigEndian: true);
        MakeParent(_dir.File("fat-parent.vhd"), 4194304, parentId, 0);
        using var vhd = ImageOpener.Default.Open(child);
        AssertSameBytes(QemuRaw(_dir, child, "vpc"), ReadAll(vhd), "fat-differential");
    }

    /// <summary>A dynamic VHD of <paramref name="size"/> bytes filled with <paramref name="fill"/> and given <paramref name="id"/> as its unique id.</summary>
    private static void MakeParent(string path, long size, Guid id, byte fill)
    {
        using (var parent = VhdFormat.Instance.Create(new ImageCreateRequest(path, size, CreateOptions.Empty, ImageOpener.Default)))
            if (fill != 0) parent.Write(0, Enumerable.Repeat(fill, (int)size).ToArray());
        long length = new FileInfo(path).Length;
        foreach (long at in new[] { 0L, length - 512 })
        {
            var f = ReadFile(path, at, 512);
            id.TryWriteBytes(f.AsSpan(68, 16), bigEndian: true, out _);
            BinaryPrimitives.WriteUInt32BigEndian(f.AsSpan(64), VhdFooter.Checksum(f, 64));
            Patch(path, at, f);
        }
    }
}
