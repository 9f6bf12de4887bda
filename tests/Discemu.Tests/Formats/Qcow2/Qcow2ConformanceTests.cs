using Discemu.Block;
using Discemu.Formats;
using Discemu.Formats.Qcow2;
using Discemu.Tests.Conformance;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Formats.Qcow2;

/// <summary>The shared device contract, on QCOW2 images with small clusters (so tests cross many clusters and L2 tables).</summary>
public class Qcow2ConformanceTests : DeviceConformanceTests
{
    protected virtual string Options => "cluster_size=4k";

    protected override DeviceExpectations Expectations => DeviceExpectations.All;

    protected override int Granularity => 4096;

    protected override int LengthAlignment => 512;

    protected override BlockDevice CreateDevice(TempDir dir, long length)
        => Qcow2Format.Instance.Create(new ImageCreateRequest(dir.File("t.qcow2"), length, CreateOptions.Parse(Options), ImageOpener.Default));

    protected override BlockDevice? Reopen(TempDir dir, bool writable)
        => ImageOpener.Default.Open(dir.File("t.qcow2"), new ImageOpenOptions { Writable = writable });

    // A cluster, and the span of one L2 table (512 entries of 4 KiB).
    protected override IEnumerable<long> Boundaries(long length) => [4096, 4096L * 512];
}

/// <summary>The same contract on a version 2 (compat 0.10) image.</summary>
public sealed class Qcow2V2ConformanceTests : Qcow2ConformanceTests
{
    protected override string Options => "compat=0.10,cluster_size=4k";

    // Version 2 has no zero flag: write-zeroes without a backing file deallocates, so it still reads and reports zero.
}

/// <summary>The contract on images with extended L2 entries (subclusters).</summary>
public sealed class Qcow2ExtendedL2ConformanceTests : Qcow2ConformanceTests
{
    protected override string Options => "cluster_size=16k,extended_l2=on";

    protected override int Granularity => 16384;

    protected override IEnumerable<long> Boundaries(long length) => [16384, 16384L * 1024];
}
