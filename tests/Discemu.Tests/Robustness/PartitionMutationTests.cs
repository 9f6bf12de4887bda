using System.Buffers.Binary;
using System.IO.Hashing;
using Discemu.Block;
using Discemu.Fuzz;
using Discemu.Partitions;
using Discemu.Tests.Infrastructure;
using Discemu.Tests.Partitions;

namespace Discemu.Tests.Robustness;

/// <summary>
/// Damaged partition tables must be read (and checked, edited, repaired) or refused with a typed error — never a
/// crash, a hang or an unbounded allocation. Seeds come from sfdisk, sgdisk, fdisk and our own writer; mutations
/// hit LBA 0, the GPT headers and arrays, and the EBRs, and half the time the GPT CRCs are recomputed afterwards so
/// the damage gets past the checksums to the field checks. DISCEMU_MUTATION_ITERATIONS raises the case count.
/// </summary>
public sealed class PartitionMutationTests : IDisposable
{
    private const long MiB = 1L << 20;
    private const long AllocationCap = 256L << 20;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string> Seeds => ["sfdisk-mbr-logicals", "sgdisk-gpt-many", "fdisk-gpt-4k", "sgdisk-hybrid", "ours-mbr-logicals"];

    private string MakeSeed(string name)
    {
        string path = PartitionTestKit.SparseFile(_dir, name + ".img", name.Contains("mbr", StringComparison.Ordinal) ? 12 * MiB : 4 * MiB);
        switch (name)
        {
            case "sfdisk-mbr-logicals":
                PeerTools.Require("sfdisk");
                PartitionTestKit.SfdiskScript(path, "label: dos\n,1M,c,*\n,,E\n,1M,83\n,1M,82\n,1M,7\n,,83\n");
                break;
            case "sgdisk-gpt-many":
                PeerTools.Require("sgdisk");
                var args = new List<string>();
                for (int i = 1; i <= 12; i++) args.AddRange(["-n", $"{i * 3}:0:+128K", "-c", $"{i * 3}:p{i}", "-A", $"{i * 3}:set:{i % 3}"]);
                PeerTools.RunOk("sgdisk", [.. args, path]);
                break;
            case "fdisk-gpt-4k":
                PeerTools.Require("fdisk");
                var (code, _, err) = PeerTools.Run("sh", ["-c", "printf 'g\\nn\\n1\\n\\n+512K\\nn\\n2\\n\\n+1M\\nn\\n3\\n\\n\\nw\\n' | fdisk -b 4096 \"$0\"", path]);
                Assert.True(code == 0, err);
                break;
            case "sgdisk-hybrid":
                PeerTools.Require("sgdisk");
                PeerTools.RunOk("sgdisk", "-n", "1:0:+512K", "-t", "1:ef00", "-n", "2:0:+1M", "-t", "2:0700", "-n", "3:0:0", path);
                PeerTools.RunOk("sgdisk", "-h", "1:2", path);
                break;
            case "ours-mbr-logicals":
                var (_, data) = FuzzSeeds.PartitionDisks().Single(s => s.Name == "mbr-logicals");
                File.WriteAllBytes(path, data);
                break;
            default: throw new ArgumentException(name);
        }
        return path;
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void MutatedPartitionTablesAreReadOrRefusedTyped(string seedName)
    {
        byte[] seed = File.ReadAllBytes(MakeSeed(seedName));
        using (var pristine = Disk(seed))
        {
            var table = PartitionTableRegistry.Default.Open(pristine);
            Assert.Equal(seedName.Contains("mbr", StringComparison.Ordinal) ? "mbr" : "gpt", table.Format.Name);
            Assert.Equal(0, table.Check(Discemu.Formats.CheckRepair.None).Corruptions);
            Assert.True(FuzzTargets.ExercisePartitionTable(table) >= 3);
            if (seedName == "sgdisk-hybrid") Assert.True(((Discemu.Partitions.Gpt.GptTable)table).IsHybridMbr);
        }
        var hot = HotRanges(seed);
        int iterations = MutationHarness.Iterations(40);
        int baseSeed = int.TryParse(Environment.GetEnvironmentVariable("DISCEMU_MUTATION_SEED"), out int s) ? s : 20240601;
        for (int i = 0; i < iterations; i++)
        {
            int caseSeed = unchecked(baseSeed * 31 + i * 7919 + seedName.Length * 104729 + seedName[^1]);
            var rng = new Random(caseSeed);
            var log = new List<string>();
            var bytes = new Mutator(rng).Mutate(seed, hot, log);
            if (rng.Next(2) == 0) MutateLittleEndianField(bytes, rng, log);
            if (rng.Next(2) == 0) FixGptChecksums(bytes, log);
            string? failure = RunCase(bytes);
            if (failure is null) continue;
            string saved = Path.Combine(Path.GetTempPath(), "discemu-mutation-failures", $"partition-{seedName}-{i}.bin");
            Directory.CreateDirectory(Path.GetDirectoryName(saved)!);
            File.WriteAllBytes(saved, bytes);
            Assert.Fail($"{seedName} case {i} (DISCEMU_MUTATION_SEED={baseSeed}) [{string.Join(", ", log)}] saved as {saved}: {failure}");
        }
    }

    /// <summary>Probes, opens (with the detected scheme and with each scheme by force) and exercises the table on a fresh thread.</summary>
    private static string? RunCase(byte[] bytes)
    {
        string? failure = null;
        long allocated = 0;
        var thread = new Thread(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                using var disk = Disk(bytes);
                try { if (PartitionTableRegistry.Default.TryOpen(disk) is { } t) FuzzTargets.ExercisePartitionTable(t); }
                catch (DiscemuException) { }
                foreach (var format in PartitionTableRegistry.Default.Formats)
                {
                    using var again = Disk(bytes);
                    try { FuzzTargets.ExercisePartitionTable(format.Open(again)); }
                    catch (DiscemuException) { }
                }
            }
            catch (Exception e) { failure = $"{e.GetType().FullName}: {e.Message}\n{e.StackTrace}"; }
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }, 16 << 20) { IsBackground = true, Name = "partition mutation case" };
        thread.Start();
        if (!thread.Join(Deadline)) return $"did not finish within {Deadline.TotalSeconds} s (hang?)";
        if (failure is null && allocated > AllocationCap) failure = $"allocated {allocated >> 20} MiB (cap {AllocationCap >> 20} MiB)";
        return failure;
    }

    /// <summary>A memory disk holding <paramref name="bytes"/>, storing only the 64 KiB chunks that are not all zeros.</summary>
    private static MemoryDevice Disk(byte[] bytes)
    {
        var disk = new MemoryDevice(bytes.Length);
        for (int at = 0; at < bytes.Length; at += 65536)
        {
            var chunk = bytes.AsSpan(at, Math.Min(65536, bytes.Length - at));
            if (chunk.IndexOfAnyExcept((byte)0) >= 0) disk.Write(at, chunk);
        }
        return disk;
    }

    /// <summary>LBA 0 and 1 (and LBA 1 of 4 KiB sectors), the primary arrays, the EBRs found by walking the chain, the backup at the end.</summary>
    private static List<(long Offset, long Length)> HotRanges(byte[] disk)
    {
        var hot = new List<(long, long)> { (0, 8192 + 16384), (disk.Length - 24576, 24576) };
        using var device = Disk(disk);
        if (PartitionTableRegistry.Default.TryOpen(device) is { } t)
            foreach (var p in t.Partitions.Where(p => p.Kind == PartitionKind.Logical))
                hot.Add((p.Start - 1 * MiB, 1 * MiB)); // the EBR sits somewhere in the gap before each logical partition
        return hot.Where(h => h.Item1 >= 0).ToList();
    }

    private static readonly int[] GptFields64 = [24, 32, 40, 48, 72];
    private static readonly int[] GptFields32 = [8, 12, 80, 84];

    /// <summary>Sets a little-endian field of a GPT header, an MBR/EBR record or a GPT entry to a boundary value.</summary>
    private static void MutateLittleEndianField(byte[] b, Random rng, List<string> log)
    {
        long sectors = b.Length / 512;
        ulong[] values = [0, 1, 2, 33, 34, (ulong)sectors - 1, (ulong)sectors, (ulong)sectors + 1, (ulong)sectors / 8 - 1, 0xFFFFFFFF, 1UL << 32, 1UL << 62, ulong.MaxValue, (ulong)rng.NextInt64()];
        ulong v = values[rng.Next(values.Length)];
        int ss = rng.Next(2) == 0 ? 512 : 4096;
        int at;
        switch (rng.Next(4))
        {
            case 0: // primary or backup GPT header
                long header = rng.Next(2) == 0 ? ss : (b.Length / ss - 1) * (long)ss;
                bool wide = rng.Next(3) > 0;
                at = (int)header + (wide ? GptFields64[rng.Next(GptFields64.Length)] : GptFields32[rng.Next(GptFields32.Length)]);
                if (header < 0 || at + 8 > b.Length) return;
                if (wide) BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(at), v);
                else BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(at), (uint)v);
                break;
            case 1: // an MBR record's LBA or count, or its type
                at = 446 + 16 * rng.Next(4) + (rng.Next(3) switch { 0 => 8, 1 => 12, _ => 4 });
                if (at + 4 > b.Length) return;
                if (at % 16 == 450 % 16) b[at] = (byte)(rng.Next(2) == 0 ? 0x05 : 0xEE);
                else BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(at), (uint)v);
                break;
            default: // a GPT entry's LBAs (512- or 4096-byte sectors: the array starts at LBA 2)
                at = 2 * ss + 128 * rng.Next(16) + (rng.Next(2) == 0 ? 32 : 40);
                if (at + 8 > b.Length) return;
                BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(at), v);
                break;
        }
        log.Add($"le @{at}=0x{v:x}");
    }

    /// <summary>Recomputes each GPT header's array CRC and header CRC, so field damage is not caught by the checksums alone.</summary>
    private static void FixGptChecksums(byte[] b, List<string> log)
    {
        foreach (int ss in new[] { 512, 4096 })
        {
            foreach (long header in new[] { (long)ss, (b.Length / ss - 1) * (long)ss })
            {
                if (header < ss || header + 92 > b.Length || BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan((int)header)) != 0x5452415020494645UL) continue;
                var h = b.AsSpan((int)header);
                ulong entries = BinaryPrimitives.ReadUInt64LittleEndian(h[72..]);
                ulong bytes = (ulong)BinaryPrimitives.ReadUInt32LittleEndian(h[80..]) * BinaryPrimitives.ReadUInt32LittleEndian(h[84..]);
                if (entries < (ulong)(b.Length / ss) && bytes <= 1 << 20 && entries * (ulong)ss + bytes <= (ulong)b.Length)
                    BinaryPrimitives.WriteUInt32LittleEndian(h[88..], Crc32.HashToUInt32(b.AsSpan((int)(entries * (ulong)ss), (int)bytes)));
                uint size = BinaryPrimitives.ReadUInt32LittleEndian(h[12..]);
                if (size < 92 || size > ss) continue;
                BinaryPrimitives.WriteUInt32LittleEndian(h[16..], 0);
                BinaryPrimitives.WriteUInt32LittleEndian(h[16..], Crc32.HashToUInt32(h[..(int)size]));
                log.Add($"crc @{header}");
            }
        }
    }
}
