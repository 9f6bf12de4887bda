using System.Text.Json;
using Discemu.Acquisition;
using Discemu.Tests.Infrastructure;
using static Discemu.Tests.Acquisition.AcquisitionTestKit;

namespace Discemu.Tests.Acquisition;

/// <summary>The forensic sequential mode, as an E01 writer receives it: media order, fill, error list, hashes.</summary>
public sealed class SequentialModeTests
{
    private const int Size = 4 << 20;

    /// <summary>A sequential destination that records what it is given, like the E01 writer's contract.</summary>
    private sealed class RecordingSink(long length) : SequentialSink
    {
        public MemoryStream Data { get; } = new();
        public List<(long Offset, long Length)> Errors { get; } = [];
        public IReadOnlyDictionary<string, string>? Completed { get; private set; }
        public int Appends { get; private set; }

        public override string Path => "evidence.E01";
        public override string FormatName => "ewf";
        public override long Length => length;

        public override void Append(ReadOnlySpan<byte> data)
        {
            Assert.Null(Completed);
            Data.Write(data);
            Appends++;
        }

        public override void AddError(long offset, long length)
        {
            Assert.True(offset + length <= Data.Length, "an error was reported before its fill bytes were appended");
            Errors.Add((offset, length));
        }

        public override void Complete(IReadOnlyDictionary<string, string> hashes) => Completed = hashes;
    }

    private static FaultyDevice Damaged() => FaultyDevice.Random(Size, 4)
        .Bad(0, 100)
        .Bad(1_000_000, 5000)
        .Bad(3 << 20, 64 << 10)
        .Flaky(2_000_000, 512, 2)
        .Bad(Size - 1, 1);

    [Fact]
    public void SequentialSinkGetsEveryByteInOrderWithFillAndMergedErrors()
    {
        var source = Damaged();
        var sink = new RecordingSink(Size);
        var result = AcquisitionEngine.Run(source, sink, new AcquisitionOptions { Hashes = [AcquisitionHashAlgorithm.Md5, AcquisitionHashAlgorithm.Sha1], RetryPasses = 0 });
        var expected = source.Expected(512);
        // The flaky range failed in the cluster read and in the read of its first sector (filled); its second sector read.
        Array.Clear(expected, 2_000_000 / 512 * 512, 512);
        Assert.Equal(expected, sink.Data.ToArray());
        Assert.Equal([(0L, 512L), (999_936L, 5120L), (1_999_872L, 512L), (3L << 20, 64L << 10), (Size - 512L, 512L)], sink.Errors);
        Assert.Equal(sink.Errors.Select(e => (e.Offset, e.Offset + e.Length)), Unfinished(result.Map));
        Assert.Equal(Md5(expected), sink.Completed!["md5"]);
        Assert.Equal(result.Hashes, sink.Completed);
        Assert.Equal(Size, result.HashedWhileReading);
        Assert.True(result.Sequential);
    }

    [Fact]
    public void ReadsOnlyGoForwardAndRetriesAreSpentPerSector()
    {
        var source = Damaged();
        var sink = new RecordingSink(Size);
        var result = AcquisitionEngine.Run(source, sink, new AcquisitionOptions { RetryPasses = 2 });
        var reads = source.Reads;
        for (int i = 1; i < reads.Count; i++) Assert.True(reads[i].Offset >= reads[i - 1].Offset, $"read {i} went backwards");
        // The flaky sectors (two failures) are read on the third try; each bad sector is tried 1 + 2 times.
        Assert.DoesNotContain(result.UnrecoveredRanges, b => b.Offset <= 2_000_000 && b.End > 2_000_000);
        Assert.Equal(3, reads.Count(r => r.Offset == 999_936 && r.Length == 512));
    }

    [Fact]
    public void SequentialOptionWorksWithARandomAccessDestinationToo()
    {
        var source = Damaged();
        var target = new MemoryTarget(Size);
        var result = Run(source, target, new AcquisitionOptions { Sequential = true, Hashes = [AcquisitionHashAlgorithm.Sha256] });
        var expected = source.Expected(512);
        Array.Clear(expected, 2_000_000 / 512 * 512, 512);
        Assert.Equal(expected, target.Bytes());
        Assert.Equal(Sha256(expected), result.Hashes["sha256"]);
    }

    [Fact]
    public void ASequentialRunCannotResumeFromAMapWithProgress()
    {
        var map = new RescueMap(Size);
        map.Set(0, 65536, RescueBlockStatus.Finished);
        Assert.Throws<BadArgumentException>(() => AcquisitionEngine.Run(FaultyDevice.Random(Size), new RecordingSink(Size), new AcquisitionOptions(),
            new MapfileState(map, 65536, RescuePhase.Copying, 1)));
    }

    [Fact]
    public void CancellingStopsWithoutCompletingTheSink()
    {
        var source = FaultyDevice.Random(Size);
        var sink = new RecordingSink(Size);
        using var cts = new CancellationTokenSource();
        source.AfterRead = n => { if (n == 10) cts.Cancel(); };
        var e = Assert.Throws<AcquisitionInterruptedException>(() => AcquisitionEngine.Run(source, sink, new AcquisitionOptions { CancellationToken = cts.Token }));
        Assert.Null(sink.Completed);
        Assert.Equal(10 * 65536, e.Partial.Recovered);
    }

    /// <summary>A sequential format writing the media into a plain file, as a stand-in for the E01 writer.</summary>
    private sealed class FileSequentialSink(SinkRequest request) : SequentialSink
    {
        private readonly FileStream _file = new(request.Path, FileMode.CreateNew, FileAccess.Write);

        public static List<(long Offset, long Length)> LastErrors { get; } = [];

        public static IReadOnlyDictionary<string, string>? LastHashes { get; private set; }

        public override string Path => request.Path;
        public override string FormatName => "test-sequential";
        public override long Length => request.Size;
        public override void Append(ReadOnlySpan<byte> data) => _file.Write(data);
        public override void AddError(long offset, long length) => LastErrors.Add((offset, length));
        public override void Complete(IReadOnlyDictionary<string, string> hashes) => LastHashes = hashes;

        protected override void Dispose(bool disposing)
        {
            if (disposing) _file.Dispose();
        }
    }

    [Fact]
    public void ASequentialFormatPlugsInThroughTheSinkRegistry()
    {
        AcquisitionSinks.RegisterSequential("test-sequential", r => new FileSequentialSink(r));
        using var dir = new TempDir();
        string src = dir.File("src.raw");
        var bytes = new byte[3 << 20];
        new Random(8).NextBytes(bytes);
        File.WriteAllBytes(src, bytes);
        string dst = dir.File("evidence.seq");
        var report = AcquisitionJob.Run(new AcquisitionRequest
        {
            Source = src,
            Destination = dst,
            DestinationFormat = "test-sequential",
            Options = new AcquisitionOptions { Hashes = [AcquisitionHashAlgorithm.Md5] },
            Case = new CaseMetadata { Examiner = "E. Xaminer" },
        });
        Assert.Equal(AcquisitionStatus.Completed, report.Status);
        Assert.True(report.Options.Sequential);
        Assert.Equal(bytes, File.ReadAllBytes(dst));
        Assert.Equal(Md5(bytes), FileSequentialSink.LastHashes!["md5"]);
        using var log = JsonDocument.Parse(File.ReadAllText(dst + ".log.json"));
        Assert.Equal("sequential", log.RootElement.GetProperty("mode").GetString());
        Assert.Equal("test-sequential", log.RootElement.GetProperty("destination").GetProperty("format").GetString());

        // A sequential destination is never reopened: with the mapfile of a run that had progress, the job refuses.
        var map = Mapfile.Load(dst + ".map");
        map.Map.Set(0, 1 << 20, RescueBlockStatus.NonTried);
        Mapfile.Save(dst + ".map", Mapfile.Format(map, new MapfileHeader("t", "1", "x", DateTimeOffset.UtcNow), DateTimeOffset.UtcNow, "x"));
        Assert.Throws<UnsupportedFeatureException>(() => AcquisitionJob.Run(new AcquisitionRequest { Source = src, Destination = dst, DestinationFormat = "test-sequential" }));
    }
}
