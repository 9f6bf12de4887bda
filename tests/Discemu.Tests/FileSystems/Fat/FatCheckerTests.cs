using System.Buffers.Binary;
using Discemu.Block;
using Discemu.FileSystems.Fat;
using Discemu.Tests.Infrastructure;
using static Discemu.Tests.Cli.CliHarness;
using static Discemu.Tests.FileSystems.Fat.FatMkfsKit;
using static Discemu.Tests.FileSystems.Fat.FatTestKit;

namespace Discemu.Tests.FileSystems.Fat;

/// <summary>
/// The FAT checker against fsck.fat -n on images mkfs.fat and mcopy made, then damaged: both must flag each
/// kind of damage, and both must pass the undamaged image.
/// </summary>
public sealed class FatCheckerTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A 16 MiB FAT16 image (2 KiB clusters) with A.BIN and B.BIN (3 clusters each) and SUB/LONGNAMEFILE.TXT.</summary>
    private (byte[] Image, FatBootSector Boot, uint A, uint B) MakeSeed()
    {
        PeerTools.Require("mkfs.fat");
        PeerTools.Require("mcopy");
        string img = _dir.File("seed.img");
        PeerTools.RunOk("mkfs.fat", "-C", "-F", "16", "-s", "4", "-i", "12345678", img, "16384");
        string payload = _dir.File("a.bin");
        File.WriteAllBytes(payload, [.. Enumerable.Range(0, 5000).Select(i => (byte)i)]);
        Assert.Equal(0, Mtools("mcopy", "-i", img, payload, "::A.BIN").Code);
        Assert.Equal(0, Mtools("mcopy", "-i", img, payload, "::B.BIN").Code);
        Assert.Equal(0, Mtools("mmd", "-i", img, "::SUB").Code);
        Assert.Equal(0, Mtools("mcopy", "-i", img, payload, "::SUB/LONGNAMEFILE.TXT").Code);
        var bytes = File.ReadAllBytes(img);
        Assert.True(FatBootSector.TryRead(bytes, out var boot, out _));
        var a = FatDirectoryEntry.Read(RootEntry(bytes, boot, 0));
        var b = FatDirectoryEntry.Read(RootEntry(bytes, boot, 1));
        Assert.Equal("A.BIN", a.DisplayShortName);
        Assert.Equal("B.BIN", b.DisplayShortName);
        return (bytes, boot, a.FirstCluster, b.FirstCluster);
    }

    private static Span<byte> RootEntry(byte[] image, FatBootSector boot, int index)
        => image.AsSpan((int)(boot.RootDirStartSector * boot.BytesPerSector) + index * 32, 32);

    private static void SetFat16(byte[] image, FatBootSector boot, uint cluster, ushort value, bool onlySecond = false)
    {
        for (int i = onlySecond ? 1 : 0; i < boot.NumberOfFats; i++)
            BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan((int)((boot.ReservedSectors + i * boot.FatSize) * boot.BytesPerSector + cluster * 2)), value);
    }

    [Fact]
    public void TheUndamagedImageIsCleanForBoth()
    {
        PeerTools.Require("fsck.fat");
        var (image, _, _, _) = MakeSeed();
        string path = _dir.File("clean.img");
        File.WriteAllBytes(path, image);
        AssertFsckClean(path);
        var result = Check(path);
        Assert.True(result.ExitCode == 0, string.Join('\n', result.Messages));
        Assert.Equal(0, Run("check", path).Code);
    }

    [Theory]
    [InlineData("cross-link", "cross-linked", 2)]
    [InlineData("lost", "lost clusters", 3)]
    [InlineData("desync", "FAT 2 differs", 2)]
    [InlineData("loop", "loops", 2)]
    [InlineData("out-of-range", "out of range", 2)]
    [InlineData("size", "the size is", 2)]
    [InlineData("bad-name", "bad short name", 2)]
    [InlineData("bad-first-cluster", "first cluster", 2)]
    [InlineData("lfn-checksum", "checksum", 2)]
    [InlineData("dotdot", "\"..\" points", 2)]
    public void BothCheckersFlagTheDamage(string damage, string message, int exitCode)
    {
        PeerTools.Require("fsck.fat");
        var (image, boot, a, b) = MakeSeed();
        switch (damage)
        {
            case "cross-link": SetFat16(image, boot, a + 1, (ushort)(b + 1)); break;
            case "lost": SetFat16(image, boot, 1000, 0xFFFF); break;
            case "desync": SetFat16(image, boot, 900, 0xFFFF, onlySecond: true); break;
            case "loop": SetFat16(image, boot, a + 2, (ushort)a); break;
            case "out-of-range": SetFat16(image, boot, a + 1, 0xFFF0); break;
            case "size": BinaryPrimitives.WriteUInt32LittleEndian(RootEntry(image, boot, 1)[28..], 100000); break;
            case "bad-name": RootEntry(image, boot, 1)[2] = (byte)'?'; break;
            case "bad-first-cluster": BinaryPrimitives.WriteUInt16LittleEndian(RootEntry(image, boot, 1)[26..], 60000); break;
            case "lfn-checksum":
            case "dotdot":
            {
                var sub = FatDirectoryEntry.Read(RootEntry(image, boot, 2));
                Assert.True(sub.IsDirectory);
                int at = (int)((boot.FirstDataSector + (sub.FirstCluster - 2) * boot.SectorsPerCluster) * boot.BytesPerSector);
                if (damage == "dotdot") BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan(at + 32 + 26), (ushort)a);
                else
                {
                    // Entries 2 and 3 are the long name's two parts: both get a checksum of another short name.
                    Assert.Equal(0x0F, image[at + 64 + 11]);
                    Assert.Equal(0x0F, image[at + 96 + 11]);
                    image[at + 64 + 13] ^= 0x5A;
                    image[at + 96 + 13] ^= 0x5A;
                }
                break;
            }
        }
        string path = _dir.File($"{damage}.img");
        File.WriteAllBytes(path, image);
        var (fsckCode, fsckOut) = FsckFat(path);
        Assert.True(fsckCode != 0 || fsckOut.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length > 1, $"fsck.fat -n did not flag {damage}:\n{fsckOut}");
        var result = Check(path);
        string all = string.Join('\n', result.Messages);
        Assert.True(result.ExitCode == exitCode, $"exit {result.ExitCode}:\n{all}");
        Assert.Contains(message, all, StringComparison.OrdinalIgnoreCase);
        var cli = Run("check", path);
        Assert.Equal(exitCode, cli.Code);
        Assert.Contains(message, cli.Err, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void ABadBootSectorIsOneCorruption()
    {
        using var dev = new MemoryDevice(1474560);
        FatFormatter.Format(dev, new FatFormatOptions { Floppy = FatFloppyGeometry.Find("1.44M"), Invariant = true });
        dev.Write(13, new byte[] { 3 }); // sectors per cluster not a power of two
        var result = FatChecker.Check(dev);
        Assert.Equal(1, result.Corruptions);
        Assert.Contains("Boot sector", result.Messages[0]);
    }

    [Fact]
    public void ATruncatedVolumeIsReported()
    {
        using var dev = new MemoryDevice(1474560);
        FatFormatter.Format(dev, new FatFormatOptions { Floppy = FatFloppyGeometry.Find("1.44M"), Invariant = true });
        var head = new byte[512 * 100];
        dev.Read(0, head);
        var result = FatChecker.Check(new MemoryDevice(head));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("device holds only", result.Messages[0]);
    }

    [Fact]
    public void Fat32BackupBootSectorAndFsInfoAreChecked()
    {
        using var dev = new MemoryDevice(40L << 20);
        var boot = FatFormatter.Format(dev, new FatFormatOptions { Type = FatType.Fat32, Invariant = true });
        Assert.Equal(0, FatChecker.Check(dev).ExitCode);
        var info = new byte[512];
        dev.Read(512, info);
        BinaryPrimitives.WriteUInt32LittleEndian(info.AsSpan(488), 5);
        dev.Write(512, info);
        Assert.Contains(FatChecker.Check(dev).Messages, m => m.Contains("Free cluster summary wrong", StringComparison.Ordinal));
        dev.Write(boot.BackupBootSector * 512L + 71, "CHANGED"u8);
        Assert.Contains(FatChecker.Check(dev).Messages, m => m.Contains("backup", StringComparison.Ordinal));
    }

    /// <summary>Following a chain gives typed errors for loops and clusters out of range.</summary>
    [Fact]
    public void ChainLoopsAndOutOfRangeClustersAreTypedErrors()
    {
        using var dev = new MemoryDevice(1474560);
        var boot = FatFormatter.Format(dev, new FatFormatOptions { Floppy = FatFloppyGeometry.Find("1.44M"), Invariant = true });
        var fat = new byte[boot.FatSize * 512];
        dev.Read(512, fat);
        FatFormatter.SetEntry(fat, FatType.Fat12, 2, 3);
        FatFormatter.SetEntry(fat, FatType.Fat12, 3, 4);
        FatFormatter.SetEntry(fat, FatType.Fat12, 4, 2);      // 2 -> 3 -> 4 -> 2
        FatFormatter.SetEntry(fat, FatType.Fat12, 10, 4000);  // past the last cluster (2848)
        FatFormatter.SetEntry(fat, FatType.Fat12, 20, 21);
        FatFormatter.SetEntry(fat, FatType.Fat12, 21, 0xFFF);
        dev.Write(512, fat);
        var table = FatTable.Read(dev, boot, 0);
        Assert.Contains("loops", Assert.Throws<CorruptImageException>(() => table.Chain(2, 100)).Message);
        Assert.Contains("outside", Assert.Throws<CorruptImageException>(() => table.Chain(10, 100)).Message);
        Assert.Contains("outside", Assert.Throws<CorruptImageException>(() => table.Chain(5000, 100)).Message);
        Assert.Equal([20u, 21u], table.Chain(20, 100));
    }

    /// <summary>check on a partitioned disk checks the FAT inside the partition too; check IMAGE:N checks it alone.</summary>
    [Fact]
    public void DamageInsideAPartitionIsFoundFromTheDiskAndThePartition()
    {
        string path = _dir.File("disk.img");
        Assert.Equal(0, Run("mkfs", "fat", path, "--size", "16M", "--partition", "mbr", "--invariant", "-q").Code);
        var boot = Boot(Extract(_dir, path, 1L << 20, 512, "boot.bin"));
        using (var f = File.OpenWrite(path))
        {
            f.Position = (1L << 20) + (boot.ReservedSectors + boot.FatSize) * 512 + 40; // FAT 2 only
            f.Write([0xFF, 0xFF]);
        }
        var whole = Run("check", path);
        Assert.Equal(2, whole.Code);
        Assert.Contains("partition 1: ERROR: FAT 2 differs from FAT 1", whole.Err);
        var one = Run("check", path + ":1");
        Assert.Equal(2, one.Code);
        Assert.StartsWith("ERROR: FAT 2 differs from FAT 1", one.Err);
    }

    [Fact]
    public void RepairIsRefused()
    {
        string path = _dir.File("f.img");
        Assert.Equal(0, Run("mkfs", "fat", path, "--floppy", "720K", "-q").Code);
        AssertOneLineError(Run("check", "-r", "all", path), 1);
    }
}
