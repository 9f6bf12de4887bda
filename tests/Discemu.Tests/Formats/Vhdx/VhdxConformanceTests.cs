using Discemu.Block;
using Discemu.Formats;
using Discemu.Formats.Vhdx;
using Discemu.Tests.Conformance;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Formats.Vhdx;

/// <summary>The shared device contract on dynamic VHDX images with 1 MiB blocks (so tests cross many blocks).</summary>
public class VhdxConformanceTests : DeviceConformanceTests
{
    protected virtual string Options => "block_size=1M";

    protected override DeviceExpectations Expectations => DeviceExpectations.All;

    protected override int Granularity => 4096;

    protected override int LengthAlignment => 512;

    protected override BlockDevice CreateDevice(TempDir dir, long length)
        => VhdxFormat.Instance.Create(new ImageCreateRequest(dir.File("t.vhdx"), length, CreateOptions.Parse(Options), ImageOpener.Default));

    protected override BlockDevice? Reopen(TempDir dir, bool writable)
        => ImageOpener.Default.Open(dir.File("t.vhdx"), new ImageOpenOptions { Writable = writable });

    protected override IEnumerable<long> Boundaries(long length) => [1 << 20, 4096];
}

/// <summary>Dynamic images whose fresh blocks are NOT_PRESENT rather than ZERO.</summary>
public sealed class VhdxNotPresentConformanceTests : VhdxConformanceTests
{
    protected override string Options => "block_size=1M,block_state_zero=off";
}

/// <summary>Fixed images: every block allocated up front; zeroing and discard return host space but keep the blocks.</summary>
public sealed class VhdxFixedConformanceTests : VhdxConformanceTests
{
    protected override string Options => "subformat=fixed,block_size=1M";

}

/// <summary>Images with 4096-byte logical sectors (sizes are whole sectors) and a 4 MiB log.</summary>
public sealed class Vhdx4KConformanceTests : VhdxConformanceTests
{
    protected override string Options => "block_size=2M,logical_sector_size=4096,log_size=4M";

    protected override int LengthAlignment => 4096;
}

/// <summary>
/// Differencing images over a patterned VHDX parent: unwritten ranges show the parent, partial writes
/// use the sector bitmap, whole-block zeroing hides the parent.
/// </summary>
public sealed class VhdxDifferencingConformanceTests : VhdxConformanceTests
{
    protected override DeviceExpectations Expectations => DeviceExpectations.WriteZeroesReportsZero;

    protected override BlockDevice CreateDevice(TempDir dir, long length)
    {
        string parent = dir.File("parent.vhdx");
        using (var p = VhdxTestKit.Create(parent, length + (3 << 20), "block_size=2M"))
        {
            var data = ParentContents(p.Length);
            p.Write(0, data);
        }
        return VhdxFormat.Instance.Create(new ImageCreateRequest(dir.File("t.vhdx"), length, CreateOptions.Parse(Options), ImageOpener.Default)
        {
            BackingFile = "parent.vhdx",
            BackingFormat = "vhdx",
        });
    }

    protected override byte[] ExpectedInitialContents(long length) => ParentContents(length + (3 << 20))[..(int)length];

    private static byte[] ParentContents(long length)
    {
        var data = VhdxTestKit.Pattern((int)length, 4242);
        // Some zero stretches in the parent, across block and sector boundaries.
        data.AsSpan(100_000, 5000).Clear();
        data.AsSpan((int)Math.Min(length - 1, 2 << 20) - 1000, 1000).Clear();
        return data;
    }
}
