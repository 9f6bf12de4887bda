using System.Buffers.Binary;
using Discemu.Formats;
using Discemu.Tests.Cli;
using Discemu.Tests.Infrastructure;
using static Discemu.Tests.Formats.Vmdk.VmdkTestKit;

namespace Discemu.Tests.Formats.Vmdk;

/// <summary><c>check</c> on damaged sparse extents: what qemu-img check finds, and more (overlaps, redundant tables).</summary>
public sealed class VmdkCheckTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A 10 MiB monolithicSparse image (qemu-img's layout: GD at sector 26, its table at 27; RGD at 21, table at 22) with data in the first grains.</summary>
    private string MakeImage()
    {
        string src = MixedSource(_dir, "src.raw", 10L << 20, seed: 2);
        string image = _dir.File("c.vmdk");
        Convert(src, image, "");
        return image;
    }

    private static void Patch(string path, long offset, uint value)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        fs.Position = offset;
        fs.Write(b);
    }

    private static uint Read32(string path, long offset)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read);
        var b = new byte[4];
        fs.Position = offset;
        fs.ReadExactly(b);
        return BinaryPrimitives.ReadUInt32LittleEndian(b);
    }

    private static ImageCheckResult Check(string path, CheckRepair repair = CheckRepair.None)
    {
        using var image = Open(path, writable: repair != CheckRepair.None, openBacking: false);
        return ((ICheckableImage)image).Check(repair);
    }

    [Fact]
    public void AGrainPastTheEndOfTheFileIsReportedAsQemuReportsIt()
    {
        PeerTools.Require("qemu-img");
        string image = MakeImage();
        Patch(image, 27 * 512 + 4, 0xFFFF);
        var (code, _, stderr) = PeerTools.Run("qemu-img", ["check", image]);
        Assert.NotEqual(0, code);
        Assert.Contains("ERROR: cluster offset for sector 128 points after EOF", stderr);
        var result = Check(image);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("ERROR: cluster offset for sector 128 points after EOF", result.Messages);
        var cli = CliHarness.Run("check", image);
        Assert.Equal(2, cli.Code);
        Assert.Contains("points after EOF", cli.Err);
        // Repair drops the entry (and mends the redundant copy, which still has the good offset).
        var repaired = Check(image, CheckRepair.All);
        Assert.True(repaired.CorruptionsFixed > 0);
        Assert.Equal(0, Check(image).ExitCode);
        Assert.Equal(0u, Read32(image, 27 * 512 + 4));
        Assert.Equal(0u, Read32(image, 22 * 512 + 4));
        AssertQemuCheckClean(image);
    }

    [Fact]
    public void ARedundantTableThatDiffersIsFoundAndRewritten()
    {
        PeerTools.Require("qemu-img");
        string image = MakeImage();
        Patch(image, 22 * 512 + 8, 0);
        var result = Check(image);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(result.Messages, m => m.Contains("redundant copy differ in 1 entries", StringComparison.Ordinal));
        Check(image, CheckRepair.All);
        Assert.Equal(0, Check(image).ExitCode);
        Assert.Equal(Read32(image, 27 * 512 + 8), Read32(image, 22 * 512 + 8));
        AssertQemuCheckClean(image);
    }

    [Fact]
    public void TwoEntriesSharingAGrainAreAnOverlap()
    {
        string image = MakeImage();
        Patch(image, 27 * 512 + 8, Read32(image, 27 * 512 + 4));
        Patch(image, 22 * 512 + 8, Read32(image, 22 * 512 + 4));
        var result = Check(image);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(result.Messages, m => m.Contains("overlaps other data", StringComparison.Ordinal));
    }

    [Fact]
    public void AGrainInsideTheMetadataIsAnOverlap()
    {
        string image = MakeImage();
        Patch(image, 27 * 512, 1); // a grain "at" sector 1: the descriptor
        Patch(image, 22 * 512, 1);
        var result = Check(image);
        Assert.Contains(result.Messages, m => m.Contains("overlaps other data", StringComparison.Ordinal));
    }

    [Fact]
    public void DirectoriesThatDisagreeAreReported()
    {
        string image = MakeImage();
        Patch(image, 21 * 512, 0);
        var result = Check(image);
        Assert.Contains(result.Messages, m => m.Contains("grain directory entry 0 and its redundant copy disagree", StringComparison.Ordinal));
    }

    [Fact]
    public void ACleanImageChecksCleanLikeQemuSays()
    {
        string image = MakeImage();
        var cli = CliHarness.Run("check", image);
        Assert.Equal(0, cli.Code);
        Assert.Equal("No errors were found on the image.\n", cli.Out);
        var json = CliHarness.Run("check", "--output", "json", image);
        Assert.Contains("\"check-errors\": 0", json.Out);
    }

    [Fact]
    public void AFlatExtentShorterThanItsLineIsReported()
    {
        string image = _dir.File("f.vmdk");
        using (Create(image, 2 << 20, "subformat=monolithicFlat")) { }
        using (var fs = new FileStream(_dir.File("f-flat.vmdk"), FileMode.Open, FileAccess.Write)) fs.SetLength(1 << 20);
        var result = Check(image);
        Assert.Equal(2, result.ExitCode);
        using var back = Open(image);
        Assert.True(ReadAll(back).AsSpan(1 << 20).IndexOfAnyExcept((byte)0) < 0);
    }
}
