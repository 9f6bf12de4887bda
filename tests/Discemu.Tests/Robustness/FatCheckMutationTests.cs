using Discemu.Block;
using Discemu.FileSystems.Fat;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Robustness;

/// <summary>
/// Mutated FAT volumes through the checker: each case must finish with findings or a typed
/// <see cref="DiscemuException"/> — never another exception, a hang or an unbounded allocation. The seeds are
/// volumes <see cref="FatFormatter"/> makes, with files, a directory and long names written by the test itself.
/// </summary>
public sealed class FatCheckMutationTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private const long AllocationCap = 256L << 20;

    /// <summary>A formatted volume with a few multi-cluster files in the root and a subdirectory, written by hand.</summary>
    private static (byte[] Bytes, List<(long Offset, long Length)> Hot) Seed(FatFormatOptions options, long length)
    {
        using var dev = new MemoryDevice(length);
        var boot = FatFormatter.Format(dev, options);
        var fat = new byte[boot.FatSize * boot.BytesPerSector];
        dev.Read((long)boot.ReservedSectors * boot.BytesPerSector, fat);
        var type = boot.Type;
        uint next = type == FatType.Fat32 ? 3u : 2u;
        var rootEntries = new List<byte[]>();
        uint Alloc(int clusters)
        {
            uint first = next;
            for (int i = 0; i < clusters; i++, next++) FatFormatter.SetEntry(fat, type, next, i == clusters - 1 ? FatTypes.EndOfChain(type) : next + 1);
            return first;
        }
        byte[] Entry(string name11, byte attr, uint cluster, uint size)
        {
            var e = new byte[32];
            new FatDirectoryEntry { Name = System.Text.Encoding.ASCII.GetBytes(name11), Attributes = attr, FirstCluster = cluster, FileSize = size }.Write(e);
            return e;
        }
        for (int i = 0; i < 3; i++) rootEntries.Add(Entry($"FILE{i}   BIN", FatConstants.AttrArchive, Alloc(i + 1), (uint)(boot.ClusterSize * i + 7)));
        var longName = FatLfnEntry.Build("A long name.txt", FatLfnEntry.ShortNameChecksum("ALONGN~1TXT"u8));
        foreach (var part in longName) { var e = new byte[32]; part.Write(e); rootEntries.Add(e); }
        rootEntries.Add(Entry("ALONGN~1TXT", FatConstants.AttrArchive, Alloc(2), (uint)boot.ClusterSize + 1));
        uint sub = Alloc(1);
        rootEntries.Add(Entry("SUB        ", FatConstants.AttrDirectory, sub, 0));
        var subData = new byte[boot.ClusterSize];
        Entry(".          ", FatConstants.AttrDirectory, sub, 0).CopyTo(subData, 0);
        Entry("..         ", FatConstants.AttrDirectory, 0, 0).CopyTo(subData, 32);
        Entry("INNER   TXT", FatConstants.AttrArchive, Alloc(1), 5).CopyTo(subData, 64);
        long bps = boot.BytesPerSector;
        for (int i = 0; i < boot.NumberOfFats; i++)
        {
            dev.Write((boot.ReservedSectors + i * boot.FatSize) * bps, fat);
        }
        long ClusterAt(uint c) => (boot.FirstDataSector + (c - 2L) * boot.SectorsPerCluster) * bps;
        long rootAt = type == FatType.Fat32 ? ClusterAt(boot.RootCluster) : boot.RootDirStartSector * bps;
        dev.Write(rootAt, rootEntries.SelectMany(e => e).ToArray());
        dev.Write(ClusterAt(sub), subData);
        if (boot.HasFsInfo)
        {
            var info = new byte[bps];
            new FatFsInfo(FatConstants.FsInfoUnknown, FatConstants.FsInfoUnknown).Write(info);
            dev.Write(boot.FsInfoSector * bps, info);
        }
        var bytes = new byte[length];
        dev.Read(0, bytes);
        var pristine = FatChecker.Check(dev);
        Assert.True(pristine.ExitCode == 0, string.Join('\n', pristine.Messages));
        List<(long, long)> hot =
        [
            (0, boot.ReservedSectors * bps),
            (boot.ReservedSectors * bps, Math.Min(4096, boot.FatSize * bps)),
            ((boot.ReservedSectors + boot.FatSize) * bps, Math.Min(4096, boot.FatSize * bps)),
            (rootAt, 512),
            (ClusterAt(sub), 128),
        ];
        return (bytes, hot);
    }

    public static TheoryData<string> Kinds() => ["fat12", "fat16", "fat32"];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void MutatedVolumesGiveFindingsOrTypedErrorsNeverCrash(string kind)
    {
        var (seed, hot) = kind switch
        {
            "fat12" => Seed(new FatFormatOptions { Floppy = FatFloppyGeometry.Find("1.44M"), Invariant = true }, 1474560),
            "fat16" => Seed(new FatFormatOptions { Type = FatType.Fat16, Invariant = true, ClusterSize = 512 }, 4L << 20),
            _ => Seed(new FatFormatOptions { Type = FatType.Fat32, Invariant = true, ClusterSize = 512 }, 34L << 20),
        };
        int iterations = MutationHarness.Iterations(60);
        int baseSeed = int.TryParse(Environment.GetEnvironmentVariable("DISCEMU_MUTATION_SEED"), out int s) ? s : 20240601;
        int flagged = 0;
        for (int i = 0; i < iterations; i++)
        {
            var log = new List<string>();
            var bytes = new Mutator(new Random(unchecked(baseSeed * 31 + i * 7919 + kind.Length))).Mutate(seed, hot, log);
            var (failure, found) = RunCase(bytes);
            if (found) flagged++;
            Assert.True(failure is null, $"{kind} case {i} [{string.Join(", ", log)}]: {failure}");
        }
        Assert.True(flagged > 0, "No mutation was flagged: the checker saw nothing.");
    }

    private static (string? Failure, bool Found) RunCase(byte[] bytes)
    {
        string? failure = null;
        bool found = false;
        long allocated = 0;
        var thread = new Thread(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                using var dev = new MemoryDevice(bytes);
                found = FatChecker.Check(dev).ExitCode != 0;
            }
            catch (DiscemuException) { found = true; }
            catch (Exception e) { failure = $"{e.GetType().FullName}: {e.Message}\n{e.StackTrace}"; }
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }, 16 << 20) { IsBackground = true };
        thread.Start();
        if (!thread.Join(Deadline)) return ($"did not finish within {Deadline.TotalSeconds} s", true);
        if (failure is null && allocated > AllocationCap) failure = $"allocated {allocated >> 20} MiB";
        return (failure, found);
    }
}
