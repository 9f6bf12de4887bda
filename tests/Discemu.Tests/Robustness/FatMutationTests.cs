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
        MutationHarness.RunFuzzTarget("fat", seedName, seed, hot, MutationHarness.Iterations(40));
    }
}
