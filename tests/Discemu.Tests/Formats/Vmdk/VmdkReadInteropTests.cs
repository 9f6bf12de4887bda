using System.Text.Json;
using Discemu.Formats;
using Discemu.Formats.Vmdk;
using Discemu.Operations;
using Discemu.Tests.Conformance;
using Discemu.Tests.Infrastructure;
using static Discemu.Tests.Formats.Vmdk.VmdkTestKit;

namespace Discemu.Tests.Formats.Vmdk;

/// <summary>Images qemu-img makes (and the real VMware-format image) read back byte for byte.</summary>
public sealed class VmdkReadInteropTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string> AllSubformats => SubformatData;

    [Theory]
    [MemberData(nameof(AllSubformats))]
    public void ImagesQemuConvertsReadBackIdentical(string subformat)
    {
        PeerTools.Require("qemu-img");
        string src = MixedSource(_dir, "src.raw", (9L << 20) + 512 * 7, seed: subformat.Length);
        string image = _dir.File("q.vmdk");
        QemuImg("convert", "-f", "raw", "-O", "vmdk", "-o", $"subformat={subformat}", src, image);
        using var vmdk = Open(image);
        Assert.Equal("vmdk", vmdk.Format.Name);
        AssertSameContent(src, vmdk, $"{subformat} made by qemu-img");
        var model = new DeviceModel(File.ReadAllBytes(src));
        DeviceConformanceTests.AssertStatusConsistent(vmdk, model, subformat);
        Assert.Equal(subformat, ((VmdkImage)vmdk).CreateType);
    }

    [Theory]
    [InlineData("monolithicSparse")]
    [InlineData("twoGbMaxExtentSparse")]
    public void MapMatchesQemuImgMap(string subformat)
    {
        PeerTools.Require("qemu-img");
        string src = MixedSource(_dir, "src.raw", 8L << 20, seed: 3);
        string image = _dir.File("q.vmdk");
        QemuImg("convert", "-f", "raw", "-O", "vmdk", "-o", $"subformat={subformat}", src, image);
        var expected = JsonDocument.Parse(QemuImg("map", "--output", "json", "-f", "vmdk", image)).RootElement.EnumerateArray()
            .Select(e => (e.GetProperty("start").GetInt64(), e.GetProperty("length").GetInt64(), e.GetProperty("present").GetBoolean(),
                e.GetProperty("zero").GetBoolean(), e.GetProperty("data").GetBoolean(), e.TryGetProperty("offset", out var o) ? o.GetInt64() : (long?)null))
            .ToList();
        using var vmdk = Open(image);
        var actual = ImageMapper.Map(vmdk).Select(e => (e.Start, e.Length, e.Present, e.Zero, e.Data, e.Offset)).ToList();
        Assert.Equal(expected, actual);
    }

    [Theory]
    [InlineData("twoGbMaxExtentSparse")]
    [InlineData("twoGbMaxExtentFlat")]
    public void SplitImagesOfMoreThanTwoGiBReadAcrossExtentBoundaries(string subformat)
    {
        PeerTools.Require("qemu-img");
        long size = (5L << 29) + 4096; // 2.5 GiB and a bit: three extents
        string src = MixedSource(_dir, "big.raw", size, 11, (2L << 30) - 100_000, size - 150_000);
        string image = _dir.File("big.vmdk");
        QemuImg("convert", "-f", "raw", "-O", "vmdk", "-o", $"subformat={subformat}", src, image);
        using var vmdk = Open(image);
        Assert.Equal(2, ((VmdkImage)vmdk).Extents.Count);
        AssertSameContent(src, vmdk, subformat);
        var piece = new byte[200_000];
        vmdk.Read((2L << 30) - 100_000, piece);
        using var raw = ImageOpener.Default.Open(src);
        var want = new byte[piece.Length];
        raw.Read((2L << 30) - 100_000, want);
        Assert.Equal(want, piece);
    }

    [Fact]
    public void RealExt2ImageReadsWithItsContentHash()
    {
        string path = TestData.Real("ext2.vmdk");
        Assert.Equal("vmdk", ImageOpener.Default.Detect(path).Name);
        using var image = ImageOpener.Default.Open(path);
        Assert.Equal(4194304, image.Length);
        Assert.Equal("a6c2f0e39afe6c6ab432ca5465349fcefe8dc944398e97b2d957d3f89dbb5d80", Sha256(ReadAll(image)));
        Assert.Equal(65536, image.ClusterSize);
        var check = ((ICheckableImage)image).Check(CheckRepair.None);
        Assert.Equal(0, check.ExitCode);
    }

    [Fact]
    public void ZeroedGrainsQemuWritesReadAsAllocatedZeros()
    {
        PeerTools.Require("qemu-io");
        string image = _dir.File("zg.vmdk");
        QemuImg("create", "-f", "vmdk", "-o", "zeroed_grain=on", image, "4M");
        QemuIo(image, "vmdk", "write -P 0x5a 0 1M", "write -z 128k 256k", "write -z 2M 64k");
        using var vmdk = Open(image);
        var data = ReadAll(vmdk);
        Assert.All(data.AsSpan(0, 128 << 10).ToArray(), b => Assert.Equal(0x5a, b));
        Assert.True(data.AsSpan(128 << 10, 256 << 10).IndexOfAnyExcept((byte)0) < 0);
        Assert.All(data.AsSpan(384 << 10, 640 << 10).ToArray(), b => Assert.Equal(0x5a, b));
        var st = vmdk.GetStatus(128 << 10, 256 << 10);
        Assert.True(st.IsZero && st.IsAllocated, st.ToString());
        Assert.Equal(256 << 10, st.Length);
        var zeroGrain = vmdk.GetStatus(2 << 20, 64 << 10);
        Assert.True(zeroGrain.IsZero && zeroGrain.IsAllocated, zeroGrain.ToString());
        Assert.False(vmdk.GetStatus(3 << 20, 64 << 10).IsAllocated);
    }

    [Fact]
    public void StreamOptimizedFromQemuReportsCompressedGrains()
    {
        PeerTools.Require("qemu-img");
        string src = MixedSource(_dir, "src.raw", 4L << 20, seed: 9);
        string image = _dir.File("s.vmdk");
        QemuImg("convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=streamOptimized", src, image);
        using var vmdk = Open(image);
        var st = vmdk.GetStatus(0, vmdk.Length);
        Assert.True((st.Flags & Discemu.Block.BlockStatusFlags.Compressed) != 0, st.ToString());
        Assert.Equal(-1, st.HostOffset);
        Assert.Contains(vmdk.FormatSpecific, kv => kv.Key == "extents");
        Assert.Throws<UnsupportedFeatureException>(() => Open(image, writable: true));
    }

    [Fact]
    public void SeSparseReadsLikeQemuReadsIt()
    {
        PeerTools.Require("qemu-img");
        var (descriptor, expected) = VmdkSyntheticImages.SeSparse(_dir);
        using var vmdk = Open(descriptor);
        Assert.Equal(expected, ReadAll(vmdk));
        var viaQemu = _dir.File("se-qemu.raw");
        QemuImg("convert", "-f", "vmdk", "-O", "raw", descriptor, viaQemu);
        Assert.Equal(expected, File.ReadAllBytes(viaQemu));
        Assert.True(vmdk.GetStatus(2 * 4096, 4096).IsZero); // unmapped grain
        Assert.True(vmdk.GetStatus(4 * 4096, 4096) is { IsZero: true, IsAllocated: true }); // zero grain
        Assert.False(vmdk.GetStatus(5 * 4096, 4096).IsAllocated); // unallocated: the parent would show
        Assert.Throws<UnsupportedFeatureException>(() => Open(descriptor, writable: true));
    }

    [Fact]
    public void VmfsSparseReadsLikeQemuReadsIt()
    {
        PeerTools.Require("qemu-img");
        var (descriptor, expected) = VmdkSyntheticImages.Cowd(_dir);
        using var vmdk = Open(descriptor);
        Assert.Equal(expected, ReadAll(vmdk));
        var viaQemu = _dir.File("cowd-qemu.raw");
        QemuImg("convert", "-f", "vmdk", "-O", "raw", descriptor, viaQemu);
        // qemu-img 7.2 reports a vmfsSparse extent twice its size (the rest reads as zeros); the disk's own bytes must agree.
        Assert.Equal(expected, File.ReadAllBytes(viaQemu).AsSpan(0, expected.Length).ToArray());
        using var bare = Open(_dir.File("x-delta.vmdk"));
        Assert.Equal(expected, ReadAll(bare));
    }
}
