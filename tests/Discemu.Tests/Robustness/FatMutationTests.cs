using Discemu.FileSystems.Fat;
using Discemu.Fuzz;
using Discemu.Tests.FileSystems.Fat;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Robustness;

/// <summary>
/// Damaged FAT images (random mutations of mkfs.fat + mcopy images and of hand-built FAT12/16/32 volumes) must open,
/// walk and take edits, or fail with a typed error — never crash, hang or allocate without bound. The case runs the
/// "fat" fuzz target: probe, read-only walk, then create/write/rename/delete/label on a writable copy and walk again.
/// Mutations favour the metadata: boot sector, FSInfo, both FATs, the root directory and the first data clusters
/// (where the subdirectories are).
/// </summary>
public sealed class FatMutationTests : IDisposable
{
    private const long AllocationCap = 512L << 20;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string> Seeds => ["mkfs-fat12-mcopy", "hand-fat12", "hand-fat16", "hand-fat32"];

    private byte[] MakeSeed(string name)
    {
        switch (name)
        {
            case "mkfs-fat12-mcopy":
                PeerTools.Require("mcopy");
                string image = FatTestKit.MkFs(_dir, 12, sectors: 2880);
                string src = FatTestKit.HostTree(_dir);
                File.Delete(Path.Join(src, "big.bin"));
                PeerTools.RunOk("mcopy", ["-s", "-m", "-i", image, .. Directory.EnumerateFileSystemEntries(src).Order(StringComparer.Ordinal), "::/"]);
                return File.ReadAllBytes(image);
            case "hand-fat12": return HandFat.Sample(FatType.Fat12);
            case "hand-fat16": return HandFat.Sample(FatType.Fat16);
            default: return HandFat.Sample(FatType.Fat32);
        }
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void MutatedImagesWalkOrFailTyped(string seedName)
    {
        var seed = MakeSeed(seedName);
        Assert.True(FatBootSector.TryRead(seed, out var boot, out var error), error);
        FuzzTargets.Run("fat", seed);
        long metadata = boot.FirstDataSector * boot.BytesPerSector;
        var hot = new List<(long, long)> { (0, Math.Min(seed.Length, metadata + 16L * boot.ClusterSize)) };
        int iterations = MutationHarness.Iterations(40);
        int baseSeed = int.TryParse(Environment.GetEnvironmentVariable("DISCEMU_MUTATION_SEED"), out int s) ? s : 20240601;
        for (int i = 0; i < iterations; i++)
        {
            var log = new List<string>();
            var bytes = new Mutator(new Random(unchecked(baseSeed * 31 + i * 7919 + seedName.Length * 104729 + seedName[^1]))).Mutate(seed, hot, log);
            string? failure = RunCase(bytes);
            if (failure is null) continue;
            string dir = Path.Combine(Path.GetTempPath(), "discemu-mutation-failures");
            Directory.CreateDirectory(dir);
            string saved = Path.Combine(dir, $"fat-{seedName}-{i}.img");
            File.WriteAllBytes(saved, bytes);
            Assert.Fail($"{seedName} case {i} [{string.Join(", ", log)}] saved as {saved}: {failure}");
        }
    }

    private static string? RunCase(byte[] bytes)
    {
        string? failure = null;
        long allocated = 0;
        var thread = new Thread(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            try { FuzzTargets.Run("fat", bytes); }
            catch (Exception e) { failure = $"{e.GetType().FullName}: {e.Message}\n{e.StackTrace}"; }
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }, 16 << 20) { IsBackground = true, Name = "fat mutation case" };
        thread.Start();
        if (!thread.Join(Deadline)) return $"did not finish within {Deadline.TotalSeconds} s (hang?)";
        if (failure is null && allocated > AllocationCap) failure = $"allocated {allocated >> 20} MiB (cap {AllocationCap >> 20} MiB)";
        return failure;
    }
}
