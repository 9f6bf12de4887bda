using Discemu.Block;
using Discemu.Formats;
using Discemu.Partitions;
using Discemu.Partitions.Mbr;
using static Discemu.Tests.Partitions.PartitionTestKit;

namespace Discemu.Tests.Partitions;

public sealed class MbrTableTests
{
    private static PartitionTable NewTable(MemoryDevice disk, int sectorSize = 512)
        => MbrFormat.Instance.Create(disk, new PartitionTableCreateOptions { DiskSignature = 0x12345678, SectorSize = sectorSize });

    private static PartitionType T(byte code) => PartitionType.FromMbrCode(code);

    private static PartitionTable Reopen(BlockDevice disk, int? sectorSize = null)
        => PartitionTableRegistry.Default.Open(disk, new PartitionTableOpenOptions { SectorSize = sectorSize });

    [Fact]
    public void PrimaryExtendedAndLogicalPartitionsAreNumberedLikeLinux()
    {
        using var disk = new MemoryDevice(64 * MiB);
        var table = NewTable(disk);
        Assert.Equal("0x12345678", table.DiskId);
        table.Add(new PartitionSpec { Type = T(0x83), Length = 8 * MiB, Bootable = true });
        table.Add(new PartitionSpec { Type = T(0x05) });
        var five = table.Add(new PartitionSpec { Type = T(0x82), Length = 4 * MiB, Logical = true });
        var six = table.Add(new PartitionSpec { Type = T(0x83), Length = 4 * MiB, Logical = true });
        Assert.Equal(5, five.Number);
        Assert.Equal(6, six.Number);
        Assert.Equal(PartitionKind.Logical, six.Kind);
        // The first logical partition's EBR is the extended partition's first sector; the partition starts aligned after it.
        Assert.Equal(10 * MiB, five.Start);
        Assert.Equal(15 * MiB, six.Start);

        var again = Reopen(disk);
        Assert.IsType<MbrTable>(again);
        Assert.Equal(Describe(table.Partitions), Describe(again.Partitions));
        Assert.Equal([1, 2, 5, 6], again.Partitions.Select(p => p.Number));
        Assert.Equal(PartitionKind.Extended, again.Get(2).Kind);
        Assert.True(again.Get(1).Bootable);
        Assert.Equal(["boot"], again.Get(1).Flags);
        Assert.Equal(0, again.Check(CheckRepair.None).Corruptions);
    }

    [Fact]
    public void RemovingALogicalPartitionRenumbersTheOnesAfterIt()
    {
        using var disk = new MemoryDevice(64 * MiB);
        var table = NewTable(disk);
        table.Add(new PartitionSpec { Type = T(0x05) });
        foreach (byte type in new byte[] { 0x82, 0x83, 0x8E, 0x07 }) table.Add(new PartitionSpec { Type = T(type), Length = 2 * MiB, Logical = true });
        long sixStart = table.Get(6).Start;
        table.Remove(5);
        var again = Reopen(disk);
        Assert.Equal([1, 5, 6, 7], again.Partitions.Select(p => p.Number));
        Assert.Equal(sixStart, again.Get(5).Start);
        Assert.Equal((byte?)0x83, again.Get(5).Type.MbrCode);
        // A new logical partition goes to the end of the chain and may use the freed space.
        var added = again.Add(new PartitionSpec { Type = T(0x83), Length = 1 * MiB, Logical = true });
        Assert.Equal(8, added.Number);
        Assert.True(added.Start < sixStart);
        Assert.Equal(0, Reopen(disk).Check(CheckRepair.None).Corruptions);
        Assert.Equal(Describe(again.Partitions), Describe(Reopen(disk).Partitions));
    }

    [Fact]
    public void BootCodeAndDiskSignatureSurviveEdits()
    {
        using var disk = new MemoryDevice(16 * MiB);
        NewTable(disk);
        var code = new byte[440];
        new Random(5).NextBytes(code);
        disk.Write(0, code);
        var table = Reopen(disk);
        table.Add(new PartitionSpec { Type = T(0x0C), Length = 4 * MiB });
        table.Update(1, new PartitionUpdate { Bootable = true, Type = T(0x0E) });
        table.Add(new PartitionSpec { Type = T(0x83) });
        table.Remove(2);
        var sector = new byte[512];
        disk.Read(0, sector);
        Assert.Equal(code, sector[..440]);
        Assert.Equal("0x12345678", Reopen(disk).DiskId);
        Assert.Equal((byte?)0x0E, Reopen(disk).Get(1).Type.MbrCode);
        Assert.True(Reopen(disk).Get(1).Bootable);
    }

    [Fact]
    public void ChsFieldsUseTheGeometryAndCapPastCylinder1023()
    {
        // 255 heads x 63 sectors: sector 2048 is 0/32/33; past 1023 cylinders the fields hold 1023/254/63 (fe ff ff).
        using var disk = new MemoryDevice(20L << 30);
        var table = NewTable(disk);
        table.Add(new PartitionSpec { Type = T(0x83), Length = 1L << 30 });
        table.Add(new PartitionSpec { Type = T(0x83) });
        var sector = new byte[512];
        disk.Read(0, sector);
        Assert.Equal(new byte[] { 0x00, 0x20, 0x21, 0x00, 0x83, 0xAA, 0x28, 0x82 }, sector[446..454]);
        Assert.Equal(new byte[] { 0x00, 0xAA, 0x29, 0x82, 0x83, 0xFE, 0xFF, 0xFF }, sector[462..470]);
    }

    [Fact]
    public void ChsAddressesRoundTrip()
    {
        var g = MbrGeometry.Default;
        foreach (long lba in new long[] { 0, 1, 62, 63, 16064, 16065, 2048, 18431, 1023L * 16065 + 16064 })
        {
            var chs = ChsAddress.FromLba(lba, g);
            var bytes = new byte[3];
            chs.Write(bytes);
            Assert.Equal(chs, ChsAddress.Read(bytes));
            Assert.Equal(lba, chs.ToLba(g));
        }
        Assert.Equal(new ChsAddress(1023, 254, 63), ChsAddress.FromLba(1024L * 16065, g));
        Assert.Equal(new ChsAddress(0, 2, 4), ChsAddress.FromLba(2 * 16 + 3, new MbrGeometry(16, 16)));
    }

    [Fact]
    public void FourKibSectorsScaleEveryLba()
    {
        using var disk = new MemoryDevice(64 * MiB);
        var table = NewTable(disk, 4096);
        table.Add(new PartitionSpec { Type = T(0x83), Length = 8 * MiB });
        var sector = new byte[512];
        disk.Read(0, sector);
        Assert.Equal(256u, BitConverter.ToUInt32(sector, 454)); // 1 MiB / 4096
        Assert.Equal(2048u, BitConverter.ToUInt32(sector, 458));
        var again = Reopen(disk, 4096);
        Assert.Equal(1 * MiB, again.Get(1).Start);
        Assert.Equal(8 * MiB, again.Get(1).Length);
        Assert.Equal(2048L * 512, Reopen(disk).Get(1).Length); // read with 512-byte sectors, the same LBAs mean 8x less
    }

    [Fact]
    public void EditsAreRefusedWithReasons()
    {
        using var disk = new MemoryDevice(64 * MiB);
        var table = NewTable(disk);
        Assert.Contains("no extended partition", Assert.Throws<BadArgumentException>(() => table.Add(new PartitionSpec { Type = T(0x83), Logical = true })).Message);
        Assert.Contains("names", Assert.Throws<BadArgumentException>(() => table.Add(new PartitionSpec { Type = T(0x83), Name = "x" })).Message);
        Assert.Throws<BadArgumentException>(() => table.Add(new PartitionSpec { Type = PartitionType.FromGuid(PartitionTypes.LinuxFilesystem) }));
        Assert.Contains("multiple of the sector size", Assert.Throws<BadArgumentException>(() => table.Add(new PartitionSpec { Type = T(0x83), Length = 1000 })).Message);
        table.Add(new PartitionSpec { Type = T(0x05), Length = 8 * MiB });
        Assert.Contains("already an extended", Assert.Throws<BadArgumentException>(() => table.Add(new PartitionSpec { Type = T(0x0F) })).Message);
        table.Add(new PartitionSpec { Type = T(0x83), Logical = true, Length = 2 * MiB });
        Assert.Contains("remove them first", Assert.Throws<BadArgumentException>(() => table.Remove(1)).Message);
        Assert.Contains("inside an existing partition", Assert.Throws<BadArgumentException>(() => table.Add(new PartitionSpec { Type = T(0x83), Start = 2 * MiB })).Message);
        table.Add(new PartitionSpec { Type = T(0x83), Length = 4 * MiB });
        table.Add(new PartitionSpec { Type = T(0x83), Length = 4 * MiB });
        table.Add(new PartitionSpec { Type = T(0x83), Length = 4 * MiB });
        Assert.Contains("All four primary", Assert.Throws<BadArgumentException>(() => table.Add(new PartitionSpec { Type = T(0x83) })).Message);
        Assert.Throws<BadArgumentException>(() => table.Get(9));
        Assert.Contains("extended partition", Assert.Throws<BadArgumentException>(() => table.Open(1)).Message);
        Assert.Throws<BadArgumentException>(() => table.Update(2, new PartitionUpdate { Type = T(0x05) }));
    }

    private static byte[] Ebr(uint dataStart, uint dataSize, uint nextStart, uint nextSize)
    {
        var s = new byte[512];
        new MbrRecord(0, default, 0x83, default, dataStart, dataSize).WriteAt(s, 0);
        if (nextSize != 0) new MbrRecord(0, default, 0x05, default, nextStart, nextSize).WriteAt(s, 1);
        s[510] = 0x55;
        s[511] = 0xAA;
        return s;
    }

    private static MemoryDevice DiskWithExtended()
    {
        var disk = new MemoryDevice(64 * MiB);
        var table = NewTable(disk);
        table.Add(new PartitionSpec { Type = T(0x05), Start = 1 * MiB, Length = 32 * MiB });
        return disk;
    }

    [Fact]
    public void AnEbrChainThatLoopsIsCorrupt()
    {
        using var disk = DiskWithExtended();
        disk.Write(1 * MiB, Ebr(2048, 100, 4096, 200));
        disk.Write(1 * MiB + 4096 * 512, Ebr(2048, 100, 4096, 200)); // links to itself
        var e = Assert.Throws<CorruptImageException>(() => Reopen(disk));
        Assert.Contains("loops", e.Message);
    }

    [Fact]
    public void AnAbsurdlyLongEbrChainIsCorrupt()
    {
        using var disk = DiskWithExtended();
        for (uint i = 0; i < 1100; i++) disk.Write(1 * MiB + i * 2 * 512L, Ebr(1, 1, (i + 1) * 2, 2));
        Assert.Contains("more than 1024", Assert.Throws<CorruptImageException>(() => Reopen(disk)).Message);
    }

    [Fact]
    public void AnEbrLinkOutsideTheExtendedPartitionIsCorrupt()
    {
        using var disk = DiskWithExtended();
        disk.Write(1 * MiB, Ebr(2048, 100, 0x7FFF_FFFF, 200));
        Assert.Contains("outside the extended", Assert.Throws<CorruptImageException>(() => Reopen(disk)).Message);
    }

    [Fact]
    public void CheckReportsOverlapsPartitionsPastTheEndAndLogicalsOutsideTheExtended()
    {
        using var disk = DiskWithExtended();
        var s = new byte[512];
        disk.Read(0, s);
        new MbrRecord(0, default, 0x83, default, 40960, 20000).WriteAt(s, 1);  // overlaps the extended (2048..67583)
        new MbrRecord(0x12, default, 0x83, default, 120000, 20000).WriteAt(s, 2); // past the end, bad boot indicator
        disk.Write(0, s);
        disk.Write(1 * MiB, Ebr(2048, 70000, 0, 0)); // one logical running past the extended partition's end
        // A bad boot indicator makes probing refuse the sector (as Linux does), so open it as MBR explicitly.
        var r = MbrFormat.Instance.Open(disk).Check(CheckRepair.All);
        string all = string.Join('\n', r.Messages);
        Assert.Equal(4, r.Corruptions);
        Assert.Contains("overlap", all);
        Assert.Contains("past the end of the disk", all);
        Assert.Contains("invalid boot indicator 0x12", all);
        Assert.Contains("not inside the extended partition", all);
        Assert.Contains("cannot be repaired", all);
        Assert.Throws<CorruptImageException>(() => MbrFormat.Instance.Open(disk).Open(3));
    }

    [Fact]
    public void CreatingAnMbrErasesOldGptHeaders()
    {
        using var disk = new MemoryDevice(16 * MiB);
        Discemu.Partitions.Gpt.GptFormat.Instance.Create(disk);
        Assert.Equal("gpt", PartitionTableRegistry.Default.Probe(disk)!.Value.Format.Name);
        NewTable(disk);
        Assert.Equal("mbr", PartitionTableRegistry.Default.Probe(disk)!.Value.Format.Name);
        var tail = new byte[512];
        disk.Read(disk.Length - 512, tail);
        Assert.DoesNotContain("EFI PART", System.Text.Encoding.ASCII.GetString(tail));
    }
}
