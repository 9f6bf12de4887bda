using System.Diagnostics;
using System.Text.Json;
using Discemu.Acquisition;
using Discemu.Tests.Cli;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Acquisition;

/// <summary>What the logs say about the source: sysfs and udev facts of block devices, and a real loop device.</summary>
public sealed class SourceIdentityTests
{
    /// <summary>A fake /sys with a SATA disk "sdb" and its partition "sdb1", laid out as the kernel does (class links into devices/).</summary>
    private static (string Sys, string Udev, string Dev) FakeSystem(TempDir dir, bool withSysfsSerial)
    {
        string sys = dir.File("sys"), udev = dir.File("udev"), dev = dir.File("dev");
        string disk = Path.Combine(sys, "devices", "pci0000:00", "ata1", "host0", "block", "sdb");
        string part = Path.Combine(disk, "sdb1");
        Directory.CreateDirectory(Path.Combine(disk, "device"));
        Directory.CreateDirectory(Path.Combine(disk, "queue"));
        Directory.CreateDirectory(part);
        Directory.CreateDirectory(Path.Combine(sys, "class", "block"));
        Directory.CreateDirectory(udev);
        Directory.CreateDirectory(dev);
        File.WriteAllText(Path.Combine(disk, "device", "model"), "Samsung SSD 860 \n");
        File.WriteAllText(Path.Combine(disk, "device", "vendor"), "ATA     \n");
        if (withSysfsSerial) File.WriteAllText(Path.Combine(disk, "device", "serial"), "S3Z9NB0K123456\n");
        File.WriteAllText(Path.Combine(disk, "queue", "logical_block_size"), "512\n");
        File.WriteAllText(Path.Combine(disk, "queue", "physical_block_size"), "4096\n");
        File.WriteAllText(Path.Combine(disk, "dev"), "8:16\n");
        File.WriteAllText(Path.Combine(part, "dev"), "8:17\n");
        File.WriteAllText(Path.Combine(part, "partition"), "1\n");
        Directory.CreateSymbolicLink(Path.Combine(sys, "class", "block", "sdb"), disk);
        Directory.CreateSymbolicLink(Path.Combine(sys, "class", "block", "sdb1"), part);
        File.WriteAllText(Path.Combine(udev, "b8:17"), "S:disk/by-id/ata-Samsung_SSD_860_S3Z9NB0K999999-part1\nE:ID_MODEL=Samsung_SSD_860\nE:ID_SERIAL_SHORT=S3Z9NB0K999999\nE:ID_SERIAL=Samsung_SSD_860_S3Z9NB0K999999\n");
        File.WriteAllText(Path.Combine(dev, "sdb1"), "");
        return (sys, udev, dev);
    }

    [Fact]
    public void PartitionFactsComeFromItsDiskAndTheSerialFromSysfs()
    {
        using var dir = new TempDir();
        var (sys, udev, dev) = FakeSystem(dir, withSysfsSerial: true);
        var id = SourceIdentity.Describe(Path.Combine(dev, "sdb1"), "raw", 1000, isBlockDevice: true, sys, udev);
        Assert.Equal("block device", id.Kind);
        Assert.Equal("sdb1", id.DeviceName);
        Assert.Equal("8:17", id.DeviceNumbers);
        Assert.Equal("Samsung SSD 860", id.Model);
        Assert.Equal("ATA", id.Vendor);
        Assert.Equal("S3Z9NB0K123456", id.Serial);
        Assert.Equal(512, id.LogicalSectorSize);
        Assert.Equal(4096, id.PhysicalSectorSize);
    }

    [Fact]
    public void UdevFillsInWhatSysfsDoesNotTell()
    {
        using var dir = new TempDir();
        var (sys, udev, dev) = FakeSystem(dir, withSysfsSerial: false);
        var id = SourceIdentity.Describe(Path.Combine(dev, "sdb1"), "raw", 1000, isBlockDevice: true, sys, udev);
        Assert.Equal("S3Z9NB0K999999", id.Serial);
        Assert.Equal("Samsung SSD 860", id.Model);
    }

    [Fact]
    public void FilesAndImagesHaveNoDeviceFacts()
    {
        using var dir = new TempDir();
        string f = dir.File("x.raw");
        File.WriteAllText(f, "x");
        var file = SourceIdentity.Describe(f, "raw", 1, isBlockDevice: false);
        Assert.Equal("file", file.Kind);
        Assert.Null(file.Model);
        Assert.Equal("image", SourceIdentity.Describe(f, "qcow2", 1, isBlockDevice: false).Kind);
    }

    [Fact]
    public void LoopDeviceIsAcquiredAsABlockDeviceWithItsSectorSize()
    {
        using var dir = new TempDir();
        string backing = CliHarness.SparseRaw(dir, "loop.img", 4 << 20, (0, 100_000), (3 << 20, 50_000));
        string? loop = AttachLoop(backing, 4096);
        try
        {
            string dst = dir.File("loop.raw");
            var (code, _, stderr) = CliHarness.Run("acquire", "-q", "--direct", loop!, dst);
            Assert.True(code == 0, stderr);
            Assert.Equal(File.ReadAllBytes(backing), File.ReadAllBytes(dst));
            using var doc = JsonDocument.Parse(File.ReadAllText(dst + ".log.json"));
            var source = doc.RootElement.GetProperty("source");
            Assert.Equal("block device", source.GetProperty("kind").GetString());
            Assert.Equal(Path.GetFileName(loop), source.GetProperty("device").GetString());
            Assert.StartsWith("7:", source.GetProperty("device_numbers").GetString());
            Assert.Equal(4096, source.GetProperty("logical_sector_size").GetInt32());
            Assert.Equal(4096, source.GetProperty("sector_size").GetInt32());

            // Without --direct the device is opened as raw too (never probed for a format).
            string buffered = dir.File("loop-buffered.raw");
            var (code2, _, stderr2) = CliHarness.Run("acquire", "-q", loop!, buffered);
            Assert.True(code2 == 0, stderr2);
            Assert.Equal(File.ReadAllBytes(backing), File.ReadAllBytes(buffered));
        }
        finally { Detach(loop!); }
    }

    /// <summary>Attaches a loop device (skips when the system has none to give).</summary>
    private static string? AttachLoop(string file, int sectorSize)
    {
        var losetup = PeerTools.Find("losetup");
        if (losetup is null || !File.Exists("/dev/loop-control")) Assert.Skip("No loop devices here (losetup or /dev/loop-control missing).");
        var psi = new ProcessStartInfo(losetup!, ["--find", "--show", "--read-only", "--sector-size", sectorSize.ToString(System.Globalization.CultureInfo.InvariantCulture), file])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var p = Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd().Trim();
        string error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0 || !output.StartsWith("/dev/loop", StringComparison.Ordinal)) Assert.Skip($"losetup cannot attach a loop device here: {error}");
        return output;
    }

    private static void Detach(string loop)
    {
        using var p = Process.Start(new ProcessStartInfo("losetup", ["-d", loop]) { RedirectStandardError = true })!;
        p.WaitForExit();
    }
}
