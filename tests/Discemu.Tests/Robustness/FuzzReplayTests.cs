using Discemu.Formats.Qcow2;
using Discemu.Fuzz;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Robustness;

/// <summary>
/// Replays the fuzz targets' seed corpus (and deterministic mutations of it) in-process, so what the
/// fuzzer starts from is known to pass and the targets themselves keep building and working.
/// </summary>
public sealed class FuzzReplayTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string> Targets => [.. FuzzTargets.All.Keys];

    [Theory]
    [MemberData(nameof(Targets))]
    public void SeedCorpusAndItsMutationsReplayCleanly(string target)
    {
        var seeds = FuzzSeeds.All().Where(s => s.Target == target).ToList();
        Assert.NotEmpty(seeds);
        string dir = Path.Combine(_dir.PathName, target);
        Directory.CreateDirectory(dir);
        var rng = new Random(target.Length * 7919);
        int mutations = target == "image" ? 12 : 40; // image inputs are files up to a few MiB: keep the test quick
        foreach (var (_, name, data) in seeds)
        {
            File.WriteAllBytes(Path.Combine(dir, name), data);
            var mutator = new Mutator(rng);
            for (int i = 0; i < mutations; i++) File.WriteAllBytes(Path.Combine(dir, $"{name}.m{i:00}"), mutator.Mutate(data, [(0, Math.Min(data.Length, 128))], []));
        }
        var log = new StringWriter();
        int failures = -1;
        var worker = new Thread(() =>
        {
            try { failures = FuzzTargets.Replay(target, dir, log); }
            finally { FuzzTargets.DeleteScratchFile(); } // the image target's scratch file is per thread
        }) { IsBackground = true };
        worker.Start();
        Assert.True(worker.Join(TimeSpan.FromMinutes(2)), $"replaying {target} hung:\n{log}");
        Assert.True(failures == 0, log.ToString());
        Assert.Contains($"replayed {seeds.Count * (mutations + 1)} inputs", log.ToString());
    }

    [Fact]
    public void Qcow2HeaderSeedsReallyParse()
    {
        // Seeds rejected up front would leave the fuzzer exploring nothing but the magic check.
        foreach (var (_, name, data) in FuzzSeeds.All().Where(s => s.Target == "qcow2-header"))
        {
            var h = Qcow2Header.Read(data, name);
            int extensions = Qcow2HeaderExtension.ReadAll(data, h, name).Count;
            Assert.Equal(name is "v3" or "v3-zstd" or "v3-extl2" or "v3-rc64-snap" ? 3 : 0, extensions);
        }
    }

    [Fact]
    public void UnknownTargetIsRefused()
    {
        Assert.Throws<ArgumentException>(() => FuzzTargets.Run("nosuch", []));
        Assert.Throws<ArgumentException>(() => FuzzTargets.Replay("nosuch", _dir.PathName, TextWriter.Null));
    }

    [Fact]
    public void ReplayCountsAndNamesInputsThatEscapeWithUntypedExceptions()
    {
        File.WriteAllBytes(_dir.File("good"), [1]);
        File.WriteAllBytes(_dir.File("bad"), [2]);
        var log = new StringWriter();
        int failures = FuzzTargets.Replay(data =>
        {
            if (data[0] == 2) throw new InvalidOperationException("boom");
            if (data[0] == 1) throw new CorruptImageException("expected");
        }, "test", _dir.PathName, log);
        Assert.Equal(1, failures);
        Assert.Contains(_dir.File("bad"), log.ToString());
        Assert.DoesNotContain(_dir.File("good") + ":", log.ToString());
    }
}
