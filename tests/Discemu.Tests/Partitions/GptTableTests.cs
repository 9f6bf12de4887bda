using Discemu.Block;
using Discemu.Formats;
using Discemu.Partitions;
using Discemu.Partitions.Gpt;
using static Discemu.Tests.Partitions.PartitionTestKit;

namespace Discemu.Tests.Partitions;

public sealed class GptTableTests
{
    private static readonly Guid DiskGuid = new("0520EB01-690A-41F0-8DC3-C5A596E4BE5D");

    private static GptTable NewTable(BlockDevice disk, int sectorSize = 512)
        => (GptTable)GptFormat.Instance.Create(disk, new PartitionTableCreateOptions { DiskGuid = DiskGuid, SectorSize = sectorSize });

    private static GptTable Reopen(BlockDevice disk) => Assert.IsType<GptTable>(PartitionTableRegistry.Default.Open(disk));

    private static PartitionSpec Linux(long? length = null, string? name = null)
        => new() { Type = PartitionType.FromGuid(PartitionTypes.LinuxFilesystem), Length = length, Name = name };

    private static MemoryDevice ThreePartitionDisk()
    {
        var disk = new MemoryDevice(64 * MiB);
        var t = NewTable(disk);
        t.Add(new PartitionSpec { Type = PartitionType.FromGuid(PartitionTypes.EfiSystem), Length = 8 * MiB, Name = "EFI system" });
        t.Add(Linux(8 * MiB, "root") with { Attributes = GptAttributes.RequiredPartition | 1UL << 60, Bootable = true });
        t.Add(new PartitionSpec { Type = PartitionType.FromGuid(PartitionTypes.LinuxSwap) });
        return disk;
    }

    [Fact]
    public void ANewTableHasTheSpecLayout()
    {
        using var disk = new MemoryDevice(64 * MiB);
        var t = NewTable(disk);
        Assert.Equal(34 * 512, t.UsableStart);
        Assert.Equal((131072 - 33) * 512L, t.UsableEnd);
        Assert.Equal(131071, t.BackupHeaderLba);
        Assert.Equal(128, t.EntryCount);
        Assert.Equal(DiskGuid.ToString().ToUpperInvariant(), t.DiskId);
        var mbr = new byte[512];
        disk.Read(0, mbr);
        // Protective record: boot 0, CHS 0/0/2, type EE, CHS of the last LBA (255x63 geometry), LBA 1, the rest of the disk.
        Assert.Equal(new byte[] { 0x00, 0x00, 0x02, 0x00, 0xEE, 0x28, 0x20, 0x08, 1, 0, 0, 0, 0xFF, 0xFF, 1, 0 }, mbr[446..462]);
        Assert.Equal(new byte[] { 0x55, 0xAA }, mbr[510..]);
        Assert.Empty(t.Warnings);
        Assert.Equal(0, t.Check(CheckRepair.None).Corruptions);
    }

    [Fact]
    public void TheProtectiveRecordCapsWhereChsAndLbaFieldsRunOut()
    {
        var big = GptTable.BuildProtectiveRecord(20L << 21);
        Assert.Equal((20L << 21) - 1, big.SectorCount);
        var bytes = new byte[16];
        big.Write(bytes);
        Assert.Equal(new byte[] { 0xFF, 0xFF, 0xFF }, bytes[5..8]);
        Assert.Equal(uint.MaxValue, GptTable.BuildProtectiveRecord(1L << 40).SectorCount);
    }

    [Fact]
    public void PartitionsRoundTripWithNamesAttributesAndGuids()
    {
        using var disk = ThreePartitionDisk();
        var t = Reopen(disk);
        Assert.Equal([1, 2, 3], t.Partitions.Select(p => p.Number));
        var root = t.Get(2);
        Assert.Equal("root", root.Name);
        Assert.True(root.Bootable);
        Assert.Equal(["RequiredPartition", "LegacyBIOSBootable", "GUID:60"], root.Flags);
        Assert.Equal("Linux filesystem", root.Type.Name);
        Assert.Equal("EFI System", t.Get(1).Type.Name);
        Assert.Equal(9 * MiB, root.Start);
        Assert.Equal(63 * MiB, t.Get(3).End); // the rest of the disk, ending on a 1 MiB boundary
        Assert.NotEqual(t.Get(1).UniqueId, t.Get(2).UniqueId);

        var updated = t.Update(2, new PartitionUpdate { Name = "système", Bootable = false, Type = PartitionType.FromGuid(PartitionTypes.LinuxHome) });
        Assert.Equal("système", Reopen(disk).Get(2).Name);
        Assert.Equal(GptAttributes.RequiredPartition | 1UL << 60, Reopen(disk).Get(2).Attributes);
        Assert.Equal("Linux home", updated.Type.Name);
        t.Remove(1);
        Assert.Equal([2, 3], Reopen(disk).Partitions.Select(p => p.Number));
        var again = Reopen(disk).Add(Linux(2 * MiB));
        Assert.Equal(1, again.Number); // the first free entry
        Assert.Equal(1 * MiB, again.Start);
    }

    [Fact]
    public void NamesLongerThan36CharactersAreRefused()
    {
        using var disk = new MemoryDevice(16 * MiB);
        var t = NewTable(disk);
        Assert.Throws<BadArgumentException>(() => t.Add(Linux(name: new string('x', 37))));
        Assert.Equal(new string('y', 36), t.Add(Linux(name: new string('y', 36))).Name);
        Assert.Throws<BadArgumentException>(() => t.Add(Linux() with { Logical = true }));
        Assert.Throws<BadArgumentException>(() => t.Add(new PartitionSpec { Type = PartitionType.FromMbrCode(0x83) }));
        Assert.Throws<BadArgumentException>(() => t.Add(Linux() with { Number = 129 }));
    }

    [Fact]
    public void ADamagedPrimaryIsReadFromTheBackupAndRepaired()
    {
        using var disk = ThreePartitionDisk();
        var good = new byte[34 * 512];
        disk.Read(0, good);
        string before = Describe(Reopen(disk).Partitions);
        disk.Write(512 + 60, "junk"u8); // inside the disk GUID: the header CRC no longer matches
        var t = Reopen(disk);
        Assert.Equal("header CRC32 mismatch", t.PrimaryProblem);
        Assert.Equal(before, Describe(t.Partitions));
        Assert.Contains(t.Warnings, w => w.Contains("read from the backup"));
        var check = t.Check(CheckRepair.None);
        Assert.Equal(1, check.Corruptions);
        Assert.Equal(2, check.ExitCode);
        var repaired = t.Check(CheckRepair.All);
        Assert.Equal(1, repaired.CorruptionsFixed);
        Assert.Equal(0, repaired.Corruptions);
        var now = new byte[34 * 512];
        disk.Read(0, now);
        Assert.Equal(good, now);
        Assert.Null(Reopen(disk).PrimaryProblem);
    }

    [Fact]
    public void ADamagedPrimaryArrayIsDetectedByItsCrc()
    {
        using var disk = ThreePartitionDisk();
        disk.Write(2 * 512 + 56, "X"u8); // a byte of partition 1's name
        var t = Reopen(disk);
        Assert.Equal("a partition entry array CRC32 mismatch", t.PrimaryProblem);
        Assert.Equal("EFI system", t.Get(1).Name);
    }

    [Fact]
    public void ADamagedBackupIsRewrittenFromThePrimary()
    {
        using var disk = ThreePartitionDisk();
        var good = new byte[33 * 512];
        disk.Read(disk.Length - good.Length, good);
        disk.Write(disk.Length - 512, new byte[512]);
        var t = Reopen(disk);
        Assert.Equal("no \"EFI PART\" signature", t.BackupProblem);
        Assert.Equal(1, t.Check(CheckRepair.None).Corruptions);
        Assert.Equal(1, t.Check(CheckRepair.All).CorruptionsFixed);
        var now = new byte[33 * 512];
        disk.Read(disk.Length - now.Length, now);
        Assert.Equal(good, now);
    }

    [Fact]
    public void CopiesThatDisagreeAreReportedAndTheBackupFollowsThePrimary()
    {
        using var disk = ThreePartitionDisk();
        var oldBackup = new byte[33 * 512];
        disk.Read(disk.Length - oldBackup.Length, oldBackup);
        Reopen(disk).Remove(3);
        disk.Write(disk.Length - oldBackup.Length, oldBackup); // a valid but stale backup
        var t = Reopen(disk);
        Assert.Equal("partition entries", t.CopiesDisagree);
        Assert.Equal([1, 2], t.Partitions.Select(p => p.Number));
        Assert.Equal(1, t.Check(CheckRepair.None).Corruptions);
        var r = t.Check(CheckRepair.All);
        Assert.Equal((1, 0), (r.CorruptionsFixed, r.Corruptions));
        Assert.Null(Reopen(disk).CopiesDisagree);
    }

    [Fact]
    public void BothCopiesDamagedIsCorrupt()
    {
        using var disk = ThreePartitionDisk();
        disk.Write(512, new byte[512]);
        disk.Write(disk.Length - 512, new byte[512]);
        Assert.Equal("gpt", PartitionTableRegistry.Default.Probe(disk)!.Value.Format.Name); // the protective MBR still says GPT
        var e = Assert.Throws<CorruptImageException>(() => PartitionTableRegistry.Default.Open(disk));
        Assert.Contains("Neither GPT copy is valid", e.Message);
    }

    [Fact]
    public void AGrownDiskGetsItsBackupMovedToTheEnd()
    {
        using var disk = ThreePartitionDisk();
        disk.Resize(96 * MiB);
        var t = Reopen(disk);
        Assert.Equal(131071, t.BackupHeaderLba);
        Assert.Null(t.BackupProblem);
        var r = t.Check(CheckRepair.None);
        Assert.Contains(r.Messages, m => m.Contains("not at the end of the disk"));
        t.Update(3, new PartitionUpdate { Name = "swap" }); // edits keep the layout (the backup where the primary says)
        Assert.Null(Reopen(disk).CopiesDisagree);
        var repaired = t.Check(CheckRepair.All);
        Assert.Equal((1, 0), (repaired.CorruptionsFixed, repaired.Corruptions));
        var after = Reopen(disk);
        Assert.Equal(96 * 2048 - 1, after.BackupHeaderLba);
        Assert.Empty(after.Warnings);
        Assert.Equal((96 * 2048 - 33) * 512L, after.UsableEnd); // the new space is usable
        Assert.Equal(32 * MiB, after.Add(Linux()).Length); // 63 MiB (where swap ended) to 95 MiB
    }

    [Fact]
    public void AShrunkDiskIsReadFromThePrimaryAndCheckFindsPartitionsPastTheEnd()
    {
        using var disk = ThreePartitionDisk();
        disk.Resize(32 * MiB);
        var t = Reopen(disk);
        Assert.NotNull(t.BackupProblem);
        var r = t.Check(CheckRepair.All);
        Assert.Contains(r.Messages, m => m.Contains("extends past the end of the disk"));
        Assert.True(r.Corruptions >= 1);
        Assert.Throws<CorruptImageException>(() => t.Open(3));
    }

    [Fact]
    public void AHybridMbrIsReportedAndKeptOnEdits()
    {
        using var disk = ThreePartitionDisk();
        var mbr = new byte[512];
        disk.Read(0, mbr);
        new Discemu.Partitions.Mbr.MbrRecord(0, default, 0x0C, default, 2048, 16384).WriteAt(mbr, 1);
        disk.Write(0, mbr);
        var t = Reopen(disk);
        Assert.True(t.IsHybridMbr);
        Assert.Contains(t.Warnings, w => w.StartsWith("Hybrid MBR") && w.Contains("type 0x0c"));
        Assert.Equal(0, t.Check(CheckRepair.None).Corruptions);
        t.Remove(3);
        var after = new byte[512];
        disk.Read(0, after);
        Assert.Equal(mbr, after);
    }

    [Fact]
    public void AMissingProtectiveMbrIsReportedAndWritten()
    {
        using var disk = ThreePartitionDisk();
        disk.Write(0, new byte[512]);
        Assert.Equal("gpt", PartitionTableRegistry.Default.Probe(disk)!.Value.Format.Name);
        var t = Reopen(disk);
        Assert.False(t.HasProtectiveMbr);
        Assert.Equal(1, t.Check(CheckRepair.None).Corruptions);
        Assert.Equal(1, t.Check(CheckRepair.All).CorruptionsFixed);
        Assert.True(Reopen(disk).HasProtectiveMbr);
    }

    [Fact]
    public void FourKibSectorTablesAreDetectedFromTheDisk()
    {
        using var disk = new MemoryDevice(64 * MiB);
        var t = NewTable(disk, 4096);
        Assert.Equal(6 * 4096, t.UsableStart);
        t.Add(Linux(8 * MiB, "data"));
        var again = Reopen(disk);
        Assert.Equal(4096, again.SectorSize);
        Assert.Equal(1 * MiB, again.Get(1).Start);
        Assert.Equal(8 * MiB, again.Get(1).Length);
        // The primary damaged: the backup (at the last 4 KiB sector) still tells the sector size.
        disk.Write(4096, new byte[4096]);
        var fromBackup = Reopen(disk);
        Assert.Equal(4096, fromBackup.SectorSize);
        Assert.NotNull(fromBackup.PrimaryProblem);
        Assert.Equal("data", fromBackup.Get(1).Name);
    }

    [Fact]
    public void OverlappingAndOutOfRangeEntriesAreReported()
    {
        using var disk = ThreePartitionDisk();
        var array = new byte[128 * 128];
        disk.Read(1024, array);
        var e = GptEntry.Read(array.AsSpan(128, 128));
        (e with { FirstLba = 2048 + 100, Unique = Guid.NewGuid() }).Write(array.AsSpan(3 * 128)); // overlaps partition 1
        (e with { FirstLba = 20, LastLba = 40 }).Write(array.AsSpan(4 * 128)); // before the first usable LBA
        (e with { FirstLba = 500, LastLba = 400 }).Write(array.AsSpan(5 * 128)); // ends before it starts
        disk.Write(1024, array);
        var t = Reopen(disk);
        Assert.NotNull(t.PrimaryProblem); // the array CRC no longer matches; fix the CRCs as a partitioner would have
        var header = disk.ReadSector(512);
        Assert.True(GptHeader.TryRead(header, out var h, out _));
        (h with { EntriesCrc = System.IO.Hashing.Crc32.HashToUInt32(array) }).Write(header);
        disk.Write(512, header);
        disk.Write(disk.Length - 512, new byte[512]);
        t = Reopen(disk);
        Assert.Null(t.PrimaryProblem);
        var r = t.Check(CheckRepair.None);
        string all = string.Join('\n', r.Messages);
        Assert.Contains("Partition 1 and partition 4 overlap", all);
        Assert.Contains("outside the usable range", all);
        Assert.Contains("ends (LBA 400) before it starts (LBA 500)", all);
        Assert.Equal(0, t.Get(6).Length);
    }
}

internal static class DeviceTestExtensions
{
    public static byte[] ReadSector(this BlockDevice d, long offset, int length = 512)
    {
        var b = new byte[length];
        d.Read(offset, b);
        return b;
    }
}
