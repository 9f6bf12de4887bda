using Discemu.Formats;
using Discemu.Fuzz;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Robustness;

/// <summary>
/// Runs random mutations of a seed image through open-and-read, for every format's mutation tests:
/// each case must open and read, or fail with a typed <see cref="DiscemuException"/> — never crash, hang
/// or allocate without bound. DISCEMU_MUTATION_ITERATIONS raises the case count; DISCEMU_MUTATION_SEED
/// changes the random stream. A failing input is saved under $TMPDIR/discemu-mutation-failures/.
/// </summary>
public static class MutationHarness
{
    private const long ReadCap = 16L << 20;
    private const long AllocationCap = 512L << 20;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    /// <summary>The case count: DISCEMU_MUTATION_ITERATIONS when set, else <paramref name="fallback"/>.</summary>
    public static int Iterations(int fallback)
        => int.TryParse(Environment.GetEnvironmentVariable("DISCEMU_MUTATION_ITERATIONS"), out int n) && n > 0 ? n : fallback;

    private static int BaseSeed => int.TryParse(Environment.GetEnvironmentVariable("DISCEMU_MUTATION_SEED"), out int s) ? s : 20240601;

    /// <summary>The unmutated seed must open as <paramref name="format"/> and read cleanly, or the mutations prove nothing.</summary>
    public static void AssertPristineOpens(string path, string format)
    {
        using var image = ImageOpener.Default.Open(path);
        Assert.Equal(format, image.Format.Name);
        Assert.True(FuzzTargets.Exercise(image, ReadCap) > 0);
    }

    /// <summary>
    /// Writes <paramref name="iterations"/> mutations of <paramref name="seed"/> to <paramref name="fileName"/>
    /// in <paramref name="dir"/> (other files there, such as a parent image, stay as they are) and opens each.
    /// Mutations favour <paramref name="hotRanges"/> (the format's metadata: headers, tables, footers); by
    /// default the QCOW2 metadata when the seed is QCOW2, else the first 4 KiB.
    /// </summary>
    public static void Run(TempDir dir, string label, byte[] seed, int iterations, string fileName = "case.img",
        IReadOnlyList<(long Offset, long Length)>? hotRanges = null)
    {
        var hot = hotRanges?.ToList() ?? Mutator.HotRanges(seed);
        string path = dir.File(fileName);
        for (int i = 0; i < iterations; i++)
        {
            // Deterministic across runs (HashCode.Combine is randomised per process).
            int caseSeed = unchecked(BaseSeed * 31 + i * 7919 + label.Length * 104729 + label[^1]);
            var log = new List<string>();
            var bytes = new Mutator(new Random(caseSeed)).Mutate(seed, hot, log);
            File.WriteAllBytes(path, bytes);
            string? failure = RunCase(path);
            if (failure is null) continue;
            string saved = Save(label, i, bytes);
            Assert.Fail($"{label} case {i} (DISCEMU_MUTATION_SEED={BaseSeed}) [{string.Join(", ", log)}] saved as {saved}: {failure}");
        }
    }

    /// <summary>
    /// Runs <paramref name="iterations"/> mutations of <paramref name="seed"/> (favouring <paramref name="hotRanges"/>)
    /// through the fuzz target <paramref name="target"/>, which must end each case normally (it absorbs the typed
    /// errors itself): an untyped exception, a hang or an unbounded allocation fails the test. For parsers that
    /// are not image formats (file systems, sheets).
    /// </summary>
    /// <param name="saltLastChar">Mixes the label's last character into the case seeds (keeps older tests' cases).</param>
    public static void RunFuzzTarget(string target, string label, byte[] seed, IReadOnlyList<(long Offset, long Length)> hotRanges,
        int iterations, bool saltLastChar = true)
    {
        for (int i = 0; i < iterations; i++)
        {
            int caseSeed = unchecked(BaseSeed * 31 + i * 7919 + label.Length * 104729 + (saltLastChar ? label[^1] : 0));
            var log = new List<string>();
            var bytes = new Mutator(new Random(caseSeed)).Mutate(seed, hotRanges, log);
            string? failure = RunIsolated(() => FuzzTargets.Run(target, bytes), $"{target} mutation case");
            if (failure is null) continue;
            string saved = Save($"{target}-{label}", i, bytes);
            Assert.Fail($"{label} case {i} (DISCEMU_MUTATION_SEED={BaseSeed}) [{string.Join(", ", log)}] saved as {saved}: {failure}");
        }
    }

    /// <summary>Opens and reads the file on a fresh thread; returns a failure description or null.</summary>
    private static string? RunCase(string path) => RunIsolated(() =>
    {
        try
        {
            using var image = ImageOpener.Default.Open(path);
            FuzzTargets.Exercise(image, ReadCap);
        }
        catch (DiscemuException) { }
    }, "mutation case");

    /// <summary>Runs <paramref name="body"/> on a fresh thread with a deadline and an allocation cap; a failure description or null.</summary>
    private static string? RunIsolated(Action body, string name)
    {
        string? failure = null;
        long allocated = 0;
        var thread = new Thread(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            try { body(); }
            catch (Exception e) { failure = $"{e.GetType().FullName}: {e.Message}\n{e.StackTrace}"; }
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }, 16 << 20) { IsBackground = true, Name = name };
        thread.Start();
        if (!thread.Join(Deadline)) return $"did not finish within {Deadline.TotalSeconds} s (hang?)";
        if (failure is null && allocated > AllocationCap) failure = $"allocated {allocated >> 20} MiB (cap {AllocationCap >> 20} MiB)";
        return failure;
    }

    private static string Save(string label, int i, byte[] bytes)
    {
        string dir = Path.Combine(Path.GetTempPath(), "discemu-mutation-failures");
        Directory.CreateDirectory(dir);
        string file = Path.Combine(dir, $"{label}-{i}.bin");
        File.WriteAllBytes(file, bytes);
        return file;
    }
}
