using Discemu.Acquisition;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Discemu.Tests.Acquisition;

/// <summary>The block list against a byte-per-byte model.</summary>
public sealed class RescueMapTests
{
    private static readonly RescueBlockStatus[] States =
        [RescueBlockStatus.NonTried, RescueBlockStatus.NonTrimmed, RescueBlockStatus.NonScraped, RescueBlockStatus.BadSector, RescueBlockStatus.Finished];

    [Property(MaxTest = 200)]
    public Property SetKeepsTheListMinimalAndEqualToTheModel(PositiveInt sizeSeed, int[] ops)
    {
        int size = sizeSeed.Get % 300 + 1;
        var map = new RescueMap(size);
        var model = Enumerable.Repeat(RescueBlockStatus.NonTried, size).ToArray();
        var rng = new Random(ops.Length ^ size);
        foreach (int op in ops)
        {
            int offset = Math.Abs(op % size);
            int length = rng.Next(0, size - offset + 1);
            var status = States[Math.Abs(op / 7 % States.Length)];
            map.Set(offset, length, status);
            Array.Fill(model, status, offset, length);
        }
        var expanded = new RescueBlockStatus[size];
        long pos = 0;
        bool minimal = true;
        for (int i = 0; i < map.Blocks.Count; i++)
        {
            var b = map.Blocks[i];
            if (b.Offset != pos || b.Length <= 0) return false.Label($"block {i} at {b.Offset}+{b.Length}, expected to start at {pos}");
            if (i > 0 && map.Blocks[i - 1].Status == b.Status) minimal = false;
            Array.Fill(expanded, b.Status, (int)b.Offset, (int)b.Length);
            pos = b.End;
        }
        bool totals = States.All(s => map.TotalOf(s) == model.Count(m => m == s));
        int Runs(RescueBlockStatus s) => Enumerable.Range(0, size).Count(i => model[i] == s && (i == 0 || model[i - 1] != s));
        bool areas = States.All(s => map.AreasOf(s) == Runs(s));
        return (pos == size && minimal && expanded.SequenceEqual(model) && totals && areas).Label($"size {size}, {ops.Length} ops");
    }

    [Fact]
    public void NextFindsBlocksInBothDirections()
    {
        var map = new RescueMap(100, RescueBlockStatus.Finished);
        map.Set(10, 10, RescueBlockStatus.NonTried);
        map.Set(50, 5, RescueBlockStatus.NonTried);
        Assert.Equal((10L, 20L), map.Next(0, RescueBlockStatus.NonTried, true));
        Assert.Equal((15L, 20L), map.Next(15, RescueBlockStatus.NonTried, true));
        Assert.Equal((50L, 55L), map.Next(20, RescueBlockStatus.NonTried, true));
        Assert.Null(map.Next(55, RescueBlockStatus.NonTried, true));
        Assert.Equal((50L, 55L), map.Next(100, RescueBlockStatus.NonTried, false));
        Assert.Equal((50L, 52L), map.Next(52, RescueBlockStatus.NonTried, false));
        Assert.Equal((10L, 20L), map.Next(50, RescueBlockStatus.NonTried, false));
        Assert.Null(map.Next(10, RescueBlockStatus.NonTried, false));
    }

    [Fact]
    public void JoinSubsectorsGivesAPartialSectorItsLeastProcessedState()
    {
        var map = RescueMap.FromBlocks([
            new(0, 700, RescueBlockStatus.Finished),
            new(700, 100, RescueBlockStatus.BadSector),
            new(800, 300, RescueBlockStatus.NonTrimmed),
            new(1100, 400, RescueBlockStatus.Finished),
        ]);
        map.JoinSubsectors(512);
        // Sector 1 holds finished, bad and non-trimmed parts; the last (short) sector non-trimmed and finished ones.
        Assert.Equal([new(0, 512, RescueBlockStatus.Finished), new(512, 988, RescueBlockStatus.NonTrimmed)], map.Blocks);
        Assert.Equal(1500, map.Size);
    }

    [Fact]
    public void FromBlocksRejectsGapsAndOverlaps()
    {
        Assert.Throws<ArgumentException>(() => RescueMap.FromBlocks([new(0, 10, RescueBlockStatus.Finished), new(11, 5, RescueBlockStatus.BadSector)]));
        Assert.Throws<ArgumentException>(() => RescueMap.FromBlocks([new(0, 10, RescueBlockStatus.Finished), new(9, 5, RescueBlockStatus.BadSector)]));
        Assert.Throws<ArgumentException>(() => RescueMap.FromBlocks([new(0, 0, RescueBlockStatus.Finished)]));
        Assert.Throws<ArgumentException>(() => RescueMap.FromBlocks([new(0, 4, (RescueBlockStatus)'x')]));
    }
}
