using System.Globalization;
using Discemu.Tests.Cli;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Fuse;

/// <summary>
/// The block view (<c>mount --raw</c>): a qcow2's virtual disk as one file, read (equal to qemu-img convert -O raw),
/// written (the writes land in the image, qemu-img check stays clean) and, with --overlay, written to a qcow2
/// overlay while the image stays untouched.
/// </summary>
public sealed class RawMountTests
{
    private const int Size = 8 << 20;

    private static (string Qcow2, string Raw) MakeImage(TempDir dir)
    {
        string raw = CliHarness.SparseRaw(dir, "disk.src", Size, (0, 70_000), (3 << 20, 500_000), (Size - 4096, 4096));
        string qcow2 = dir.File("disk.qcow2");
        PeerTools.RunOk("qemu-img", "convert", "-O", "qcow2", raw, qcow2);
        return (qcow2, raw);
    }

    private static string Mnt(TempDir dir)
    {
        string mnt = dir.File("mnt");
        Directory.CreateDirectory(mnt);
        return mnt;
    }

    /// <summary>Writes "pattern" bytes at 1 MiB + 100 and 4 KiB at 6 MiB through the mount with dd (no truncation).</summary>
    private static string WriteThrough(string mnt, TempDir dir)
    {
        var block = new byte[4096];
        new Random(11).NextBytes(block);
        File.WriteAllBytes(dir.File("block"), block);
        FuseTestKit.Sh(mnt, "printf pattern | dd of=disk.raw bs=1 seek=1048676 conv=notrunc status=none"
            + $" && dd if='{dir.File("block")}' of=disk.raw bs=4096 seek=1536 conv=notrunc,fsync status=none");
        return dir.File("block");
    }

    private static void ApplyExpected(string raw, string block)
    {
        using var f = new FileStream(raw, FileMode.Open, FileAccess.Write);
        f.Position = 1048676;
        f.Write("pattern"u8);
        f.Position = 6 << 20;
        f.Write(File.ReadAllBytes(block));
    }

    [Fact]
    public void ReadsEqualQemuConvertAndWritesLandInTheImage()
    {
        FuseTestKit.Require();
        PeerTools.Require("qemu-img");
        using var dir = new TempDir();
        var (qcow2, raw) = MakeImage(dir);
        string converted = dir.File("converted.raw");
        PeerTools.RunOk("qemu-img", "convert", "-O", "raw", qcow2, converted);
        string mnt = Mnt(dir);
        using (var mount = FuseTestKit.StartCli(mnt, "mount", "--raw", qcow2, mnt))
        {
            Assert.Equal("disk.raw " + Size.ToString(CultureInfo.InvariantCulture) + "\n", FuseTestKit.Sh(mnt, "stat -c '%n %s' *"));
            Assert.Equal(FuseTestKit.Sh(dir.PathName, "sha256sum < converted.raw"), FuseTestKit.Sh(mnt, "sha256sum < disk.raw"));
            string block = WriteThrough(mnt, dir);
            ApplyExpected(raw, block);
            Assert.Equal(0, CliHarness.Run("umount", mnt).Code);
            var (code, err) = mount.WaitExit();
            Assert.True(code == 0, err);
        }
        PeerTools.RunOk("qemu-img", "check", qcow2);
        PeerTools.RunOk("qemu-img", "compare", raw, qcow2);
    }

    [Fact]
    public void OverlayKeepsTheImageUntouched()
    {
        FuseTestKit.Require();
        PeerTools.Require("qemu-img");
        using var dir = new TempDir();
        var (qcow2, raw) = MakeImage(dir);
        string before = CliHarness.Sha256(qcow2);
        string overlay = dir.File("overlay.qcow2");
        string mnt = Mnt(dir);
        using (var mount = FuseTestKit.StartCli(mnt, "mount", "--raw", "--overlay", overlay, qcow2, mnt))
        {
            string block = WriteThrough(mnt, dir);
            ApplyExpected(dir.File("disk.src"), block);
            mount.Signal("TERM"); // (SIGINT is ignored by processes started in the background by a non-interactive shell)
            var (code, err) = mount.WaitExit();
            Assert.True(code == 0, err);
        }
        Assert.Equal(before, CliHarness.Sha256(qcow2));
        PeerTools.RunOk("qemu-img", "check", overlay);
        PeerTools.RunOk("qemu-img", "compare", raw, overlay);
        Assert.NotEqual(0, PeerTools.Run("qemu-img", ["compare", "-q", qcow2, overlay]).ExitCode);
    }

    [Fact]
    public void ReadOnlyRawRefusesWrites()
    {
        FuseTestKit.Require();
        PeerTools.Require("qemu-img");
        using var dir = new TempDir();
        var (qcow2, _) = MakeImage(dir);
        string before = CliHarness.Sha256(qcow2);
        string mnt = Mnt(dir);
        using var mount = FuseTestKit.StartCli(mnt, "mount", "-r", "--raw", qcow2, mnt);
        Assert.Contains("Read-only file system", FuseTestKit.Sh(mnt, "printf x | dd of=disk.raw conv=notrunc 2>&1; true"));
        Assert.Equal(FuseTestKit.Sh(dir.PathName, "sha256sum < disk.src"), FuseTestKit.Sh(mnt, "sha256sum < disk.raw"));
        mount.Signal("TERM");
        Assert.Equal(0, mount.WaitExit().Code);
        Assert.Equal(before, CliHarness.Sha256(qcow2));
    }
}
