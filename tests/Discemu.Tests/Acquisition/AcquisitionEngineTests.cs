using Discemu.Acquisition;
using static Discemu.Tests.Acquisition.AcquisitionTestKit;

namespace Discemu.Tests.Acquisition;

/// <summary>The rescue algorithm against a simulated failing disk.</summary>
public sealed class AcquisitionEngineTests
{
    private const int Size = 8 << 20;
    private const int Sector = 512;

    private static readonly AcquisitionOptions Defaults = new() { Hashes = [AcquisitionHashAlgorithm.Md5, AcquisitionHashAlgorithm.Sha256] };

    /// <summary>Bad ranges of every shape: at the start, inside and across clusters, a large area, at the very end.</summary>
    private static FaultyDevice Damaged(int seed = 1) => FaultyDevice.Random(Size, seed)
        .Bad(0, 512)
        .Bad(100_000, 3)
        .Bad(3 * 65536 - 1024, 2048)
        .Bad(2 << 20, 1 << 20)
        .Bad(5_000_000, 70_000)
        .Bad(Size - 1536, 1536);

    [Fact]
    public void HealthySourceIsCopiedInOnePassAndHashedWhileReading()
    {
        var source = FaultyDevice.Random(Size);
        var target = new MemoryTarget(Size);
        var result = Run(source, target, Defaults);
        Assert.Equal(source.Content, target.Bytes());
        Assert.True(result.Map.IsComplete);
        Assert.Equal(Md5(source.Content), result.Hashes["md5"]);
        Assert.Equal(Sha256(source.Content), result.Hashes["sha256"]);
        Assert.Equal(Size, result.HashedWhileReading);
        Assert.Equal(Size / AcquisitionOptions.DefaultClusterBytes, source.Reads.Count);
        Assert.Equal(0, result.ReadErrors);
    }

    [Fact]
    public void BadRangesAreRecordedExactlyAndEverythingElseIsRecovered()
    {
        var source = Damaged();
        var target = new MemoryTarget(Size);
        var result = Run(source, target, Defaults);

        var expected = source.Expected(Sector);
        Assert.Equal(expected, target.Bytes());
        Assert.Equal(source.BadSectors(Sector), Unfinished(result.Map));
        Assert.All(result.UnrecoveredRanges, b => Assert.Equal(RescueBlockStatus.BadSector, b.Status));
        Assert.Equal(Md5(expected), result.Hashes["md5"]);
        Assert.Equal(Sha256(expected), result.Hashes["sha256"]);
        // The first cluster fails: nothing could be hashed in order while reading.
        Assert.Equal(0, result.HashedWhileReading);
    }

    [Fact]
    public void EverySectorIsTriedAtMostTwiceAndFinishedDataIsNeverReadAgain()
    {
        var source = Damaged();
        var result = Run(source, new MemoryTarget(Size), Defaults);
        var tries = new Dictionary<long, int>();
        var good = new HashSet<long>();
        foreach (var (offset, length, ok) in source.Reads)
        {
            for (long s = offset / Sector; s < (offset + length + Sector - 1) / Sector; s++)
            {
                tries[s] = tries.GetValueOrDefault(s) + 1;
                if (ok) Assert.True(good.Add(s), $"sector {s} was read again after a good read");
            }
        }
        Assert.All(tries, kv => Assert.InRange(kv.Value, 1, 2));
        Assert.Equal(source.BadSectors(Sector).Sum(r => r.End - r.Start), result.Unrecovered);
    }

    [Fact]
    public void SkippingReadsTheGoodAreaBehindALargeBadAreaBeforeSweepingIt()
    {
        // A 1 MiB bad area (16 clusters): pass 1 hits it a few times while skipping ahead exponentially,
        // reaches the end of the disk, and only the later passes go through the rest of it.
        long bad = 2 << 20;
        var source = FaultyDevice.Random(Size).Bad(bad, 1 << 20);
        Run(source, new MemoryTarget(Size), Defaults);
        var reads = source.Reads;
        int end = reads.ToList().FindIndex(r => r.Offset == Size - 65536);
        int failedBeforeEnd = reads.Take(end).Count(r => !r.Ok);
        int failedLarge = reads.Count(r => !r.Ok && r.Length > Sector);
        Assert.InRange(failedBeforeEnd, 1, 9);
        Assert.True(failedLarge >= 16, $"{failedLarge} failed large reads");
    }

    [Fact]
    public void ReverseRunsFromTheEndAndGivesTheSameImage()
    {
        var source = Damaged();
        var target = new MemoryTarget(Size);
        var result = Run(source, target, Defaults with { Reverse = true });
        Assert.Equal(source.Expected(Sector), target.Bytes());
        Assert.Equal(source.BadSectors(Sector), Unfinished(result.Map));
        Assert.Equal(Size - AcquisitionOptions.DefaultClusterBytes, source.Reads[0].Offset);
        Assert.Equal(0, result.HashedWhileReading);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(8)]
    [InlineData(2048)]
    public void ClusterSizeSetsTheReadSizeOfTheCopyingPass(int sectors)
    {
        var source = Damaged();
        var target = new MemoryTarget(Size);
        var result = Run(source, target, Defaults with { ClusterSectors = sectors });
        Assert.Equal(source.Expected(Sector), target.Bytes());
        Assert.Equal(sectors * Sector, source.Reads.Max(r => r.Length));
        Assert.Equal(source.BadSectors(Sector), Unfinished(result.Map));
    }

    [Fact]
    public void FourKibSectors()
    {
        var source = Damaged();
        var target = new MemoryTarget(Size);
        var result = Run(source, target, Defaults with { SectorSize = 4096 });
        Assert.Equal(source.Expected(4096), target.Bytes());
        Assert.Equal(source.BadSectors(4096), Unfinished(result.Map));
        Assert.All(source.Reads, r => Assert.Equal(0, r.Offset % 4096));
    }

    [Fact]
    public void RetriesRecoverSectorsThatFailOnlyAFewTimes()
    {
        // A flaky range fails its first two reads: the copying read and the trimming read; retry pass 1 reads it.
        long flaky1 = (1 << 20) + 1536, flaky2 = (6 << 20) + 4096, bad = (4 << 20) + 512;
        FaultyDevice Make() => FaultyDevice.Random(Size, 3).Flaky(flaky1, 512, 2).Flaky(flaky2, 1024, 2).Bad(bad, 512);
        var without = Make();
        var r0 = Run(without, new MemoryTarget(Size), Defaults);
        // The second sector of flaky2 is read by the backward trim after the first one used up the failures.
        Assert.Equal([(flaky1, flaky1 + 512), (bad, bad + 512), (flaky2, flaky2 + 512)], Unfinished(r0.Map));

        var with = Make();
        var target = new MemoryTarget(Size);
        var r1 = Run(with, target, Defaults with { RetryPasses = 1 });
        Assert.Equal([(bad, bad + 512)], Unfinished(r1.Map));
        Assert.Equal(with.Expected(Sector), target.Bytes());
    }

    [Fact]
    public void RetryPassesAlternateDirection()
    {
        var source = FaultyDevice.Random(Size).Bad(1 << 20, 1024).Bad(6 << 20, 1024);
        Run(source, new MemoryTarget(Size), Defaults with { RetryPasses = 2 });
        // The last reads are the two retry passes over the four bad sectors: forwards, then backwards.
        var last = source.Reads.TakeLast(8).Select(r => r.Offset).ToList();
        long a = 1 << 20, b = 6 << 20;
        Assert.Equal([a, a + 512, b, b + 512, b + 512, b, a + 512, a], last);
    }

    [Fact]
    public void SlowAreasAreSkippedAndReadInALaterPass()
    {
        // 1 MiB at 1 MB/s (simulated): pass 1 skips ahead after the first slow read; the area is finished later.
        long slowStart = 3 << 20;
        var source = FaultyDevice.Random(Size).Slow(slowStart, 1 << 20, 1e6);
        var target = new MemoryTarget(Size);
        var result = Run(source, target, Defaults with { MinReadRate = 10_000_000 });
        Assert.Equal(source.Content, target.Bytes());
        Assert.True(result.SlowReads > 0);
        var reads = source.Reads.Select(r => r.Offset).ToList();
        int firstSlow = reads.IndexOf(slowStart);
        Assert.True(firstSlow > 0);
        // Right after the first slow read, pass 1 jumped past the skip size instead of reading on.
        Assert.True(reads[firstSlow + 1] >= slowStart + 65536 * 2, $"read {reads[firstSlow + 1]} follows the slow read");
        // The end of the disk was reached before the slow area was finished.
        int lastCluster = reads.IndexOf(Size - 65536);
        Assert.Contains(reads.Skip(lastCluster), o => o > slowStart && o < slowStart + (1 << 20));
        Assert.Equal(Md5(source.Content), result.Hashes["md5"]);
    }

    [Fact]
    public void ReadTimeoutCountsAsASlowArea()
    {
        var source = FaultyDevice.Random(Size).Slow(1 << 20, 65536, 10_000);
        var result = Run(source, new MemoryTarget(Size), Defaults with { ReadTimeout = TimeSpan.FromSeconds(1) });
        Assert.Equal(1, result.SlowReads);
        Assert.True(result.Map.IsComplete);
    }

    [Fact]
    public void AutomaticMinimumRateFlagsReadsFarBelowTheAverage()
    {
        // 2 MB/s on average (simulated), one cluster at 20 kB/s: below a tenth of the average once a second has passed.
        var source = FaultyDevice.Random(Size).Slow(6 << 20, 65536, 20_000);
        source.FastRate = 2e6;
        var result = Run(source, new MemoryTarget(Size), Defaults with { MinReadRate = 0 });
        Assert.True(result.Map.IsComplete);
        Assert.Equal(1, result.SlowReads);
    }

    [Fact]
    public void FillPatternIsWrittenOverBadSectorsAlignedToTheMedia()
    {
        byte[] fill = [0xDE, 0xAD, 0xBE, 0xEF, 0x01];
        var source = Damaged();
        var target = new MemoryTarget(Size);
        var result = Run(source, target, Defaults with { Fill = fill });
        var expected = source.Expected(Sector, fill);
        Assert.Equal(expected, target.Bytes());
        Assert.Equal(Md5(expected), result.Hashes["md5"]);
    }

    [Fact]
    public void NoTrimAndNoScrapeLeaveTheirStatesInTheMap()
    {
        var source = FaultyDevice.Random(Size).Bad(1 << 20, 512);
        var noTrim = Run(source, new MemoryTarget(Size), Defaults with { NoTrim = true });
        Assert.Equal(RescueBlockStatus.NonTrimmed, Assert.Single(noTrim.UnrecoveredRanges).Status);
        var noScrape = Run(FaultyDevice.Random(Size).Bad(1 << 20, 512).Bad((1 << 20) + 8192, 512), new MemoryTarget(Size), Defaults with { NoScrape = true });
        Assert.Contains(noScrape.UnrecoveredRanges, b => b.Status == RescueBlockStatus.NonScraped);
    }

    [Fact]
    public void SizeThatIsNotAWholeNumberOfSectors()
    {
        var content = new byte[1_000_003];
        new Random(5).NextBytes(content);
        var source = new FaultyDevice(content).Bad(999_999, 4).Bad(1000, 10);
        var target = new MemoryTarget(content.Length);
        var result = Run(source, target, Defaults);
        Assert.Equal(source.Expected(Sector), target.Bytes());
        Assert.Equal(source.BadSectors(Sector), Unfinished(result.Map));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ZeroRunsBecomeWriteZeroesOverWhateverTheDestinationHeld(bool sparse)
    {
        var content = new byte[Size];
        new Random(12).NextBytes(content);
        Array.Clear(content, 1 << 20, 3 << 20);          // a long zero run
        Array.Clear(content, (6 << 20) + 100, 30_000);   // too short to become a hole
        var source = new FaultyDevice(content);
        var target = new MemoryTarget(Size);
        target.Device.Write(0, Enumerable.Repeat((byte)0xEE, Size).ToArray());
        var result = Run(source, target, Defaults with { Sparse = sparse });
        Assert.Equal(content, target.Bytes());
        Assert.Equal(Md5(content), result.Hashes["md5"]);
        // A hole in the memory device frees its 64 KiB chunks: at least 3 MiB less is allocated when sparse.
        long allocated = target.Device.AllocatedBytes;
        if (sparse) Assert.True(allocated <= Size - (3 << 20), $"{allocated} bytes allocated");
        else Assert.Equal(Size, allocated);
    }

    [Fact]
    public void EmptySource()
    {
        var source = new FaultyDevice([]);
        var result = Run(source, new MemoryTarget(0), Defaults);
        Assert.Equal(Md5([]), result.Hashes["md5"]);
        Assert.Empty(source.Reads);
    }
}
