using Discemu.Tests.Cli;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.FileSystems.Fat;

/// <summary>A FAT file system inside an MBR or GPT partition (sfdisk + mkfs.fat --offset) is addressed as IMAGE:N:/path and IMAGE:/path.</summary>
public sealed class FatPartitionTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("dos")]
    [InlineData("gpt")]
    public void PartitionPathsReachTheFileSystem(string label)
    {
        PeerTools.Require("sfdisk");
        PeerTools.Require("mcopy");
        FatTestKit.EnsureEnv();
        string disk = _dir.File("disk.img");
        using (var f = File.Create(disk)) f.SetLength(12 << 20);
        var sfdisk = new System.Diagnostics.ProcessStartInfo(PeerTools.Require("sfdisk")) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        sfdisk.ArgumentList.Add("-q");
        sfdisk.ArgumentList.Add(disk);
        using (var p = System.Diagnostics.Process.Start(sfdisk)!)
        {
            p.StandardInput.Write($"label: {label}\nstart=2048, size=2048\nstart=4096, size=16384, type={(label == "gpt" ? "C12A7328-F81F-11D2-BA4B-00A0C93EC93B" : "ef")}\n");
            p.StandardInput.Close();
            p.WaitForExit();
            Assert.Equal(0, p.ExitCode);
        }
        PeerTools.RunOk("mkfs.fat", "-F", "12", "--offset", "4096", disk, "8192");
        string boot = _dir.File("BOOTX64.EFI");
        File.WriteAllBytes(boot, Enumerable.Range(0, 5000).Select(i => (byte)i).ToArray());
        PeerTools.RunOk("mmd", "-i", disk + "@@2M", "::/EFI", "::/EFI/BOOT");
        PeerTools.RunOk("mcopy", "-i", disk + "@@2M", boot, "::/EFI/BOOT/BOOTX64.EFI");

        Assert.Equal(File.ReadAllBytes(boot), Get(disk + ":2:/EFI/BOOT/BOOTX64.EFI", "one"));
        Assert.Equal(File.ReadAllBytes(boot), Get(disk + ":/EFI/BOOT/BOOTX64.EFI", "two"));

        // Writing through the partition path: mtools reads it back, fsck.fat finds the partition clean.
        string extra = _dir.File("grub.cfg");
        File.WriteAllText(extra, "set timeout=5\n");
        var r = CliHarness.Run("put", extra, disk + ":2:/EFI/BOOT");
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal("set timeout=5\n", PeerTools.RunOk("mtype", "-i", disk + "@@2M", "::/EFI/BOOT/grub.cfg"));
        string part = _dir.File("part.img");
        using (var src = File.OpenRead(disk))
        using (var dst = File.Create(part))
        {
            src.Position = 2 << 20;
            var buffer = new byte[8 << 20];
            src.ReadExactly(buffer);
            dst.Write(buffer);
        }
        FatTestKit.AssertFsckClean(part);
    }

    private byte[] Get(string arg, string name)
    {
        string output = _dir.File(name);
        var r = CliHarness.Run("get", arg, output);
        Assert.True(r.Code == 0, r.Err);
        return File.ReadAllBytes(output);
    }
}
