using Discemu.Block;
using Discemu.Formats;
using Discemu.Partitions;
using Discemu.Partitions.Gpt;
using Discemu.Partitions.Mbr;
using static Discemu.Tests.Partitions.PartitionTestKit;

namespace Discemu.Tests.Partitions;

/// <summary>
/// An edit killed at any write (with a random whole-sector prefix of that write on the disk) leaves a table
/// that reads as the old or the new one, and a GPT that check -r all then repairs completely.
/// </summary>
public sealed class PartitionCrashTests
{
    private static PartitionType Mbr(byte code) => PartitionType.FromMbrCode(code);

    private static PartitionType Gpt(Guid g) => PartitionType.FromGuid(g);

    private static MemoryDevice Clone(MemoryDevice source)
    {
        var copy = new MemoryDevice(source.Length);
        var buffer = new byte[1 << 16];
        for (long pos = 0; pos < source.Length;)
        {
            var st = source.GetStatus(pos, source.Length - pos);
            if (!st.IsZero)
            {
                for (long off = pos; off < pos + st.Length; off += buffer.Length)
                {
                    int n = (int)Math.Min(buffer.Length, pos + st.Length - off);
                    source.Read(off, buffer.AsSpan(0, n));
                    copy.Write(off, buffer.AsSpan(0, n));
                }
            }
            pos += st.Length;
        }
        return copy;
    }

    private static MemoryDevice GptBase()
    {
        var disk = new MemoryDevice(16 * MiB);
        var t = GptFormat.Instance.Create(disk);
        t.Add(new PartitionSpec { Type = Gpt(PartitionTypes.EfiSystem), Length = 2 * MiB, Name = "esp" });
        t.Add(new PartitionSpec { Type = Gpt(PartitionTypes.LinuxFilesystem), Length = 4 * MiB, Name = "root" });
        t.Add(new PartitionSpec { Type = Gpt(PartitionTypes.LinuxSwap), Length = 1 * MiB });
        return disk;
    }

    private static MemoryDevice MbrBase()
    {
        var disk = new MemoryDevice(32 * MiB);
        var t = MbrFormat.Instance.Create(disk);
        t.Add(new PartitionSpec { Type = Mbr(0x0C), Length = 4 * MiB });
        t.Add(new PartitionSpec { Type = Mbr(0x05), Length = 20 * MiB });
        for (int i = 0; i < 3; i++) t.Add(new PartitionSpec { Type = Mbr((byte)(0x82 + i % 2)), Length = 2 * MiB, Logical = true });
        return disk;
    }

    public static TheoryData<string> Edits =>
    [
        "gpt-add", "gpt-remove", "gpt-rename",
        "mbr-add-primary", "mbr-add-logical", "mbr-remove-middle-logical", "mbr-remove-first-logical", "mbr-retype-logical",
    ];

    private static void Apply(string edit, PartitionTable t)
    {
        switch (edit)
        {
            case "gpt-add": t.Add(new PartitionSpec { Type = Gpt(PartitionTypes.LinuxHome), Length = 3 * MiB, Name = "home", UniqueId = new Guid("A1B2C3D4-0000-4000-8000-000000000001") }); break;
            case "gpt-remove": t.Remove(2); break;
            case "gpt-rename": t.Update(1, new PartitionUpdate { Name = "EFI system partition" }); break;
            case "mbr-add-primary": t.Add(new PartitionSpec { Type = Mbr(0x83), Length = 2 * MiB }); break;
            case "mbr-add-logical": t.Add(new PartitionSpec { Type = Mbr(0x8E), Length = 2 * MiB, Logical = true }); break;
            case "mbr-remove-middle-logical": t.Remove(6); break;
            case "mbr-remove-first-logical": t.Remove(5); break;
            case "mbr-retype-logical": t.Update(7, new PartitionUpdate { Type = Mbr(0x07), Bootable = true }); break;
            default: throw new ArgumentException(edit);
        }
    }

    [Theory]
    [MemberData(nameof(Edits))]
    public void AnEditKilledAtAnyWriteLeavesTheOldOrTheNewTable(string edit)
    {
        using var original = edit.StartsWith("gpt", StringComparison.Ordinal) ? GptBase() : MbrBase();
        string before = Describe(PartitionTableRegistry.Default.Open(original).Partitions);
        using var done = Clone(original);
        var counter = new CrashingDevice(done, int.MaxValue, 0);
        var table = PartitionTableRegistry.Default.Open(counter);
        Apply(edit, table);
        string after = Describe(table.Partitions);
        Assert.NotEqual(before, after);
        Assert.Equal(after, Describe(PartitionTableRegistry.Default.Open(done).Partitions));
        int writes = int.MaxValue - counter.WritesLeft;
        Assert.InRange(writes, 1, 16);

        int sawOld = 0, sawNew = 0;
        for (int k = 0; k < writes; k++)
        {
            for (int seed = 0; seed < 3; seed++)
            {
                using var disk = Clone(original);
                var crashing = new CrashingDevice(disk, k, seed);
                Assert.Throws<IOException>(() => Apply(edit, PartitionTableRegistry.Default.Open(crashing)));
                var survivor = PartitionTableRegistry.Default.Open(disk);
                string seen = Describe(survivor.Partitions);
                Assert.True(seen == before || seen == after, $"crash at write {k} (seed {seed}) left neither table:\n{seen}\nold: {before}\nnew: {after}");
                if (seen == before) sawOld++; else sawNew++;
                if (survivor is GptTable)
                {
                    var repaired = survivor.Check(CheckRepair.All);
                    Assert.Equal(0, repaired.Corruptions);
                    Assert.Equal(seen, Describe(PartitionTableRegistry.Default.Open(disk).Partitions));
                    Assert.Empty(PartitionTableRegistry.Default.Open(disk).Warnings);
                }
                else Assert.Equal(0, survivor.Check(CheckRepair.None).Corruptions);
            }
        }
        Assert.True(sawOld > 0, "no crash point kept the old table");
        if (edit.StartsWith("gpt", StringComparison.Ordinal)) Assert.True(sawNew > 0, "no crash point gave the new table (the backup written first should)");
    }
}
