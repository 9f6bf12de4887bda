using Discemu.Block;
using Discemu.Formats;
using Discemu.Formats.Vmdk;
using Discemu.Tests.Infrastructure;
using static Discemu.Tests.Formats.Vmdk.VmdkTestKit;

namespace Discemu.Tests.Formats.Vmdk;

/// <summary>Images Discemu makes and writes must pass qemu-img check and compare identical with qemu-img.</summary>
public sealed class VmdkWriteInteropTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string> AllSubformats => SubformatData;

    [Theory]
    [MemberData(nameof(AllSubformats))]
    public void ImagesWeConvertPassQemuCheckAndCompare(string subformat)
    {
        PeerTools.Require("qemu-img");
        string src = MixedSource(_dir, "src.raw", (9L << 20) + 512 * 3, seed: 40 + subformat.Length);
        string image = _dir.File("ours.vmdk");
        Convert(src, image, $"subformat={subformat}");
        AssertQemuCheckClean(image);
        AssertQemuCompare(image, src);
        var info = QemuInfo(image);
        Assert.Equal(new FileInfo(src).Length, info.GetProperty("virtual-size").GetInt64());
        Assert.Equal(subformat, info.GetProperty("format-specific").GetProperty("data").GetProperty("create-type").GetString());
        using var back = Open(image);
        AssertSameContent(src, back, $"{subformat} read back by Discemu");
        Assert.Equal(0, ((ICheckableImage)back).Check(CheckRepair.None).ExitCode);
    }

    [Theory]
    [InlineData("twoGbMaxExtentSparse")]
    [InlineData("twoGbMaxExtentFlat")]
    public void SplitImagesOfMoreThanTwoGiBPassQemuCompare(string subformat)
    {
        PeerTools.Require("qemu-img");
        long size = (5L << 29) + 4096;
        string src = MixedSource(_dir, "big.raw", size, 12, (2L << 30) - 100_000, size - 150_000);
        string image = _dir.File("big.vmdk");
        Convert(src, image, $"subformat={subformat}");
        string letter = subformat.EndsWith("Flat", StringComparison.Ordinal) ? "f" : "s";
        Assert.True(File.Exists(_dir.File($"big-{letter}002.vmdk")));
        Assert.False(File.Exists(_dir.File($"big-{letter}003.vmdk")));
        if (letter == "s") AssertQemuCheckClean(image);
        AssertQemuCompare(image, src);
        Assert.Contains($"RW 4194304 {(letter == "f" ? "FLAT" : "SPARSE")} \"big-{letter}001.vmdk\"", File.ReadAllText(image));
    }

    [Fact]
    public void CreateOptionsLandInTheDescriptorAsQemuImgWritesThem()
    {
        PeerTools.Require("qemu-img");
        string a = _dir.File("a.vmdk");
        using (Create(a, 10 << 20, "adapter_type=lsilogic,hwversion=14,toolsversion=12325")) { }
        string d = DescriptorOf(a);
        Assert.Contains("ddb.adapterType = \"lsilogic\"", d);
        Assert.Contains("ddb.virtualHWVersion = \"14\"", d);
        Assert.Contains("ddb.toolsVersion = \"12325\"", d);
        Assert.Contains("ddb.geometry.heads = \"255\"", d);
        Assert.Contains("ddb.geometry.cylinders = \"1\"", d);
        Assert.Contains("createType=\"monolithicSparse\"", d);
        AssertQemuCheckClean(a);

        string b = _dir.File("b.vmdk");
        using (Create(b, 10 << 20, "compat6=on,zeroed_grain=on")) { }
        Assert.Contains("ddb.virtualHWVersion = \"6\"", DescriptorOf(b));
        Assert.Contains("ddb.geometry.heads = \"16\"", DescriptorOf(b));
        var header = File.ReadAllBytes(b).AsSpan(0, 16).ToArray();
        Assert.Equal(2, BitConverter.ToInt32(header, 4)); // version 2 for zeroed grains
        Assert.Equal(7, BitConverter.ToInt32(header, 8)); // newline test, redundant tables, zeroed grains
        AssertQemuCheckClean(b);

        Assert.Throws<BadArgumentException>(() => Create(_dir.File("c.vmdk"), 1 << 20, "compat6=on,hwversion=7"));
        Assert.Throws<BadArgumentException>(() => Create(_dir.File("c.vmdk"), 1 << 20, "adapter_type=scsi"));
        Assert.Throws<BadArgumentException>(() => Create(_dir.File("c.vmdk"), 1 << 20, "subformat=vmfs"));
        Assert.Throws<BadArgumentException>(() => Create(_dir.File("c.vmdk"), 1 << 20, "preallocation=metadata"));
        Assert.Throws<BadArgumentException>(() => Create(_dir.File("c.vmdk"), 1 << 20, "cluster_size=4k"));
    }

    [Fact]
    public void LayoutOfANewSparseImageMatchesQemuImgs()
    {
        PeerTools.Require("qemu-img");
        string ours = _dir.File("ours.vmdk"), theirs = _dir.File("theirs.vmdk");
        using (Create(ours, 100 << 20)) { }
        QemuImg("create", "-f", "vmdk", theirs, "100M");
        // Header (apart from nothing) and the metadata after the descriptor are the same bytes; only the descriptor differs (CIDs, uuid).
        var a = File.ReadAllBytes(ours);
        var b = File.ReadAllBytes(theirs);
        Assert.Equal(b.Length, a.Length);
        Assert.Equal(b.AsSpan(0, 512).ToArray(), a.AsSpan(0, 512).ToArray());
        Assert.Equal(b.AsSpan(21 * 512).ToArray(), a.AsSpan(21 * 512).ToArray());
    }

    [Theory]
    [InlineData("monolithicSparse", "")]
    [InlineData("monolithicSparse", "zeroed_grain=on")]
    [InlineData("twoGbMaxExtentSparse", "")]
    [InlineData("monolithicFlat", "")]
    public void WritesIntoImagesQemuMadeKeepThemValid(string subformat, string extra)
    {
        PeerTools.Require("qemu-img");
        string src = MixedSource(_dir, "src.raw", 6L << 20, seed: 77);
        string image = _dir.File("q.vmdk");
        QemuImg("convert", "-f", "raw", "-O", "vmdk", "-o", $"subformat={subformat}" + (extra.Length > 0 ? "," + extra : ""), src, image);
        var model = File.ReadAllBytes(src);
        var rng = new Random(5);
        using (var vmdk = Open(image, writable: true))
        {
            for (int i = 0; i < 60; i++)
            {
                int len = rng.Next(3) switch { 0 => rng.Next(1, 700), 1 => rng.Next(1, 200_000), _ => 65536 * rng.Next(1, 4) };
                long off = rng.Next(3) == 0 ? rng.NextInt64(0, model.Length / 65536) * 65536 : rng.NextInt64(0, model.Length - len);
                len = (int)Math.Min(len, model.Length - off);
                if (rng.Next(4) == 0)
                {
                    vmdk.WriteZeroes(off, len, mayUnmap: rng.Next(2) == 0);
                    model.AsSpan((int)off, len).Clear();
                }
                else
                {
                    var data = Pattern(len, i);
                    vmdk.Write(off, data);
                    data.CopyTo(model, off);
                }
            }
            Assert.Equal(model, ReadAll(vmdk));
            var check = ((ICheckableImage)vmdk).Check(CheckRepair.None);
            Assert.True(check.ExitCode == 0, string.Join("\n", check.Messages));
        }
        string expected = _dir.File("expected.raw");
        File.WriteAllBytes(expected, model);
        if (subformat != "monolithicFlat") AssertQemuCheckClean(image);
        AssertQemuCompare(image, expected);
    }

    [Fact]
    public void FirstWriteGivesTheDiskANewCid()
    {
        string image = _dir.File("cid.vmdk");
        uint before;
        using (var created = (VmdkImage)Create(image, 4 << 20)) before = created.Cid;
        using (var reopened = (VmdkImage)Open(image, writable: true))
        {
            Assert.Equal(before, reopened.Cid);
            reopened.Read(0, new byte[512]);
            Assert.Equal(before, reopened.Cid);
            reopened.Write(0, new byte[] { 1, 2, 3 });
            Assert.NotEqual(before, reopened.Cid);
        }
        using var again = (VmdkImage)Open(image);
        Assert.NotEqual(before, again.Cid);
        string d = DescriptorOf(image);
        Assert.Contains($"CID={again.Cid:x8}", d);
        Assert.Contains($"{again.Cid:x8}\"", d); // ddb.longContentID ends with the CID
    }

    [Fact]
    public void RedundantGrainTablesFollowEveryAllocation()
    {
        string image = _dir.File("r.vmdk");
        using (var vmdk = Create(image, 64 << 20))
        {
            vmdk.Write(12345, Pattern(300_000, 1));
            vmdk.Write(40L << 20, Pattern(70_000, 2));
        }
        var bytes = File.ReadAllBytes(image);
        long rgd = BitConverter.ToInt64(bytes, 48), gd = BitConverter.ToInt64(bytes, 56);
        for (int i = 0; i < 2; i++)
        {
            long gt = BitConverter.ToUInt32(bytes, (int)(gd * 512 + i * 4)), rgt = BitConverter.ToUInt32(bytes, (int)(rgd * 512 + i * 4));
            Assert.Equal(bytes.AsSpan((int)(gt * 512), 2048).ToArray(), bytes.AsSpan((int)(rgt * 512), 2048).ToArray());
        }
        Assert.NotEqual(0u, BitConverter.ToUInt32(bytes, (int)(BitConverter.ToUInt32(bytes, (int)(gd * 512 + 4)) * 512 + 128 * 4)));
    }
}
