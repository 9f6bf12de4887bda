using Discemu.Block;
using Discemu.Formats;
using Discemu.Formats.Vdi;
using Discemu.Tests.Conformance;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Formats.Vdi;

/// <summary>The shared device contract on dynamic VDI images (1 MiB blocks).</summary>
public class VdiDynamicConformanceTests : DeviceConformanceTests
{
    protected virtual string Options => "";

    // Free blocks are holes; zeroed or discarded blocks are punched in the host file, which reports them as zeros.
    protected override DeviceExpectations Expectations => DeviceExpectations.All;

    protected override int Granularity => 4096;

    protected override int LengthAlignment => 512;

    protected override BlockDevice CreateDevice(TempDir dir, long length)
        => VdiFormat.Instance.Create(new ImageCreateRequest(dir.File("t.vdi"), length, CreateOptions.Parse(Options), ImageOpener.Default));

    protected override BlockDevice? Reopen(TempDir dir, bool writable)
        => ImageOpener.Default.Open(dir.File("t.vdi"), new ImageOpenOptions { Writable = writable });

    protected override IEnumerable<long> Boundaries(long length) => [1L << 20, 2L << 20];
}

/// <summary>The contract on static VDI images (every block allocated at creation, the file sparse).</summary>
public sealed class VdiStaticConformanceTests : VdiDynamicConformanceTests
{
    protected override string Options => "static=on";
}
