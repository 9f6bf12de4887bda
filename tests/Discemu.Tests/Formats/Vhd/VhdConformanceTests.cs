using Discemu.Block;
using Discemu.Formats;
using Discemu.Formats.Vhd;
using Discemu.Tests.Conformance;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Formats.Vhd;

/// <summary>The shared device contract on dynamic VHDs (2 MiB blocks, sector bitmaps).</summary>
public class VhdDynamicConformanceTests : DeviceConformanceTests
{
    protected virtual string Options => "";

    protected override DeviceExpectations Expectations => DeviceExpectations.All;

    protected override int Granularity => 4096;

    protected override int LengthAlignment => 512;

    protected override BlockDevice CreateDevice(TempDir dir, long length)
        => VhdFormat.Instance.Create(new ImageCreateRequest(dir.File("t.vhd"), length, CreateOptions.Parse(Options), ImageOpener.Default));

    protected override BlockDevice? Reopen(TempDir dir, bool writable)
        => ImageOpener.Default.Open(dir.File("t.vhd"), new ImageOpenOptions { Writable = writable });

    // A sector, a block, and the block's bitmap byte boundaries.
    protected override IEnumerable<long> Boundaries(long length) => [512, 4096, 2L << 20, (2L << 20) + 512];
}

/// <summary>The contract on fixed VHDs: the disk is the start of the file; holes in the host file are the zeros.</summary>
public sealed class VhdFixedConformanceTests : VhdDynamicConformanceTests
{
    protected override string Options => "subformat=fixed";
}

/// <summary>The contract on differencing VHDs over a dynamic VHD parent full of a pattern.</summary>
public sealed class VhdDifferencingConformanceTests : DeviceConformanceTests
{
    // Discard and write-zeroes mark the sectors and zero them (the parent must not show through), so both read and report zeros.
    protected override DeviceExpectations Expectations => DeviceExpectations.WriteZeroesReportsZero | DeviceExpectations.DiscardZeroes | DeviceExpectations.DiscardDeallocates;

    protected override int Granularity => 4096;

    protected override int LengthAlignment => 512;

    protected override byte[] ExpectedInitialContents(long length) => ParentPattern(length);

    private static byte[] ParentPattern(long length)
    {
        var data = Pattern((int)length, 4242);
        data.AsSpan((int)(length / 3), (int)Math.Min(70_000, length / 3)).Clear(); // a hole in the parent too
        return data;
    }

    protected override BlockDevice CreateDevice(TempDir dir, long length)
    {
        string parent = dir.File("parent.vhd");
        using (var p = VhdFormat.Instance.Create(new ImageCreateRequest(parent, length, CreateOptions.Empty, ImageOpener.Default)))
        {
            var data = ParentPattern(length);
            p.Write(0, data);
            p.WriteZeroes(length / 3, Math.Min(70_000, length / 3));
        }
        return VhdFormat.Instance.Create(new ImageCreateRequest(dir.File("t.vhd"), length, CreateOptions.Empty, ImageOpener.Default) { BackingFile = "parent.vhd" });
    }

    protected override BlockDevice? Reopen(TempDir dir, bool writable)
        => ImageOpener.Default.Open(dir.File("t.vhd"), new ImageOpenOptions { Writable = writable });

    protected override IEnumerable<long> Boundaries(long length) => [512, 4096, 2L << 20];
}
