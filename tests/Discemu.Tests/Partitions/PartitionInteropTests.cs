using Discemu.Formats;
using Discemu.Partitions;
using Discemu.Partitions.Gpt;
using Discemu.Partitions.Mbr;
using Discemu.Tests.Infrastructure;
using static Discemu.Tests.Partitions.PartitionTestKit;

namespace Discemu.Tests.Partitions;

/// <summary>Tables we write are read the same by sfdisk and pass sgdisk -v; tables sfdisk, sgdisk and fdisk write are read the same by us.</summary>
public sealed class PartitionInteropTests : IDisposable
{
    private static readonly Guid DiskGuid = new("0520EB01-690A-41F0-8DC3-C5A596E4BE5D");
    private static readonly Guid U1 = new("11111111-2222-3333-4444-555555555555");
    private static readonly Guid U2 = new("21111111-2222-3333-4444-555555555555");
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static DiskImage OpenRw(string path) => ImageOpener.Default.Open(path, new ImageOpenOptions { Writable = true });

    private static PartitionTable Read(string path, int? sectorSize = null)
    {
        var image = ImageOpener.Default.Open(path);
        return PartitionTableRegistry.Default.Open(image, new PartitionTableOpenOptions { SectorSize = sectorSize, Path = path });
    }

    private static PartitionType Gpt(Guid g) => PartitionType.FromGuid(g);

    [Fact]
    public void OurGptIsByteForByteWhatSgdiskWrites()
    {
        PeerTools.Require("sgdisk");
        string theirs = SparseFile(_dir, "sgdisk.img", 64 * MiB), ours = SparseFile(_dir, "ours.img", 64 * MiB);
        PeerTools.RunOk("sgdisk", "-U", DiskGuid.ToString(), "-n", "1:2048:+8M", "-t", "1:ef00", "-c", "1:EFI sys", "-u", $"1:{U1}",
            "-n", "2:0:+8M", "-t", "2:8300", "-u", $"2:{U2}", "-A", "2:set:2", "-A", "2:set:60", theirs);
        using (var image = OpenRw(ours))
        {
            var t = GptFormat.Instance.Create(image, new PartitionTableCreateOptions { DiskGuid = DiskGuid });
            t.Add(new PartitionSpec { Type = Gpt(PartitionTypes.EfiSystem), Length = 8 * MiB, Name = "EFI sys", UniqueId = U1 });
            t.Add(new PartitionSpec { Type = Gpt(PartitionTypes.LinuxFilesystem), Length = 8 * MiB, UniqueId = U2, Bootable = true, Attributes = 1UL << 60 });
        }
        Assert.Equal(File.ReadAllBytes(theirs), File.ReadAllBytes(ours));
    }

    [Fact]
    public void OurMbrWithLogicalPartitionsIsByteForByteWhatSfdiskWrites()
    {
        PeerTools.Require("sfdisk");
        string theirs = SparseFile(_dir, "sfdisk.img", 64 * MiB), ours = SparseFile(_dir, "ours.img", 64 * MiB);
        SfdiskScript(theirs, "label: dos\nlabel-id: 0x12345678\n,8M,83,*\n,8M,c\n,,E\n,4M,82\n,4M,83\n,,8e\n");
        using (var image = OpenRw(ours))
        {
            var t = MbrFormat.Instance.Create(image, new PartitionTableCreateOptions { DiskSignature = 0x12345678 });
            t.Add(new PartitionSpec { Type = PartitionType.FromMbrCode(0x83), Length = 8 * MiB, Bootable = true });
            t.Add(new PartitionSpec { Type = PartitionTypes.Parse("fat32", false), Length = 8 * MiB });
            t.Add(new PartitionSpec { Type = PartitionTypes.Parse("extended", false) });
            t.Add(new PartitionSpec { Type = PartitionTypes.Parse("swap", false), Length = 4 * MiB, Logical = true });
            t.Add(new PartitionSpec { Type = PartitionTypes.Parse("linux", false), Length = 4 * MiB, Logical = true });
            t.Add(new PartitionSpec { Type = PartitionTypes.Parse("lvm", false), Logical = true });
        }
        Assert.Equal(File.ReadAllBytes(theirs), File.ReadAllBytes(ours));
    }

    [Fact]
    public void OurEditedTablesAreReadTheSameBySfdiskAndPassSgdiskVerify()
    {
        PeerTools.Require("sfdisk");
        PeerTools.Require("sgdisk");
        string gpt = SparseFile(_dir, "gpt.img", 256 * MiB), mbr = SparseFile(_dir, "mbr.img", 256 * MiB);
        using (var image = OpenRw(gpt))
        {
            var t = GptFormat.Instance.Create(image, new PartitionTableCreateOptions { EntryCount = 128 });
            t.Add(new PartitionSpec { Type = Gpt(PartitionTypes.BiosBoot), Length = 1 * MiB, Name = "grub" });
            t.Add(new PartitionSpec { Type = Gpt(PartitionTypes.EfiSystem), Length = 32 * MiB, Name = "EFI System Partition" });
            t.Add(new PartitionSpec { Type = Gpt(PartitionTypes.MicrosoftReserved), Length = 16 * MiB, Name = "Microsoft reserved partition" });
            t.Add(new PartitionSpec { Type = Gpt(PartitionTypes.MicrosoftBasicData), Length = 64 * MiB, Name = "Données", Attributes = GptAttributes.Parse("GUID:63 RequiredPartition") });
            t.Add(new PartitionSpec { Type = Gpt(PartitionTypes.LinuxSwap), Length = 8 * MiB, Number = 20 });
            t.Remove(3);
            t.Add(new PartitionSpec { Type = Gpt(PartitionTypes.LinuxHome), Name = "home", Start = 200 * MiB, End = 250 * MiB });
            t.Update(4, new PartitionUpdate { Bootable = true, Name = "data" });
        }
        AssertSgdiskClean(gpt);
        AssertSameAsPeer(Read(gpt), Sfdisk(gpt));

        using (var image = OpenRw(mbr))
        {
            var t = MbrFormat.Instance.Create(image);
            t.Add(new PartitionSpec { Type = PartitionType.FromMbrCode(0x07), Length = 20 * MiB, Start = 4 * MiB });
            t.Add(new PartitionSpec { Type = PartitionType.FromMbrCode(0x0F), Number = 4, Start = 100 * MiB });
            for (int i = 0; i < 6; i++) t.Add(new PartitionSpec { Type = PartitionType.FromMbrCode((byte)(i % 2 == 0 ? 0x83 : 0x82)), Length = (i + 1) * 3 * MiB, Logical = true });
            t.Remove(7);
            t.Remove(5);
            t.Add(new PartitionSpec { Type = PartitionType.FromMbrCode(0x8E), Length = 2 * MiB, Logical = true });
            t.Update(6, new PartitionUpdate { Bootable = true });
            t.Add(new PartitionSpec { Type = PartitionType.FromMbrCode(0x0C), Start = 30 * MiB, Length = 10 * MiB, Number = 2 });
        }
        AssertSameAsPeer(Read(mbr), Sfdisk(mbr));
    }

    [Fact]
    public void SfdiskMbrWithPrimaryExtendedAndLogicalPartitionsIsReadIdentically()
    {
        PeerTools.Require("sfdisk");
        string path = SparseFile(_dir, "disk.img", 128 * MiB);
        SfdiskScript(path, "label: dos\n,10M,7\n,,85\n,5M,83,*\n,7M,82\n,1M,b\n,,fd\n");
        var t = Read(path);
        Assert.Equal([1, 2, 5, 6, 7, 8], t.Partitions.Select(p => p.Number));
        AssertSameAsPeer(t, Sfdisk(path));
        Assert.Equal(0, t.Check(CheckRepair.None).Corruptions);
    }

    [Fact]
    public void SgdiskGptWithManyEntriesNamesAndAttributesIsReadIdentically()
    {
        PeerTools.Require("sgdisk");
        PeerTools.Require("sfdisk");
        string path = SparseFile(_dir, "disk.img", 128 * MiB);
        var args = new List<string>();
        string[] codes = ["8300", "ef00", "0700", "8200", "8e00", "fd00", "ef02", "0c01", "a503", "af00"];
        for (int i = 1; i <= 40; i++)
        {
            int number = i == 40 ? 128 : i; // the last one in the last slot
            args.AddRange(["-n", $"{number}:0:+1M", "-t", $"{number}:{codes[i % codes.Length]}", "-c", $"{number}:part {i} é"]);
            if (i % 3 == 0) args.AddRange(["-A", $"{number}:set:{(i % 2 == 0 ? 0 : 2)}", "-A", $"{number}:set:{48 + i % 16}"]);
        }
        PeerTools.RunOk("sgdisk", [.. args, path]);
        var t = Read(path);
        Assert.Equal(40, t.Partitions.Count);
        Assert.Equal(128, t.Partitions[^1].Number);
        Assert.Equal("part 40 é", t.Partitions[^1].Name);
        AssertSameAsPeer(t, Sfdisk(path));
        Assert.Equal(0, t.Check(CheckRepair.None).Corruptions);
    }

    [Fact]
    public void SgdiskHybridMbrIsDetected()
    {
        PeerTools.Require("sgdisk");
        string path = SparseFile(_dir, "disk.img", 64 * MiB);
        PeerTools.RunOk("sgdisk", "-n", "1:0:+8M", "-t", "1:ef00", "-n", "2:0:+8M", "-t", "2:0700", path);
        PeerTools.RunOk("sgdisk", "-h", "2", path);
        var t = Assert.IsType<GptTable>(Read(path));
        Assert.True(t.IsHybridMbr);
        Assert.Contains(t.Warnings, w => w.Contains("type 0x07"));
        Assert.Equal(0, t.Check(CheckRepair.None).Corruptions);
    }

    [Fact]
    public void FourKibSectorGptsInteroperateWithFdisk()
    {
        PeerTools.Require("fdisk");
        string theirs = SparseFile(_dir, "fdisk.img", 64 * MiB);
        var (code, _, err) = PeerTools.Run("sh", ["-c", "printf 'g\\nn\\n1\\n\\n+8M\\nt\\n1\\nn\\n2\\n\\n+20M\\nn\\n3\\n\\n\\nw\\n' | fdisk -b 4096 \"$0\"", theirs]);
        Assert.True(code == 0, err);
        var t = Read(theirs);
        Assert.Equal(4096, t.SectorSize);
        AssertSameAsFdisk(t, theirs);

        string ours = SparseFile(_dir, "ours.img", 64 * MiB);
        using (var image = OpenRw(ours))
        {
            var o = GptFormat.Instance.Create(image, new PartitionTableCreateOptions { SectorSize = 4096 });
            o.Add(new PartitionSpec { Type = Gpt(PartitionTypes.EfiSystem), Length = 8 * MiB });
            o.Add(new PartitionSpec { Type = Gpt(PartitionTypes.LinuxFilesystem) });
        }
        AssertSameAsFdisk(Read(ours), ours);
        Assert.Equal(0, Read(ours).Check(CheckRepair.None).Corruptions);
    }

    /// <summary>fdisk -b 4096 -l must list the same partitions (start, sectors, type GUID, partition GUID).</summary>
    private static void AssertSameAsFdisk(PartitionTable t, string path)
    {
        string listing = PeerTools.RunOk("fdisk", "-b", "4096", "-l", "-o", "Device,Start,Sectors,Type-UUID,UUID", path);
        var rows = listing.Split('\n').Where(l => l.StartsWith(path, StringComparison.Ordinal)).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
        Assert.Contains("Sector size (logical/physical): 4096 bytes", listing);
        Assert.Equal(t.Partitions.Count, rows.Count);
        foreach (var (p, r) in t.Partitions.Zip(rows))
        {
            Assert.Equal(path + p.Number, r[0]);
            Assert.Equal(p.Start / 4096, long.Parse(r[1], System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(p.Length / 4096, long.Parse(r[2], System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(p.Type.Guid, Guid.Parse(r[3]));
            Assert.Equal(p.UniqueId, Guid.Parse(r[4]));
        }
    }

    [Fact]
    public void APartitionTableInsideAQcow2IsWhatQemuImgAndSfdiskSee()
    {
        PeerTools.Require("qemu-img");
        PeerTools.Require("sfdisk");
        string qcow2 = _dir.File("disk.qcow2");
        var data = new byte[3 * 65536 + 512];
        new Random(7).NextBytes(data);
        using (var image = Discemu.Formats.Qcow2.Qcow2Format.Instance.Create(new ImageCreateRequest(qcow2, 128 * MiB, CreateOptions.Empty, ImageOpener.Default)))
        {
            var t = GptFormat.Instance.Create(image);
            t.Add(new PartitionSpec { Type = Gpt(PartitionTypes.EfiSystem), Length = 16 * MiB, Name = "ESP" });
            var p = t.Add(new PartitionSpec { Type = Gpt(PartitionTypes.LinuxFilesystem), Name = "root" });
            using var part = t.Open(p.Number);
            part.Write(part.Length - data.Length, data);
        }
        PeerTools.RunOk("qemu-img", "check", qcow2);
        string raw = _dir.File("disk.raw");
        PeerTools.RunOk("qemu-img", "convert", "-f", "qcow2", "-O", "raw", qcow2, raw);
        AssertSgdiskCleanIfInstalled(raw);
        var table = Read(qcow2);
        AssertSameAsPeer(table, Sfdisk(raw));
        var peer = Sfdisk(raw).Partitions[1];
        var onDisk = new byte[data.Length];
        using (var fs = File.OpenRead(raw))
        {
            fs.Position = (peer.Start + peer.Size) * 512 - data.Length;
            fs.ReadExactly(onDisk);
        }
        Assert.Equal(data, onDisk);

        // And the other way: sfdisk's table in a qcow2 made by qemu-img, read through the IMAGE:N path helper.
        string raw2 = SparseFile(_dir, "sf.raw", 64 * MiB);
        SfdiskScript(raw2, "label: dos\n,8M,c\n,,E\n,16M,83\n");
        using (var fs = new FileStream(raw2, FileMode.Open, FileAccess.Write))
        {
            fs.Position = Sfdisk(raw2).Partitions.Single(q => q.Number == 5).Start * 512;
            fs.Write(data);
        }
        string qcow2b = _dir.File("sf.qcow2");
        PeerTools.RunOk("qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw2, qcow2b);
        using var opened = PartitionPath.Parse(qcow2b + ":5").Open();
        Assert.Equal(16 * MiB, opened.Device.Length);
        var back = new byte[data.Length];
        opened.Device.Read(0, back);
        Assert.Equal(data, back);
        Assert.Equal("qcow2", opened.Image.Format.Name);
    }

    private static void AssertSgdiskCleanIfInstalled(string path)
    {
        if (PeerTools.Find("sgdisk") is not null) AssertSgdiskClean(path);
    }

    [Fact]
    public void RepairedAndRelocatedTablesPassSgdiskVerify()
    {
        PeerTools.Require("sgdisk");
        string path = SparseFile(_dir, "disk.img", 64 * MiB);
        PeerTools.RunOk("sgdisk", "-n", "1:0:+8M", "-n", "2:0:+8M", "-c", "2:two", path);
        using (var fs = new FileStream(path, FileMode.Open, FileAccess.Write))
        {
            fs.Position = 512 + 24;
            fs.Write([9]); // the primary header's MyLBA: CRC mismatch
            fs.SetLength(96 * MiB); // and the disk grew
        }
        var t = Assert.IsType<GptTable>(Read(path));
        Assert.NotNull(t.PrimaryProblem);
        using (var image = OpenRw(path))
        {
            var rw = PartitionTableRegistry.Default.Open(image);
            var r = rw.Check(CheckRepair.All);
            Assert.Equal(0, r.Corruptions);
            Assert.Equal(2, r.CorruptionsFixed);
        }
        AssertSgdiskClean(path);
        var after = Sfdisk(path);
        Assert.Equal("two", after.Partitions[1].Name);
        Assert.Equal(96 * 2048 - 34, after.LastLba);
    }
}
