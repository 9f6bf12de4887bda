using Discemu.Block;
using Discemu.Formats;
using Discemu.Partitions;
using Discemu.Partitions.Gpt;
using Discemu.Partitions.Mbr;
using Discemu.Tests.Infrastructure;
using FsCheck;
using FsCheck.Fluent;
using static Discemu.Tests.Partitions.PartitionTestKit;

namespace Discemu.Tests.Partitions;

/// <summary>
/// Random sequences of adds (any type, size, start, logical or not) and removes keep a table valid: what is on the
/// disk reads back as the table in memory, partitions never overlap and stay in the usable area, check finds nothing,
/// and refused edits change nothing. Every fifth case is also read by sfdisk (and verified by sgdisk for GPT).
/// </summary>
public sealed class PartitionPropertyTests
{
    private static int s_cases;

    private static readonly byte[] MbrTypes = [0x83, 0x82, 0x0C, 0x07, 0x8E, 0xEF, 0xFD, 0x05];
    private static readonly Guid[] GptTypes = [PartitionTypes.LinuxFilesystem, PartitionTypes.EfiSystem, PartitionTypes.LinuxSwap, PartitionTypes.MicrosoftBasicData, PartitionTypes.BiosBoot];

    /// <summary>One step: (kind, a, b) interpreted by <see cref="Step"/>.</summary>
    private static Arbitrary<(int Kind, int A, int B)[]> Ops { get; } =
        Gen.ArrayOf(Gen.Zip(Gen.Choose(0, 99), Gen.Zip(Gen.Choose(0, 1 << 20), Gen.Choose(0, 1 << 20)), (k, ab) => (k, ab.Item1, ab.Item2))).ToArbitrary();

    [FsCheck.Xunit.Property(MaxTest = 40)]
    public Property RandomMbrEditsKeepTheTableValid() => Prop.ForAll(Ops, ops => { Run("mbr", ops); });

    [FsCheck.Xunit.Property(MaxTest = 40)]
    public Property RandomGptEditsKeepTheTableValid() => Prop.ForAll(Ops, ops => { Run("gpt", ops); });

    [Fact]
    public void TheStepsReachEveryKindOfPartition()
    {
        // A fixed sequence: an extended partition, logical ones in it, GPT names, removals in between.
        var rng = new Random(3);
        var ops = Enumerable.Range(0, 40).Select(_ => (rng.Next(100), rng.Next(1 << 20), rng.Next(1 << 20))).ToArray();
        var mbr = Run("mbr", [(1, 111, 1), .. ops]); // first: a 7 MiB extended partition (111 % 8 = 7: type 05; 111 % 7 = 6: 7 MiB)
        Assert.Contains(mbr, p => p.Kind == PartitionKind.Extended);
        Assert.Contains(mbr, p => p.Kind == PartitionKind.Logical);
        var gpt = Run("gpt", ops);
        Assert.True(gpt.Count >= 3);
        Assert.Contains(gpt, p => p.Name is { Length: > 0 });
    }

    private static IReadOnlyList<Partition> Run(string scheme, (int Kind, int A, int B)[] ops)
    {
        using var disk = new MemoryDevice(48 * MiB);
        var table = PartitionTableRegistry.Default.Find(scheme).Create(disk);
        foreach (var op in ops.Take(40))
        {
            string before = Describe(table.Partitions);
            try { Step(table, op); }
            catch (BadArgumentException)
            {
                Assert.Equal(before, Describe(table.Partitions));
            }
            AssertValid(table, disk);
        }
        if (Interlocked.Increment(ref s_cases) % 5 == 0) AssertPeersAgree(table, disk);
        return table.Partitions;
    }

    private static void Step(PartitionTable table, (int Kind, int A, int B) op)
    {
        bool gpt = table is GptTable;
        var parts = table.Partitions;
        if (op.Kind >= 65 && parts.Count > 0)
        {
            table.Remove(parts[op.A % parts.Count].Number);
            return;
        }
        long sectors = table.SectorCount;
        // Sizes: usually whole MiB, sometimes any number of sectors; sometimes no size (the rest of a free range).
        long? length = (op.A % 6) switch
        {
            0 => null,
            1 => (op.B % 4000 + 1) * 512L,
            _ => (op.A % 7 + 1) * MiB,
        };
        long? start = op.B % 3 == 0 ? op.B % sectors * 512L : null;
        var type = gpt ? PartitionType.FromGuid(GptTypes[op.A % GptTypes.Length]) : PartitionType.FromMbrCode(MbrTypes[op.A % MbrTypes.Length]);
        bool logical = !gpt && op.Kind % 2 == 0 && type.MbrCode != 0x05;
        table.Add(new PartitionSpec
        {
            Type = type,
            Length = length,
            Start = start,
            Logical = logical,
            Name = gpt && op.Kind % 3 == 0 ? $"p{op.A % 1000}" : null,
            Bootable = op.Kind % 5 == 0,
        });
    }

    private static void AssertValid(PartitionTable table, BlockDevice disk)
    {
        var reread = PartitionTableRegistry.Default.Open(disk);
        Assert.Equal(table.Format, reread.Format);
        Assert.Equal(Describe(table.Partitions), Describe(reread.Partitions));
        var check = reread.Check(CheckRepair.None);
        Assert.True(check.Corruptions == 0, string.Join('\n', check.Messages));
        Assert.Empty(reread.Warnings);
        var outer = reread.Partitions.Where(p => p.Kind != PartitionKind.Logical).OrderBy(p => p.Start).ToList();
        for (int i = 1; i < outer.Count; i++) Assert.True(outer[i - 1].End <= outer[i].Start, $"{outer[i - 1].Number} and {outer[i].Number} overlap");
        Assert.All(outer, p => Assert.True(p.Start >= reread.UsableStart && p.End <= reread.UsableEnd && p.Length > 0));
        var logicals = reread.Partitions.Where(p => p.Kind == PartitionKind.Logical).OrderBy(p => p.Start).ToList();
        var ext = outer.FirstOrDefault(p => p.Kind == PartitionKind.Extended);
        for (int i = 1; i < logicals.Count; i++) Assert.True(logicals[i - 1].End <= logicals[i].Start);
        Assert.All(logicals, p => Assert.True(ext is not null && p.Start > ext.Start && p.End <= ext.End));
        Assert.Equal(Enumerable.Range(5, logicals.Count), reread.Partitions.Where(p => p.Kind == PartitionKind.Logical).Select(p => p.Number));
    }

    private static void AssertPeersAgree(PartitionTable table, MemoryDevice disk)
    {
        if (PeerTools.Find("sfdisk") is null || PeerTools.Find("sgdisk") is null)
        {
            if (PeerTools.InCi) Assert.Fail("sfdisk and sgdisk must be installed under CI.");
            return;
        }
        using var dir = new TempDir();
        string path = DumpToFile(disk, dir.File("disk.img"));
        AssertSameAsPeer(table, Sfdisk(path));
        if (table is GptTable) AssertSgdiskClean(path);
    }
}
