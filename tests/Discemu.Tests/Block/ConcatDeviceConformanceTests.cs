using Discemu.Block;
using Discemu.Tests.Conformance;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Block;

/// <summary>RAM parts of odd sizes, including an empty one.</summary>
public sealed class ConcatOfMemoryConformanceTests : DeviceConformanceTests
{
    private static readonly long[] Sizes = [12_345, 0, 2 * 65536 + 1, 777, 1];

    // Part edges do not line up with 64 KiB units, so only the unit-free promises hold.
    protected override DeviceExpectations Expectations => DeviceExpectations.ReportsHoles | DeviceExpectations.DiscardZeroes;
    protected override int Granularity => 65536;

    protected override IEnumerable<long> Boundaries(long length)
    {
        long pos = 0;
        foreach (long s in Sizes) yield return pos += s;
    }

    protected override BlockDevice CreateDevice(TempDir dir, long length)
    {
        long rest = length - Sizes.Sum();
        Assert.True(rest > 0);
        return new ConcatDevice([.. Sizes.Append(rest).Select(s => new MemoryDevice(s))]);
    }

    [Fact]
    public void WritesLandInTheRightParts()
    {
        var dev = (ConcatDevice)NewDevice();
        long boundary = Sizes[0] + Sizes[1] + Sizes[2];
        dev.Write(boundary - 3, [1, 2, 3, 4, 5, 6, 7, 8]);
        var tailOfPart2 = new byte[3];
        var part3 = new byte[5];
        dev.Parts[2].Read(Sizes[2] - 3, tailOfPart2);
        dev.Parts[3].Read(0, part3);
        Assert.Equal([1, 2, 3], tailOfPart2);
        Assert.Equal([4, 5, 6, 7, 8], part3);
        Assert.Throws<ArgumentException>(() => new ConcatDevice([]));
    }
}

/// <summary>File parts whose sizes are whole 4 KiB blocks (except the last), reopenable.</summary>
public sealed class ConcatOfFilesConformanceTests : DeviceConformanceTests
{
    private static readonly long[] Sizes = [4096 * 77, 4096 * 5, 4096];
    private long _rest;

    protected override DeviceExpectations Expectations => SparseFiles.IfSupported(DeviceExpectations.All);

    protected override IEnumerable<long> Boundaries(long length)
    {
        long pos = 0;
        foreach (long s in Sizes) yield return pos += s;
    }

    protected override BlockDevice CreateDevice(TempDir dir, long length)
    {
        _rest = length - Sizes.Sum();
        return new ConcatDevice([.. Sizes.Append(_rest).Select((s, i) => FileDevice.Create(dir.File($"part{i}"), s))]);
    }

    protected override BlockDevice? Reopen(TempDir dir, bool writable)
        => new ConcatDevice([.. Sizes.Append(_rest).Select((_, i) => FileDevice.Open(dir.File($"part{i}"), writable))]);
}
