using Discemu.Acquisition;
using Discemu.Tests.Infrastructure;
using static Discemu.Tests.Acquisition.AcquisitionTestKit;

namespace Discemu.Tests.Acquisition;

/// <summary>
/// Interrupting a rescue at arbitrary points and resuming it from its mapfile: the resumed run never reads
/// an area the saved mapfile marks finished, and the final image, bad-sector list and hashes are those of an
/// uninterrupted run.
/// </summary>
public sealed class ResumeTests
{
    private const int Size = 4 << 20;
    private const int Sector = 512;

    private static FaultyDevice Damaged() => FaultyDevice.Random(Size, 9)
        .Bad(700_000, 20_000)
        .Bad(1 << 20, 100_000)
        .Bad(3_000_000, 512)
        .Bad(Size - 4096, 100)
        .Flaky(2_000_000, 512, 3)
        .Slow(2_500_000, 200_000, 2e6);

    private static AcquisitionOptions Options(string map) => new()
    {
        Hashes = [AcquisitionHashAlgorithm.Md5, AcquisitionHashAlgorithm.Sha1],
        RetryPasses = 2,
        MinReadRate = 50_000_000,
        MapfilePath = map,
        MapfileHeader = new MapfileHeader("discemu", "test", "acquire test", DateTimeOffset.UnixEpoch),
        SyncInterval = null,
    };

    [Fact]
    public void InterruptedAtRandomPointsResumesWithoutRereadingFinishedAreas()
    {
        using var dir = new TempDir();
        // The reference: one uninterrupted run.
        var reference = Damaged();
        var refTarget = new MemoryTarget(Size);
        var full = Run(reference, refTarget, Options(dir.File("ref.map")));
        int totalReads = reference.Reads.Count;
        Assert.True(totalReads > 100);

        var rng = new Random(1234);
        for (int trial = 0; trial < 4; trial++)
        {
            string map = dir.File($"trial{trial}.map");
            var source = Damaged();
            var target = new MemoryTarget(Size);
            MapfileState? resume = null;
            AcquisitionResult? result = null;
            int interruptions = 0;
            while (result is null)
            {
                // Stop after a random number of reads, three times; the fourth run goes to the end.
                int stopAfter = interruptions < 3 ? rng.Next(1, totalReads / 2) : int.MaxValue;
                using var cts = new CancellationTokenSource();
                source.ClearReads();
                source.AfterRead = n => { if (n == stopAfter) cts.Cancel(); };
                try
                {
                    result = Run(source, target, Options(map) with { CancellationToken = cts.Token }, resume);
                }
                catch (AcquisitionInterruptedException e)
                {
                    interruptions++;
                    Assert.True(e.Partial.Reads >= stopAfter);
                }
                if (resume is not null) AssertNoFinishedAreaRead(resume.Map, source.Reads, $"trial {trial}, run {interruptions}");
                resume = Mapfile.Load(map);
            }
            Assert.True(interruptions > 0);
            Assert.Equal(refTarget.Bytes(), target.Bytes());
            Assert.Equal(Unfinished(full.Map), Unfinished(result.Map));
            Assert.Equal(full.Hashes, result.Hashes);
            Assert.Equal(RescuePhase.Finished, Mapfile.Load(map).Phase);
        }
    }

    [Fact]
    public void TheMapfileOnDiskNeverClaimsMoreThanTheDestinationHolds()
    {
        // Every save (here: one per read) must describe only data already written to the destination.
        using var dir = new TempDir();
        string map = dir.File("live.map");
        var source = Damaged();
        var target = new MemoryTarget(Size);
        int checks = 0;
        source.AfterRead = n =>
        {
            if (n % 20 != 0 || !File.Exists(map)) return;
            var state = Mapfile.Load(map);
            foreach (var b in state.Map.Blocks.Where(b => b.Status == RescueBlockStatus.Finished))
            {
                var data = new byte[b.Length];
                target.Device.Read(b.Offset, data);
                Assert.True(data.AsSpan().SequenceEqual(source.Content.AsSpan((int)b.Offset, (int)b.Length)), $"finished block {b.Offset}+{b.Length} is not in the destination");
            }
            checks++;
        };
        Run(source, target, Options(map) with { MapfileInterval = TimeSpan.Zero });
        Assert.True(checks > 10, $"only {checks} checks");
    }

    [Fact]
    public void ResumingAFinishedMapReadsNothingButRetriesBadSectorsWhenAsked()
    {
        using var dir = new TempDir();
        string map = dir.File("done.map");
        var source = Damaged();
        var target = new MemoryTarget(Size);
        var first = Run(source, target, Options(map) with { RetryPasses = 0 });
        source.ClearReads();
        var again = Run(source, target, Options(map) with { RetryPasses = 0 }, Mapfile.Load(map));
        Assert.Empty(source.Reads);
        Assert.Equal(first.Hashes, again.Hashes);
        Assert.Equal(0, again.HashedWhileReading);

        source.ClearReads();
        var retried = Run(source, target, Options(map) with { RetryPasses = 1 }, Mapfile.Load(map));
        Assert.All(source.Reads, r => Assert.Equal(Sector, r.Length));
        Assert.Equal(first.Map.TotalOf(RescueBlockStatus.BadSector) / Sector, source.Reads.Count);
        Assert.Equal(Md5(target.Bytes()), retried.Hashes["md5"]);
    }

    [Fact]
    public void ResumeRejectsAMapLargerThanTheSource()
    {
        var source = FaultyDevice.Random(4096);
        var big = new MapfileState(new RescueMap(8192), 0, RescuePhase.Copying, 1);
        Assert.Throws<BadArgumentException>(() => Run(source, new MemoryTarget(4096), new AcquisitionOptions(), big));
    }

    [Fact]
    public void ResumeExtendsASmallerMapWithNonTriedSpace()
    {
        var source = FaultyDevice.Random(1 << 20);
        var target = new MemoryTarget(1 << 20);
        var half = new RescueMap(1 << 19, RescueBlockStatus.Finished);
        source.Content.AsSpan(0, 1 << 19).CopyTo(new byte[1 << 19]);
        target.Device.Write(0, source.Content.AsSpan(0, 1 << 19));
        var result = Run(source, target, new AcquisitionOptions(), new MapfileState(half, 1 << 19, RescuePhase.Copying, 1));
        Assert.True(result.Map.IsComplete);
        Assert.All(source.Reads, r => Assert.True(r.Offset >= 1 << 19));
        Assert.Equal(source.Content, target.Bytes());
    }
}
