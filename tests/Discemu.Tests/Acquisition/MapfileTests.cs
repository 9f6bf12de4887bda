using Discemu.Acquisition;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Acquisition;

/// <summary>GNU ddrescue's mapfile format: parsing (the manual's example, number syntaxes, comments) and writing.</summary>
public sealed class MapfileTests
{
    /// <summary>The example of the manual's "Mapfile structure" chapter.</summary>
    private const string ManualExample = """
        # Mapfile. Created by GNU ddrescue version 1.27
        # Command line: ddrescue -d -c18 /dev/fd0 fdimage mapfile
        # Start time:   2015-07-21 09:37:44
        # Current time: 2015-07-21 09:38:19
        # Copying non-tried blocks... Pass 1 (forwards)
        # current_pos  current_status  current_pass
        0x00120000     ?               1
        #      pos        size  status
        0x00000000  0x00117000  +
        0x00117000  0x00000200  -
        0x00117200  0x00001000  /
        0x00118200  0x00007E00  *
        0x00120000  0x00048000  ?
        """;

    [Fact]
    public void ParsesTheManualsExample()
    {
        var state = Mapfile.Parse(ManualExample);
        Assert.Equal(0x120000, state.CurrentPosition);
        Assert.Equal(RescuePhase.Copying, state.Phase);
        Assert.Equal(1, state.Pass);
        Assert.Equal(0x168000, state.Map.Size);
        Assert.Equal(
            [
                new RescueBlock(0, 0x117000, RescueBlockStatus.Finished),
                new RescueBlock(0x117000, 0x200, RescueBlockStatus.BadSector),
                new RescueBlock(0x117200, 0x1000, RescueBlockStatus.NonScraped),
                new RescueBlock(0x118200, 0x7E00, RescueBlockStatus.NonTrimmed),
                new RescueBlock(0x120000, 0x48000, RescueBlockStatus.NonTried),
            ],
            state.Map.Blocks);
    }

    [Fact]
    public void FormatsLikeDdrescueAndReadsItBack()
    {
        var state = Mapfile.Parse(ManualExample);
        var header = new MapfileHeader("discemu", "1.2.3", "discemu acquire /dev/sdb disk.raw", new DateTimeOffset(2015, 7, 21, 9, 37, 44, TimeSpan.Zero));
        string text = Mapfile.Format(state, header, new DateTimeOffset(2015, 7, 21, 9, 38, 19, TimeSpan.Zero), Mapfile.Describe(state.Phase, state.Pass, true));
        Assert.Equal("""
            # Mapfile. Created by discemu version 1.2.3
            # Command line: discemu acquire /dev/sdb disk.raw
            # Start time:   2015-07-21 09:37:44
            # Current time: 2015-07-21 09:38:19
            # Copying non-tried blocks... Pass 1 (forwards)
            # current_pos  current_status  current_pass
            0x00120000     ?               1
            #      pos        size  status
            0x00000000  0x00117000  +
            0x00117000  0x00000200  -
            0x00117200  0x00001000  /
            0x00118200  0x00007E00  *
            0x00120000  0x00048000  ?

            """.ReplaceLineEndings("\n"), text);
        var again = Mapfile.Parse(text);
        Assert.Equal(state.Map.Blocks, again.Map.Blocks);
        Assert.Equal(state.CurrentPosition, again.CurrentPosition);
    }

    [Fact]
    public void AcceptsDecimalOctalHexCommentsAndOldStatusLines()
    {
        var state = Mapfile.Parse("""
            # comment
            1024 *   # a status line without the pass (ddrescue before 1.20)
            0 512 +
            01000   0x200 -#not a comment start: part of nothing
            """.Replace("-#not a comment start: part of nothing", "- # trailing comment", StringComparison.Ordinal));
        Assert.Equal(RescuePhase.Trimming, state.Phase);
        Assert.Equal(1, state.Pass);
        Assert.Equal([new RescueBlock(0, 512, RescueBlockStatus.Finished), new RescueBlock(512, 512, RescueBlockStatus.BadSector)], state.Map.Blocks);
    }

    [Fact]
    public void AMapStartingAfterZeroGetsANonTriedBlockInFront()
    {
        var state = Mapfile.Parse("0 ? 1\n4096 512 +\n");
        Assert.Equal([new RescueBlock(0, 4096, RescueBlockStatus.NonTried), new RescueBlock(4096, 512, RescueBlockStatus.Finished)], state.Map.Blocks);
    }

    [Theory]
    [InlineData("")]
    [InlineData("# only comments\n")]
    [InlineData("0x10 X 1\n")]
    [InlineData("0 ? 0\n")]
    [InlineData("0 ? 1 extra\n")]
    [InlineData("0 ? 1\n0 512 +\n1024 512 -\n")]
    [InlineData("0 ? 1\n0 512 +\n256 512 -\n")]
    [InlineData("0 ? 1\n0 0 +\n")]
    [InlineData("0 ? 1\n0 512 x\n")]
    [InlineData("0 ? 1\n0 512\n")]
    [InlineData("0 ? 1\n0 0x +\n")]
    [InlineData("0 ? 1\n0 09 +\n")]
    [InlineData("0 ? 1\n0 0x8000000000000000 +\n")]
    [InlineData("0 ? 1\n0 0x7FFFFFFFFFFFFFFF +\n1 1 +\n")]
    [InlineData("-1 ? 1\n")]
    public void RejectsInvalidMapfiles(string text)
        => Assert.Throws<CorruptImageException>(() => Mapfile.Parse(text, "bad.map"));

    [Fact]
    public void SaveReplacesTheFileAtomically()
    {
        using var dir = new TempDir();
        string path = dir.File("x.map");
        Mapfile.Save(path, "0 ? 1\n0 10 ?\n");
        Mapfile.Save(path, "0 + 1\n0 10 +\n", flushToDisk: false);
        Assert.Equal(RescueBlockStatus.Finished, Mapfile.Load(path).Map.Blocks[0].Status);
        Assert.False(File.Exists(path + ".tmp"));
        Assert.Throws<ImageAccessException>(() => Mapfile.Load(dir.File("missing.map")));
    }
}
