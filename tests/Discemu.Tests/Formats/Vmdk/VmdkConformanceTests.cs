using Discemu.Block;
using Discemu.Formats;
using Discemu.Formats.Vmdk;
using Discemu.Operations;
using Discemu.Tests.Conformance;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Formats.Vmdk;

/// <summary>The shared device contract on monolithicSparse images (64 KiB grains, 512-entry grain tables).</summary>
public class VmdkMonolithicSparseConformanceTests : DeviceConformanceTests
{
    protected virtual string Options => "";

    protected override DeviceExpectations Expectations => DeviceExpectations.ReportsHoles;

    protected override int Granularity => 65536;

    protected override int LengthAlignment => 512;

    protected override BlockDevice CreateDevice(TempDir dir, long length)
        => VmdkTestKit.Create(dir.File("t.vmdk"), length, Options);

    protected override BlockDevice? Reopen(TempDir dir, bool writable)
        => VmdkTestKit.Open(dir.File("t.vmdk"), writable);

    // A grain, and the span of one grain table (512 grains).
    protected override IEnumerable<long> Boundaries(long length) => [65536, 65536L * 512];
}

/// <summary>With zeroed grains (version 2): write-zeroes and discard of whole grains store zeroed-grain entries.</summary>
public sealed class VmdkZeroedGrainConformanceTests : VmdkMonolithicSparseConformanceTests
{
    protected override string Options => "zeroed_grain=on";

    protected override DeviceExpectations Expectations => DeviceExpectations.All;
}

/// <summary>monolithicFlat: a descriptor and one raw extent file (holes report as zeros where the file system allows).</summary>
public sealed class VmdkMonolithicFlatConformanceTests : DeviceConformanceTests
{
    protected override DeviceExpectations Expectations => SparseFiles.IfSupported(DeviceExpectations.All);

    protected override int LengthAlignment => 512;

    protected override BlockDevice CreateDevice(TempDir dir, long length)
        => VmdkTestKit.Create(dir.File("t.vmdk"), length, "subformat=monolithicFlat");

    protected override BlockDevice? Reopen(TempDir dir, bool writable)
        => VmdkTestKit.Open(dir.File("t.vmdk"), writable);
}

/// <summary>twoGbMaxExtentSparse with 1 MiB extents, so the suite's writes cross extent boundaries all the time.</summary>
public sealed class VmdkTwoGbMaxExtentSparseConformanceTests : DeviceConformanceTests
{
    protected override DeviceExpectations Expectations => DeviceExpectations.ReportsHoles;

    protected override int Granularity => 65536;

    protected override int LengthAlignment => 512;

    protected override BlockDevice CreateDevice(TempDir dir, long length)
        => VmdkTestKit.Create(dir.File("t.vmdk"), length, "subformat=twoGbMaxExtentSparse", extentBytes: 1 << 20);

    protected override BlockDevice? Reopen(TempDir dir, bool writable)
        => VmdkTestKit.Open(dir.File("t.vmdk"), writable);

    protected override IEnumerable<long> Boundaries(long length) => [1 << 20, 2 << 20, 3 << 20, 65536];
}

/// <summary>
/// streamOptimized images are written once, front to back; afterwards they are read-only. The suite runs
/// on a copy-on-write overlay (in memory) over a read-only streamOptimized image holding a pattern with
/// holes and zero runs, so every read of never-written ranges goes through the compressed-grain reader.
/// </summary>
public sealed class VmdkStreamOptimizedReadConformanceTests : DeviceConformanceTests
{
    protected override DeviceExpectations Expectations => DeviceExpectations.None;

    protected override int LengthAlignment => 512;

    protected override byte[] ExpectedInitialContents(long length)
    {
        var data = Pattern((int)length, 4242);
        for (long at = 70_000; at + 200_000 < length; at += 900_000) data.AsSpan((int)at, 200_000).Clear();
        return data;
    }

    protected override BlockDevice CreateDevice(TempDir dir, long length)
    {
        string raw = dir.File("src.raw");
        File.WriteAllBytes(raw, ExpectedInitialContents(length));
        string image = dir.File("s.vmdk");
        using (var src = ImageOpener.Default.Open(raw))
        using (var dst = VmdkTestKit.Create(image, length, "subformat=streamOptimized"))
            ImageCopier.Copy(src, dst);
        var reader = VmdkTestKit.Open(image);
        Assert.False(reader.CanWrite);
        return new OverlayDevice(reader, blockSize: 4096);
    }
}
