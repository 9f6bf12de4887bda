using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Discemu.Acquisition;
using Discemu.Tests.Cli;
using Discemu.Tests.Infrastructure;
using static Discemu.Tests.Acquisition.AcquisitionTestKit;

namespace Discemu.Tests.Acquisition;

/// <summary>
/// GNU ddrescue and discemu on the same real failing source (nbdkit's ddrescue filter behind nbdfuse, fixed bad
/// ranges, O_DIRECT reads): with the same retry budget discemu recovers at least every sector ddrescue recovers,
/// ddrescuelog reads our mapfiles, ddrescue resumes our mapfiles and we resume ddrescue's.
/// </summary>
public sealed class DdrescueInteropTests
{
    private const long Size = 12 << 20;

    /// <summary>Bad ranges: single sectors, a page, an area spanning clusters, a large area, the last sectors.</summary>
    private static readonly (long Offset, long Length)[] Bad =
    [
        (0x100000, 0x1000),
        (0x2A0200, 0x200),
        (0x401000, 0x11000),
        (0x7F0000, 0x40000),
        (Size - 0x400, 0x400),
    ];

    private static string Content(TempDir dir)
    {
        string path = dir.File("disk.img");
        var bytes = new byte[Size];
        new Random(77).NextBytes(bytes);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>The perfect rescue: the content with the bad ranges zeroed.</summary>
    private static byte[] Expected(string content)
    {
        var bytes = File.ReadAllBytes(content);
        foreach (var (o, l) in Bad) Array.Clear(bytes, (int)o, (int)l);
        return bytes;
    }

    private static List<(long Start, long End)> BadRanges() => [.. Bad.Select(b => (b.Offset, b.Offset + b.Length))];

    private static void Ddrescue(params string[] args)
    {
        PeerTools.Require("ddrescue");
        PeerTools.RunOk("ddrescue", ["-q", .. args]);
    }

    private static void Discemu(params string[] args)
    {
        var (code, _, stderr) = CliHarness.Run(["acquire", "-q", "--direct", .. args]);
        Assert.True(code == 0, $"discemu acquire {string.Join(' ', args)} exited {code}: {stderr}");
    }

    /// <summary>ddrescuelog's list of sectors of the given types.</summary>
    private static string Sectors(string map, string types) => PeerTools.RunOk("ddrescuelog", $"--list-blocks={types}", map);

    /// <summary>The area counts <c>ddrescuelog -t</c> reports for rescued and bad-sector blocks.</summary>
    private static (int Rescued, int Bad) Areas(string map)
    {
        string text = PeerTools.RunOk("ddrescuelog", "-t", map);
        int Count(string label) => int.Parse(Regex.Match(text, label + @":\s+\S+ \S+,\s+in\s+(\d+) area").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        return (Count("rescued"), Count("bad-sector"));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public void WithTheSameRetryBudgetWeRecoverEverySectorDdrescueRecovers(int retries)
    {
        using var dir = new TempDir();
        string content = Content(dir);
        using var source = FaultyFuseSource.Start(dir, content, Bad);
        string r = retries.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Ddrescue("-d", "-r", r, source.Path, dir.File("ddrescue.img"), dir.File("ddrescue.map"));
        string ours = dir.File("discemu.raw");
        Discemu("-r", r, "--hash", "md5,sha256", source.Path, ours);

        var theirs = Mapfile.Load(dir.File("ddrescue.map")).Map;
        var mine = Mapfile.Load(ours + ".map").Map;
        foreach (var b in theirs.Blocks.Where(b => b.Status == RescueBlockStatus.Finished))
            for (long pos = b.Offset; pos < b.End;)
            {
                var m = mine.Blocks[mine.IndexAt(pos)];
                Assert.True(m.Status == RescueBlockStatus.Finished, $"ddrescue recovered {pos} but discemu has it {m.Status}");
                pos = m.End;
            }
        Assert.True(mine.TotalOf(RescueBlockStatus.Finished) >= theirs.TotalOf(RescueBlockStatus.Finished));
        Assert.Equal(BadRanges(), Unfinished(mine));

        var expected = Expected(content);
        Assert.Equal(expected, File.ReadAllBytes(ours));
        Assert.Equal(File.ReadAllBytes(dir.File("ddrescue.img")), File.ReadAllBytes(ours).AsSpan(0, (int)new FileInfo(dir.File("ddrescue.img")).Length).ToArray());

        // ddrescuelog reads our mapfile and agrees with ddrescue's own on every sector.
        Assert.Equal(Sectors(dir.File("ddrescue.map"), "-"), Sectors(ours + ".map", "-"));
        Assert.Equal(Sectors(dir.File("ddrescue.map"), "+"), Sectors(ours + ".map", "+"));
        using var log = JsonDocument.Parse(File.ReadAllText(ours + ".log.json"));
        var stats = log.RootElement.GetProperty("statistics");
        var (rescuedAreas, badAreas) = Areas(ours + ".map");
        Assert.Equal(stats.GetProperty("bad_areas").GetInt32(), badAreas);
        Assert.Equal(Bad.Length, badAreas);
        Assert.Equal(Bad.Length, rescuedAreas);
        Assert.Equal(Convert.ToHexStringLower(MD5.HashData(expected)), log.RootElement.GetProperty("hashes").GetProperty("md5").GetString());
        Assert.Equal(Bad.Length, log.RootElement.GetProperty("bad_ranges").GetArrayLength());
    }

    [Fact]
    public void DdrescueFinishesFromOurMapfile()
    {
        using var dir = new TempDir();
        string content = Content(dir);
        using var source = FaultyFuseSource.Start(dir, content, Bad);
        string ours = dir.File("partial.raw");
        Discemu("--no-scrape", source.Path, ours);
        var partial = Mapfile.Load(ours + ".map");
        Assert.True(partial.Map.TotalOf(RescueBlockStatus.NonScraped) > 0);
        using (var log = JsonDocument.Parse(File.ReadAllText(ours + ".log.json")))
            Assert.Contains(log.RootElement.GetProperty("bad_ranges").EnumerateArray(), b => b.GetProperty("status").GetString() == "non-scraped");

        // ddrescue picks up our mapfile and scrapes what we left.
        Ddrescue("-d", source.Path, ours, ours + ".map");
        var done = Mapfile.Load(ours + ".map").Map;
        Assert.Equal(BadRanges(), Unfinished(done));
        Assert.Equal(Expected(content), File.ReadAllBytes(ours));
    }

    [Fact]
    public void WeFinishFromDdrescuesMapfileWithoutRereadingWhatItRecovered()
    {
        using var dir = new TempDir();
        string content = Content(dir);
        using var source = FaultyFuseSource.Start(dir, content, Bad, log: true);
        string image = dir.File("ddrescue.img"), map = dir.File("ddrescue.map");
        // ddrescue stops early: no trimming, no scraping, and only the first 7 MiB (its output file stays 7 MiB long).
        Ddrescue("-d", "-n", "-N", "-s", "7MiB", source.Path, image, map);
        var before = Mapfile.Load(map);
        Assert.True(before.Map.TotalOf(RescueBlockStatus.NonTrimmed) > 0 && before.Map.TotalOf(RescueBlockStatus.NonTried) > 0);

        long mark = source.LogMark();
        Discemu("--map", map, "--hash", "sha1", source.Path, image);
        var reads = source.ReadsSince(mark);
        Assert.NotEmpty(reads);
        var finishedBefore = before.Map.Clone();
        if (finishedBefore.Size < Size) finishedBefore.Extend(Size);
        AssertNoFinishedAreaRead(finishedBefore, reads.Select(r => (r.Offset, (int)r.Length, true)), "discemu after ddrescue");

        var expected = Expected(content);
        Assert.Equal(expected, File.ReadAllBytes(image));
        Assert.Equal(BadRanges(), Unfinished(Mapfile.Load(map).Map));
        using var log = JsonDocument.Parse(File.ReadAllText(image + ".log.json"));
        Assert.True(log.RootElement.GetProperty("resumed").GetBoolean());
        Assert.Equal(Convert.ToHexStringLower(SHA1.HashData(expected)), log.RootElement.GetProperty("hashes").GetProperty("sha1").GetString());
    }

    [Fact]
    public void SlowSourceWithAMinimumRateIsStillFullyRecovered()
    {
        // Every read is delayed by 4 ms, so every 64 KiB read is slower than 32 MiB/s: the first passes skip
        // ahead after each one and the later passes read what was skipped.
        using var dir = new TempDir();
        string content = dir.File("small.img");
        var bytes = new byte[2 << 20];
        new Random(5).NextBytes(bytes);
        File.WriteAllBytes(content, bytes);
        using var source = FaultyFuseSource.Start(dir, content, [(0x80000, 0x800)], delayMs: 4);
        string ours = dir.File("slow.raw");
        Discemu("--min-read-rate", "32M", source.Path, ours);
        Array.Clear(bytes, 0x80000, 0x800);
        Assert.Equal(bytes, File.ReadAllBytes(ours));
        using var log = JsonDocument.Parse(File.ReadAllText(ours + ".log.json"));
        Assert.True(log.RootElement.GetProperty("statistics").GetProperty("slow_reads").GetInt64() > 0);
        Assert.Equal([(0x80000L, 0x80800L)], Unfinished(Mapfile.Load(ours + ".map").Map));
    }
}
