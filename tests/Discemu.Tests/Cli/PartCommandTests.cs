using System.Text.Json;
using Discemu.Tests.Infrastructure;
using Discemu.Tests.Partitions;
using static Discemu.Tests.Cli.CliHarness;

namespace Discemu.Tests.Cli;

public sealed class PartCommandTests : IDisposable
{
    private const long MiB = 1L << 20;
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Disk(string name = "disk.img", long size = 64 * MiB) => PartitionTestKit.SparseFile(_dir, name, size);

    private static void Ok(params string[] args)
    {
        var r = Run(args);
        Assert.True(r.Code == 0, $"discemu {string.Join(' ', args)} exited {r.Code}: {r.Err}");
    }

    [Fact]
    public void CreateAddAndListAGpt()
    {
        string disk = Disk();
        var created = Run("part", "create", "--disk-id", "0520EB01-690A-41F0-8DC3-C5A596E4BE5D", disk, "gpt");
        Assert.Equal(0, created.Code);
        Assert.Equal("Created a GPT partition table (disk identifier 0520EB01-690A-41F0-8DC3-C5A596E4BE5D).\n", created.Out);
        var added = Run("part", "add", disk, "--type", "esp", "--size", "8M", "--name", "EFI sys");
        Assert.Equal("Added partition 1: EFI System, bytes 1048576..9437184 (8 MiB).\n", added.Out);
        Ok("part", "add", disk, "-t", "linux", "-s", "16M", "--bootable", "--attrs", "GUID:60", "-n", "root");
        Ok("part", "add", "-q", disk, "-t", "swap");
        var list = Run("part", disk);
        Assert.Equal(0, list.Code);
        string[] lines = list.Out.Split('\n');
        Assert.Equal($"Disk {disk}: 64 MiB (67108864 bytes), 131072 sectors of 512 bytes", lines[0]);
        Assert.Equal("Partition table: gpt", lines[1]);
        Assert.Equal("Disk identifier: 0520EB01-690A-41F0-8DC3-C5A596E4BE5D", lines[2]);
        Assert.Equal("Number     Start       End    Size  Type              Name     Flags", lines[5]);
        Assert.Equal("     1   1048576   9437184   8 MiB  EFI System        EFI sys", lines[6]);
        Assert.Equal("     2   9437184  26214400  16 MiB  Linux filesystem  root     LegacyBIOSBootable GUID:60", lines[7]);
        Assert.StartsWith("     3  26214400  66060288  38 MiB  Linux swap", lines[8]);

        using var json = JsonDocument.Parse(Run("part", "--output", "json", disk).Out);
        var root = json.RootElement;
        Assert.Equal("gpt", root.GetProperty("table").GetString());
        Assert.Equal(512, root.GetProperty("sector-size").GetInt32());
        var p2 = root.GetProperty("partitions")[1];
        Assert.Equal(2, p2.GetProperty("number").GetInt32());
        Assert.Equal(9437184, p2.GetProperty("start").GetInt64());
        Assert.Equal(16 * MiB, p2.GetProperty("size").GetInt64());
        Assert.Equal("0FC63DAF-8483-4772-8E79-3D69D8477DE4", p2.GetProperty("type").GetString());
        Assert.Equal("root", p2.GetProperty("name").GetString());
        Assert.True(p2.GetProperty("bootable").GetBoolean());
        Assert.Equal(["LegacyBIOSBootable", "GUID:60"], p2.GetProperty("flags").EnumerateArray().Select(f => f.GetString()));

        if (PeerTools.Find("sfdisk") is not null || PeerTools.InCi)
        {
            var peer = PartitionTestKit.Sfdisk(disk);
            Assert.Equal(["EFI sys", "root", null], peer.Partitions.Select(p => p.Name));
            Assert.Equal(p2.GetProperty("uuid").GetString(), peer.Partitions[1].Uuid);
        }
    }

    [Fact]
    public void MbrWithLogicalPartitionsRemoveAndSet()
    {
        string disk = Disk();
        Ok("part", "create", disk, "mbr", "--disk-id", "0x12345678");
        Ok("part", "add", disk, "-t", "fat32", "-s", "8M", "--bootable");
        Ok("part", "add", disk, "-t", "extended");
        Ok("part", "add", disk, "--logical", "-t", "swap", "-s", "4M");
        Ok("part", "add", disk, "--logical", "-s", "4M");
        Ok("part", "add", disk, "--logical", "-t", "0x8e", "-s", "4M");
        Ok("part", "rm", disk, "5");
        Ok("part", "set", disk, "5", "--type", "ntfs", "--bootable");
        Ok("part", "set", disk, "1", "--bootable", "false");
        using var json = JsonDocument.Parse(Run("part", disk, "--output", "json").Out);
        var parts = json.RootElement.GetProperty("partitions").EnumerateArray().ToList();
        Assert.Equal("0x12345678", json.RootElement.GetProperty("disk-id").GetString());
        Assert.Equal([1, 2, 5, 6], parts.Select(p => p.GetProperty("number").GetInt32()));
        Assert.Equal(["primary", "extended", "logical", "logical"], parts.Select(p => p.GetProperty("kind").GetString()));
        Assert.Equal(["0x0c", "0x05", "0x07", "0x8e"], parts.Select(p => p.GetProperty("type").GetString()));
        Assert.Equal([false, false, true, false], parts.Select(p => p.GetProperty("bootable").GetBoolean()));
        Assert.Contains("HPFS/NTFS/exFAT (07)", Run("part", disk).Out);
        if (PeerTools.Find("sfdisk") is not null || PeerTools.InCi)
        {
            var peer = PartitionTestKit.Sfdisk(disk);
            Assert.Equal(["c", "5", "7", "8e"], peer.Partitions.Select(p => p.Type));
            Assert.Equal([false, false, true, false], peer.Partitions.Select(p => p.Bootable));
        }
    }

    [Fact]
    public void CreateRefusesToReplaceATableWithoutForce()
    {
        string disk = Disk();
        Ok("part", "create", disk, "gpt");
        Ok("part", "add", disk);
        string line = AssertOneLineError(Run("part", "create", disk, "mbr"));
        Assert.Equal($"discemu: {disk}: The disk already has a GPT partition table; use --force to replace it.", line);
        Assert.Contains("gpt", Run("part", disk).Out);
        Ok("part", "create", "--force", disk, "mbr");
        Assert.Contains("Partition table: mbr", Run("part", disk).Out);
        Assert.DoesNotContain("Number", Run("part", disk).Out);
    }

    [Fact]
    public void BadInputIsOneLine()
    {
        string blank = Disk("blank.img", 4 * MiB);
        Assert.Equal($"discemu: {blank}: The disk has no partition table (MBR or GPT).", AssertOneLineError(Run("part", blank)));
        string disk = Disk();
        Ok("part", "create", disk, "gpt");
        Assert.Contains("Unknown partition type 'fat64'", AssertOneLineError(Run("part", "add", disk, "-t", "fat64")));
        Assert.Contains("does not exist on GPT disks", AssertOneLineError(Run("part", "add", disk, "-t", "extended")));
        Assert.Contains("must be a non-negative multiple of the sector size", AssertOneLineError(Run("part", "add", disk, "-s", "1000")));
        Assert.Contains("No free space of", AssertOneLineError(Run("part", "add", disk, "-s", "1G")));
        Assert.Contains("Partition 3 does not exist", AssertOneLineError(Run("part", "rm", disk, "3")));
        Assert.Contains("Nothing to change", AssertOneLineError(Run("part", "set", disk, "1")));
        Assert.Contains("Unsupported sector size 1000", AssertOneLineError(Run("part", "create", "--sector-size", "1000", disk, "gpt")));
        AssertOneLineError(Run("part", "create", disk, "apm"));
        AssertOneLineError(Run("part", "create", _dir.File("missing.img"), "gpt"));
        Assert.Equal(0, Run("part", "--help").Code);
    }

    [Fact]
    public void FourKibSectorTablesAreListedInBytes()
    {
        string disk = Disk();
        Ok("part", "create", "--sector-size", "4096", disk, "gpt");
        Ok("part", "add", disk, "-s", "8M");
        var out1 = Run("part", disk).Out;
        Assert.Contains("16384 sectors of 4096 bytes", out1);
        Assert.Contains("     1  1048576  9437184  8 MiB  Linux filesystem", out1);
    }

    [Fact]
    public void PartWorksThroughAQcow2()
    {
        PeerTools.Require("qemu-img");
        string qcow2 = _dir.File("disk.qcow2");
        PeerTools.RunOk("qemu-img", "create", "-f", "qcow2", qcow2, "64M");
        Ok("part", "create", qcow2, "gpt");
        Ok("part", "add", qcow2, "-t", "esp", "-s", "8M");
        PeerTools.RunOk("qemu-img", "check", qcow2);
        string raw = _dir.File("disk.raw");
        PeerTools.RunOk("qemu-img", "convert", "-O", "raw", qcow2, raw);
        PartitionTestKit.AssertSgdiskClean(raw);
        Assert.Contains("EFI System", Run("part", qcow2).Out);
    }

    [Fact]
    public void CheckVerifiesAndRepairsARawDisksPartitionTable()
    {
        string disk = Disk();
        Ok("part", "create", disk, "gpt");
        Ok("part", "add", disk, "-s", "8M");
        var clean = Run("check", disk);
        Assert.Equal((0, "No errors were found on the image.\n"), (clean.Code, clean.Out));
        using (var fs = new FileStream(disk, FileMode.Open, FileAccess.Write))
        {
            fs.Position = 512 + 40;
            fs.Write([0xFF]);
        }
        var damaged = Run("check", disk);
        Assert.Equal(2, damaged.Code);
        Assert.Contains("ERROR: The primary GPT is damaged (header CRC32 mismatch)", damaged.Err);
        Assert.Contains("1 errors were found on the image.", damaged.Out);
        Assert.Contains("Warning: The primary GPT is damaged", Run("part", disk).Out);
        using (var json = JsonDocument.Parse(Run("check", "--output", "json", disk).Out))
        {
            Assert.Equal("gpt", json.RootElement.GetProperty("partition-table").GetString());
            Assert.Equal(1, json.RootElement.GetProperty("corruptions").GetInt32());
        }
        var repaired = Run("check", "-r", "all", disk);
        Assert.Equal(0, repaired.Code);
        Assert.Contains("1 corruptions", repaired.Out);
        Assert.Equal(0, Run("check", disk).Code);
        if (PeerTools.Find("sgdisk") is not null || PeerTools.InCi) PartitionTestKit.AssertSgdiskClean(disk);

        // Both copies gone: one corruption, the reason on stderr.
        using (var fs = new FileStream(disk, FileMode.Open, FileAccess.Write))
        {
            fs.Position = 512;
            fs.Write(new byte[512]);
            fs.Position = fs.Length - 512;
            fs.Write(new byte[512]);
        }
        var gone = Run("check", disk);
        Assert.Equal(2, gone.Code);
        Assert.Contains("Neither GPT copy is valid", gone.Err);

        string blank = Disk("blank.img", MiB);
        Assert.Equal(63, Run("check", blank).Code);
    }
}
