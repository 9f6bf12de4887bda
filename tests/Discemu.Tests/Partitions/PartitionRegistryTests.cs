using Discemu.Block;
using Discemu.Partitions;
using Discemu.Partitions.Gpt;
using Discemu.Partitions.Mbr;
using static Discemu.Tests.Partitions.PartitionTestKit;

namespace Discemu.Tests.Partitions;

public sealed class PartitionRegistryTests
{
    [Fact]
    public void TheDefaultRegistryListsGptThenMbrAndFindsAliases()
    {
        var r = PartitionTableRegistry.Default;
        Assert.Equal(["gpt", "mbr"], r.Formats.Select(f => f.Name));
        Assert.Same(MbrFormat.Instance, r.Find("dos"));
        Assert.Same(MbrFormat.Instance, r.Find("MSDOS"));
        Assert.Null(r.TryFind("apm"));
        Assert.Throws<BadArgumentException>(() => r.Find("apm"));
        Assert.Throws<ArgumentException>(() => new PartitionTableRegistry(GptFormat.Instance, GptFormat.Instance));
    }

    [Fact]
    public void BlankDisksAndFileSystemBootSectorsHaveNoTable()
    {
        using var blank = new MemoryDevice(4 * MiB);
        Assert.Null(PartitionTableRegistry.Default.Probe(blank));
        Assert.Null(PartitionTableRegistry.Default.TryOpen(blank));
        Assert.Contains("no partition table", Assert.Throws<BadArgumentException>(() => PartitionTableRegistry.Default.Open(blank)).Message);

        // A FAT16 boot sector: jump, BPB (512 bytes/sector, 4 sectors/cluster), "FAT16" at 54, boot code where MBR records would be.
        var fat = new byte[512];
        fat[0] = 0xEB; fat[1] = 0x3C; fat[2] = 0x90;
        fat[11] = 0x00; fat[12] = 0x02; fat[13] = 4;
        "FAT16   "u8.CopyTo(fat.AsSpan(54));
        fat[446] = 0x80; // even when the boot code happens to look like records
        fat[510] = 0x55; fat[511] = 0xAA;
        Assert.Equal(0, MbrFormat.Instance.Probe(fat, fat, 4 * MiB));
        var ntfs = (byte[])fat.Clone();
        "NTFS    "u8.CopyTo(ntfs.AsSpan(3));
        Assert.Equal(0, MbrFormat.Instance.Probe(ntfs, ntfs, 4 * MiB));
        // A boot sector whose records hold boot indicators other than 0x00/0x80 is not an MBR (as Linux decides).
        var junk = new byte[512];
        junk[446] = 0x12; junk[510] = 0x55; junk[511] = 0xAA;
        Assert.Equal(0, MbrFormat.Instance.Probe(junk, junk, 4 * MiB));
    }

    [Fact]
    public void ProbeScoresFollowTheContent()
    {
        using var disk = new MemoryDevice(8 * MiB);
        var mbr = MbrFormat.Instance.Create(disk);
        Assert.Equal(("mbr", 40), Best(disk)); // an empty MBR
        mbr.Add(new PartitionSpec { Type = PartitionType.FromMbrCode(0x83) });
        Assert.Equal(("mbr", 50), Best(disk));

        GptFormat.Instance.Create(disk);
        Assert.Equal(("gpt", 100), Best(disk));
        disk.Write(512, new byte[512]);
        Assert.Equal(("gpt", 90), Best(disk)); // only the backup header is valid
        disk.Write(disk.Length - 512, new byte[512]);
        Assert.Equal(("gpt", 80), Best(disk)); // a protective MBR and nothing else: a damaged GPT, opening says why

        using var noMbr = new MemoryDevice(8 * MiB);
        GptFormat.Instance.Create(noMbr);
        noMbr.Write(0, new byte[512]);
        Assert.Equal(("gpt", 60), Best(noMbr));
        // A GPT left behind under an MBR that has partitions is stale: the MBR wins.
        var m = new byte[512];
        new MbrRecord(0, default, 0x83, default, 2048, 4096).WriteAt(m, 0);
        m[510] = 0x55; m[511] = 0xAA;
        noMbr.Write(0, m);
        Assert.Equal(("mbr", 50), Best(noMbr));
    }

    private static (string, int) Best(BlockDevice disk) => PartitionTableRegistry.Default.Probe(disk) is { } b ? (b.Format.Name, b.Score) : ("none", 0);

    [Fact]
    public void ProbesNeverThrowOnShortOrOddInput()
    {
        var rng = new Random(1);
        for (int len = 0; len < 9000; len += 97)
        {
            var head = new byte[len];
            rng.NextBytes(head);
            if (len > 512) { head[510] = 0x55; head[511] = 0xAA; }
            foreach (var f in PartitionTableRegistry.Default.Formats)
                Assert.InRange(f.Probe(head, head.AsSpan(0, Math.Min(len, 4096)), len), 0, 100);
        }
    }

    [Fact]
    public void TinyDisksAreRefusedWithTypedErrors()
    {
        using var tiny = new MemoryDevice(1024);
        Assert.Throws<BadArgumentException>(() => GptFormat.Instance.Create(tiny));
        Assert.Throws<CorruptImageException>(() => GptFormat.Instance.Open(tiny));
        Assert.Throws<BadArgumentException>(() => MbrFormat.Instance.Create(new MemoryDevice(512)));
        Assert.Throws<CorruptImageException>(() => MbrFormat.Instance.Open(new MemoryDevice(100)));
        Assert.Throws<BadArgumentException>(() => MbrFormat.Instance.Create(new MemoryDevice(MiB), new PartitionTableCreateOptions { SectorSize = 520 }));
        Assert.Throws<BadArgumentException>(() => GptFormat.Instance.Create(new MemoryDevice(MiB), new PartitionTableCreateOptions { EntryCount = 0 }));
    }

    [Fact]
    public void TypesParseFromAliasesGuidsAndHexBytes()
    {
        Assert.Equal(PartitionTypes.EfiSystem, PartitionTypes.Parse("esp", true).Guid);
        Assert.Equal((byte?)0xEF, PartitionTypes.Parse("ESP", false).MbrCode);
        Assert.Equal((byte?)0x0C, PartitionTypes.Parse("fat32", false).MbrCode);
        Assert.Equal(PartitionTypes.MicrosoftBasicData, PartitionTypes.Parse("ntfs", true).Guid);
        Assert.Equal((byte?)0x83, PartitionTypes.Parse("83", false).MbrCode);
        Assert.Equal((byte?)0x0C, PartitionTypes.Parse("0xc", false).MbrCode);
        var g = Guid.NewGuid();
        Assert.Equal(g, PartitionTypes.Parse(g.ToString(), true).Guid);
        Assert.Equal("Unknown", PartitionType.FromGuid(g).Name);
        Assert.Equal("W95 FAT32 (LBA)", PartitionType.FromMbrCode(0x0C).Name);
        Assert.Equal("0x0c", PartitionType.FromMbrCode(0x0C).ToString());
        Assert.Equal("C12A7328-F81F-11D2-BA4B-00A0C93EC93B", PartitionType.FromGuid(PartitionTypes.EfiSystem).ToString());
        Assert.Contains("GPT disks", Assert.Throws<BadArgumentException>(() => PartitionTypes.Parse("extended", true)).Message);
        Assert.Contains("MBR disks", Assert.Throws<BadArgumentException>(() => PartitionTypes.Parse("bios-boot", false)).Message);
        Assert.Throws<BadArgumentException>(() => PartitionTypes.Parse("0", false));
        Assert.Throws<BadArgumentException>(() => PartitionTypes.Parse("123", false));
        Assert.Throws<BadArgumentException>(() => PartitionTypes.Parse("83", true));
        Assert.Throws<BadArgumentException>(() => PartitionTypes.Parse(Guid.Empty.ToString(), true));
    }

    [Fact]
    public void GptAttributesUseSfdisksWords()
    {
        ulong a = GptAttributes.Parse("RequiredPartition LegacyBIOSBootable GUID:60,63");
        Assert.Equal(1UL | 4UL | 1UL << 60 | 1UL << 63, a);
        Assert.Equal("RequiredPartition LegacyBIOSBootable GUID:60,63", GptAttributes.Format(a));
        Assert.Equal(["RequiredPartition", "LegacyBIOSBootable", "GUID:60", "GUID:63"], GptAttributes.Names(a));
        Assert.Equal(2UL | 1UL << 5, GptAttributes.Parse("noblockioprotocol bit:5"));
        Assert.Equal("NoBlockIOProtocol bit:5", GptAttributes.Format(2UL | 1UL << 5));
        Assert.Equal(0xF0UL, GptAttributes.Parse("0xf0"));
        Assert.Equal(0UL, GptAttributes.Parse(""));
        Assert.Throws<BadArgumentException>(() => GptAttributes.Parse("GUID:47"));
        Assert.Throws<BadArgumentException>(() => GptAttributes.Parse("bit:64"));
        Assert.Throws<BadArgumentException>(() => GptAttributes.Parse("Hidden"));
    }
}
