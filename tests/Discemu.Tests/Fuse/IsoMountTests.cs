using Discemu.FileSystems;
using Discemu.Formats;
using Discemu.Fuse;
using Discemu.Tests.Cli;
using Discemu.Tests.FileSystems.Iso9660;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Fuse;

/// <summary>
/// ISO images made by xorriso (Rock Ridge: modes, symbolic links, a hard link, holes, Unicode and long names, a deep
/// chain) mounted through the kernel: ls -lR, find, sha256sum and cp -r through the mount point agree with
/// <c>discemu get</c>'s extraction of the same image.
/// </summary>
public sealed class IsoMountTests
{
    /// <summary>ls -lR without what differs between an ISO and the extraction's ext4/tmpfs: "total" lines, link counts, directory sizes.</summary>
    private const string LsNormalized = "ls -lRn --time-style=+%s . | grep -v '^total ' | awk '{ if ($1 ~ /^d/) $5 = \"-\"; $2 = \"-\"; print }'";

    private static string MakeIso(TempDir dir)
    {
        string src = IsoTestKit.MakeSource(dir, depth: 4);
        string iso = dir.File("t.iso");
        PeerTools.RunOk("xorriso", "-as", "mkisofs", "-R", "-J", "-o", iso, src);
        return iso;
    }

    private static string Extract(TempDir dir, string iso)
    {
        string output = dir.File("extracted");
        var r = CliHarness.Run("get", iso + ":/", output);
        Assert.True(r.Code == 0, r.Err);
        return output;
    }

    [Fact]
    public void ToolsThroughTheMountMatchExtraction()
    {
        FuseTestKit.Require();
        PeerTools.Require("xorriso");
        using var dir = new TempDir();
        string iso = MakeIso(dir);
        string extracted = Extract(dir, iso);
        using var image = ImageOpener.Default.Open(iso);
        using var fs = FileSystemRegistry.Default.Open(image);
        using var view = new FileSystemView(fs, writable: false);
        using (var mount = FuseTestKit.Mount(dir, view))
        {
            Assert.Equal(FuseTestKit.Sh(extracted, LsNormalized), FuseTestKit.Sh(mount.Path, LsNormalized));
            const string find = "find . -printf '%y %m %s %T@ %p -> %l\\n' | awk '{ if ($1 == \"d\") $3 = \"-\"; print }' | sort";
            Assert.Equal(FuseTestKit.Sh(extracted, find), FuseTestKit.Sh(mount.Path, find));
            const string sums = "find . -type f -print0 | sort -z | xargs -0 sha256sum";
            string expected = FuseTestKit.Sh(extracted, sums);
            Assert.Contains("random.bin", expected);
            Assert.Equal(expected, FuseTestKit.Sh(mount.Path, sums));
            string copy = dir.File("copy");
            FuseTestKit.Sh(dir.PathName, $"cp -r '{mount.Path}' '{copy}' && diff -r --no-dereference '{extracted}' '{copy}'");
            // Symbolic links read back as stored (readlink), and statfs answers.
            Assert.Equal("no/such/file\n", FuseTestKit.Sh(mount.Path, "readlink dangling"));
            Assert.Contains("fuse.discemu", FuseTestKit.Sh(mount.Path, "stat -f -c %T . ; grep discemu-test /proc/mounts"));
            // The kernel refuses writes to the read-only mount.
            Assert.Contains("Read-only file system", FuseTestKit.Sh(mount.Path, "touch new 2>&1; true"));
        }
    }

    [Fact]
    public async Task ConcurrentReadersGetTheSameBytes()
    {
        FuseTestKit.Require();
        PeerTools.Require("xorriso");
        using var dir = new TempDir();
        string src = dir.File("src");
        Directory.CreateDirectory(src);
        var rng = new Random(7);
        var data = new byte[3 << 20];
        for (int i = 0; i < 4; i++)
        {
            rng.NextBytes(data);
            File.WriteAllBytes(Path.Join(src, $"f{i}.bin"), data);
        }
        string iso = dir.File("c.iso");
        PeerTools.RunOk("xorriso", "-as", "mkisofs", "-R", "-o", iso, src);
        string expected = FuseTestKit.Sh(src, "sha256sum f*.bin");
        using var image = ImageOpener.Default.Open(iso);
        using var fs = FileSystemRegistry.Default.Open(image);
        using var view = new FileSystemView(fs, writable: false);
        using var mount = FuseTestKit.Mount(dir, view);
        // Eight readers at once, each file twice.
        var readers = Enumerable.Range(0, 8).Select(i => Task.Run(() => FuseTestKit.Sh(mount.Path, $"sha256sum f{i % 4}.bin"))).ToArray();
        var results = await Task.WhenAll(readers);
        var lines = expected.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        for (int i = 0; i < 8; i++) Assert.Equal(lines[i % 4] + "\n", results[i]);
        Assert.Equal(expected, FuseTestKit.Sh(mount.Path, "sha256sum f*.bin"));
    }

    [Fact]
    public void CliMountsUntilUmountAndExitsZero()
    {
        FuseTestKit.Require();
        PeerTools.Require("xorriso");
        using var dir = new TempDir();
        string iso = MakeIso(dir);
        string extracted = Extract(dir, iso);
        string mnt = dir.File("mnt");
        Directory.CreateDirectory(mnt);
        using var mount = FuseTestKit.StartCli(mnt, "mount", iso, mnt);
        const string sums = "find . -type f -print0 | sort -z | xargs -0 sha256sum";
        Assert.Equal(FuseTestKit.Sh(extracted, sums), FuseTestKit.Sh(mnt, sums));
        var r = CliHarness.Run("umount", mnt);
        Assert.True(r.Code == 0, r.Err);
        var (code, err) = mount.WaitExit();
        Assert.True(code == 0, err);
        Assert.False(FuseTestKit.IsMounted(mnt));
        // Unmounting again names the problem.
        Assert.Contains("Not a mount point", CliHarness.AssertOneLineError(CliHarness.Run("umount", mnt)));
    }

    [Fact]
    public void SigtermUnmountsCleanly()
    {
        FuseTestKit.Require();
        PeerTools.Require("xorriso");
        using var dir = new TempDir();
        string iso = MakeIso(dir);
        string mnt = dir.File("mnt");
        Directory.CreateDirectory(mnt);
        using var mount = FuseTestKit.StartCli(mnt, "mount", "-r", iso, mnt);
        Assert.Contains("readme.txt", FuseTestKit.Sh(mnt, "ls"));
        mount.Signal("TERM");
        var (code, err) = mount.WaitExit();
        Assert.True(code == 0, err);
        Assert.False(FuseTestKit.IsMounted(mnt));
        Assert.Empty(Directory.GetFileSystemEntries(mnt)); // the empty mount point is back
    }

    [Fact]
    public void SigkillLeavesNoDeadMountUnlessAsked()
    {
        FuseTestKit.Require();
        PeerTools.Require("xorriso");
        PeerTools.Require("fusermount3");
        using var dir = new TempDir();
        string iso = MakeIso(dir);
        string mnt = dir.File("mnt");
        Directory.CreateDirectory(mnt);
        // By default fusermount3 (auto_unmount) watches the mount and unmounts once discemu is gone, however it went.
        using (var mount = FuseTestKit.StartCli(mnt, "mount", "-r", iso, mnt))
        {
            Assert.Contains("readme.txt", FuseTestKit.Sh(mnt, "ls"));
            mount.Signal("KILL");
            Assert.True(mount.Process.WaitForExit(30_000));
            Assert.True(FuseTestKit.WaitUnmounted(mnt), "the mount outlived discemu");
            Assert.Empty(Directory.GetFileSystemEntries(mnt));
        }
        // --no-auto-unmount: mount(2) as root, and a killed server leaves the dead mount FUSE always leaves.
        using (var mount = FuseTestKit.StartCli(mnt, "mount", "-r", "--no-auto-unmount", iso, mnt))
        {
            mount.Signal("KILL");
            Assert.True(mount.Process.WaitForExit(30_000));
            Assert.True(FuseTestKit.IsMounted(mnt));
            Assert.ThrowsAny<IOException>(() => Directory.GetFileSystemEntries(mnt)); // "Transport endpoint is not connected"
            Assert.Equal(0, CliHarness.Run("umount", mnt).Code);
            Assert.False(FuseTestKit.IsMounted(mnt));
        }
    }
}
