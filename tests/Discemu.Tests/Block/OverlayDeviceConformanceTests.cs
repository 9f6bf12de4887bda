using System.Security.Cryptography;
using Discemu.Block;
using Discemu.Tests.Conformance;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Block;

/// <summary>An overlay on an all-zero RAM base, with a RAM overlay: holes show through.</summary>
public sealed class OverlayOverZeroBaseConformanceTests : DeviceConformanceTests
{
    protected override DeviceExpectations Expectations => DeviceExpectations.All;
    protected override int Granularity => 65536;
    protected override IEnumerable<long> Boundaries(long length) => [65536 * 5];
    protected override BlockDevice CreateDevice(TempDir dir, long length) => new OverlayDevice(new MemoryDevice(length));
}

/// <summary>
/// An overlay with 4 KiB blocks on a read-only file full of data, storing writes in a sparse file:
/// never-written ranges read the base, and the base file never changes.
/// </summary>
public sealed class OverlayOverPatternedFileConformanceTests : DeviceConformanceTests
{
    protected override DeviceExpectations Expectations
        => SparseFiles.IfSupported(DeviceExpectations.WriteZeroesReportsZero | DeviceExpectations.DiscardDeallocates) | DeviceExpectations.DiscardZeroes;

    protected override byte[] ExpectedInitialContents(long length) => Pattern((int)length, 9999);

    protected override BlockDevice CreateDevice(TempDir dir, long length)
    {
        string basePath = dir.File("base.img");
        File.WriteAllBytes(basePath, ExpectedInitialContents(length));
        return new OverlayDevice(FileDevice.Open(basePath, writable: false), FileDevice.Create(dir.File("cow.img"), length), blockSize: 4096);
    }

    [Fact]
    public void BaseIsUntouchedByWritesZeroesAndDiscards()
    {
        var dev = NewDevice();
        byte[] before = SHA256.HashData(File.ReadAllBytes(Dir.File("base.img")));
        var model = new DeviceModel(ExpectedInitialContents(dev.Length));
        var rng = new Random(7);
        var log = new List<string>();
        for (int i = 0; i < 200; i++) RandomOp(dev, model, rng, log, allowResize: false);
        dev.Flush();
        model.AssertMatches(dev, 0, dev.Length, "overlay contents");
        Assert.Equal(before, SHA256.HashData(File.ReadAllBytes(Dir.File("base.img"))));
    }

    [Fact]
    public void PartialBlockWritesKeepTheBaseBytesAroundThem()
    {
        var dev = NewDevice();
        var expected = ExpectedInitialContents(dev.Length);
        dev.Write(4096 + 100, [0, 0, 0]);
        expected.AsSpan(4096 + 100, 3).Clear();
        var block = new byte[4096 * 2];
        dev.Read(4096, block);
        Assert.True(block.AsSpan().SequenceEqual(expected.AsSpan(4096, block.Length)));
        Assert.True(dev.GetStatus(4096, 4096).IsAllocated);
        Assert.Equal(1, dev.GetStatus(0, 4096).Depth); // answered by the base
    }

    [Fact]
    public void RejectsAReadOnlyOrShortOverlayAndBadBlockSizes()
    {
        using var baseDev = new MemoryDevice(8192);
        Assert.Throws<ArgumentException>(() => new OverlayDevice(baseDev, new MemoryDevice(4096), owns: false));
        Assert.Throws<ArgumentException>(() => new OverlayDevice(baseDev, blockSize: 1000, owns: false));
        Assert.Throws<ArgumentException>(() => new OverlayDevice(baseDev, blockSize: 256, owns: false));
        string path = Dir.File("ro.img");
        File.WriteAllBytes(path, new byte[8192]);
        using var ro = FileDevice.Open(path, writable: false);
        Assert.Throws<ArgumentException>(() => new OverlayDevice(baseDev, ro, owns: false));
    }
}
