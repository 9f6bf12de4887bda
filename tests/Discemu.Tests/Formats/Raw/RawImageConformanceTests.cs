using Discemu.Block;
using Discemu.Formats;
using Discemu.Formats.Raw;
using Discemu.Tests.Conformance;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Formats.Raw;

/// <summary>A raw image made by <see cref="RawFormat.Create"/> and reopened by content detection.</summary>
public sealed class RawImageConformanceTests : DeviceConformanceTests
{
    protected override DeviceExpectations Expectations => SparseFiles.IfSupported(DeviceExpectations.All);

    protected override BlockDevice CreateDevice(TempDir dir, long length)
        => RawFormat.Instance.Create(new ImageCreateRequest(dir.File("disk.img"), length, CreateOptions.Empty, ImageOpener.Default));

    protected override BlockDevice? Reopen(TempDir dir, bool writable)
    {
        var image = ImageOpener.Default.Open(dir.File("disk.img"), new ImageOpenOptions { Writable = writable });
        Assert.IsType<RawImage>(image);
        return image;
    }
}

/// <summary>A split raw set of three pieces of odd sizes, opened (and reopened) from its first piece.</summary>
public sealed class SplitRawImageConformanceTests : DeviceConformanceTests
{
    private static readonly long[] Sizes = [100_003, 1_048_579];

    protected override DeviceExpectations Expectations => SparseFiles.IfSupported(DeviceExpectations.ReportsHoles | DeviceExpectations.DiscardZeroes);

    protected override IEnumerable<long> Boundaries(long length) => [Sizes[0], Sizes[0] + Sizes[1]];

    protected override BlockDevice CreateDevice(TempDir dir, long length)
    {
        long[] sizes = [.. Sizes, length - Sizes.Sum()];
        for (int i = 0; i < sizes.Length; i++)
        {
            using var f = File.Create(dir.File($"disk.{i + 1:000}"));
            f.SetLength(sizes[i]);
        }
        return Reopen(dir, writable: true)!;
    }

    protected override BlockDevice? Reopen(TempDir dir, bool writable)
    {
        var image = ImageOpener.Default.Open(dir.File("disk.001"), new ImageOpenOptions { Writable = writable });
        var raw = Assert.IsType<RawImage>(image);
        Assert.Equal(3, raw.Pieces.Count);
        return image;
    }

    [Fact]
    public void AWriteAcrossPiecesLandsInBothFiles()
    {
        var dev = NewDevice();
        dev.Write(Sizes[0] - 2, [1, 2, 3, 4]);
        dev.Flush();
        dev.Dispose();
        var first = File.ReadAllBytes(Dir.File("disk.001"));
        var second = File.ReadAllBytes(Dir.File("disk.002"));
        Assert.Equal([1, 2], first[^2..]);
        Assert.Equal([3, 4], second[..2]);
        Assert.Equal(Sizes[0], first.Length);
    }
}
