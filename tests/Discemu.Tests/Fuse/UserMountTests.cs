using System.Security.Cryptography;
using Discemu.Fuse;
using Discemu.Tests.Cli;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Fuse;

/// <summary>
/// <c>discemu mount</c> and <c>discemu umount</c> run as an unprivileged user (nobody), so the mount goes through
/// fusermount3 (the /dev/fuse descriptor handed back over <c>_FUSE_COMMFD</c>): files read through the mount match,
/// the kernel records the mount as the user's <c>fuse.discemu</c> mount, umount and SIGTERM leave nothing mounted,
/// and a FAT image the user owns is written through the mount into a file system fsck.fat accepts.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class UserMountTests
{
    /// <summary>An ISO (xorriso, Rock Ridge) named with a comma (fusermount3's option separator) holding random.bin and readme.txt.</summary>
    private static (string Iso, string Source) MakeIso(TempDir dir)
    {
        PeerTools.Require("xorriso");
        string src = dir.File("src");
        Directory.CreateDirectory(Path.Join(src, "sub"));
        var data = new byte[(1 << 20) + 4321];
        new Random(11).NextBytes(data);
        File.WriteAllBytes(Path.Join(src, "sub", "random.bin"), data);
        File.WriteAllText(Path.Join(src, "readme.txt"), "read through a user mount\n");
        string iso = dir.File("user,mount.iso");
        PeerTools.RunOk("xorriso", "-as", "mkisofs", "-R", "-J", "-o", iso, src);
        return (iso, src);
    }

    private static string Sha256(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    [Fact]
    public void UserMountReadsLikeTheSourceAndUmountEndsIt()
    {
        UserMountKit.Require();
        using var dir = UserMountKit.Sandbox();
        var (iso, src) = MakeIso(dir);
        string mnt = UserMountKit.MountPoint(dir);
        using (var mount = UserMountKit.StartCli(dir, mnt, "mount", iso, mnt))
        {
            var info = UserMountKit.MountInfo(mnt);
            Assert.NotNull(info);
            var (options, type, source, super) = info.Value;
            Assert.Equal("fuse.discemu", type);
            Assert.Equal(iso, source);
            Assert.Contains("user_id=65534", super.Split(','));
            Assert.Contains("default_permissions", super.Split(','));
            Assert.Contains("ro", options.Split(','));
            Assert.Contains("nosuid", options.Split(','));

            string sums = UserMountKit.Sh(mnt, "sha256sum sub/random.bin readme.txt");
            Assert.Equal($"{Sha256(Path.Join(src, "sub", "random.bin"))}  sub/random.bin\n{Sha256(Path.Join(src, "readme.txt"))}  readme.txt\n", sums);
            // Without allow_other the kernel keeps everyone else out, root included.
            Assert.Throws<UnauthorizedAccessException>(() => Directory.GetFileSystemEntries(mnt));

            var r = UserMountKit.RunCli(dir, "umount", mnt);
            Assert.True(r.Code == 0, r.Err);
            var (code, err) = mount.WaitExit();
            Assert.True(code == 0, err);
            // The image belongs to root: the user gets a read-only mount and a note saying so, as mount(8) does.
            Assert.Contains("write-protected, mounting read-only", err);
            Assert.False(FuseTestKit.IsMounted(mnt));
        }
        Assert.Contains("Not a mount point", CliHarness.AssertOneLineError(UserMountKit.RunCli(dir, "umount", mnt)));
    }

    /// <summary>
    /// SIGTERM unmounts and exits 0. After SIGKILL fusermount3 (auto_unmount) checks that the mount is dead and
    /// unmounts it; before libfuse 3.15 it looks as root, whom a mount without allow_other shuts out, so it leaves the
    /// dead mount (libfuse issue 586), which discemu umount then removes.
    /// </summary>
    [Theory]
    [InlineData("TERM")]
    [InlineData("KILL")]
    public void SignalsEndAUserMount(string signal)
    {
        UserMountKit.Require();
        using var dir = UserMountKit.Sandbox();
        var (iso, _) = MakeIso(dir);
        string mnt = UserMountKit.MountPoint(dir);
        using var mount = UserMountKit.StartCli(dir, mnt, "mount", "-r", iso, mnt);
        Assert.Equal("readme.txt\nsub\n", UserMountKit.Sh(mnt, "ls"));
        mount.Signal(signal);
        if (signal == "TERM")
        {
            var (code, err) = mount.WaitExit();
            Assert.True(code == 0, err);
            Assert.False(FuseTestKit.IsMounted(mnt));
            Assert.Empty(Directory.GetFileSystemEntries(mnt));
            return;
        }
        Assert.True(mount.Process.WaitForExit(30_000));
        var (_, version, _) = PeerTools.Run("fusermount3", ["-V"]);
        var v = System.Text.RegularExpressions.Regex.Match(version, @"(\d+)\.(\d+)");
        if (v.Success && new Version(int.Parse(v.Groups[1].Value), int.Parse(v.Groups[2].Value)) >= new Version(3, 15))
        {
            Assert.True(FuseTestKit.WaitUnmounted(mnt), "the mount outlived discemu");
            return;
        }
        Thread.Sleep(500);
        Assert.True(FuseTestKit.IsMounted(mnt));
        var r = UserMountKit.RunCli(dir, "umount", mnt);
        Assert.True(r.Code == 0, r.Err);
        Assert.False(FuseTestKit.IsMounted(mnt));
    }

    [Fact]
    public void UserWritesThroughAFatMount()
    {
        UserMountKit.Require();
        PeerTools.Require("mkfs.fat");
        PeerTools.Require("fsck.fat");
        using var dir = UserMountKit.Sandbox();
        string img = dir.File("user.img");
        PeerTools.RunOk("mkfs.fat", "-C", "-n", "USERFAT", img, "8192");
        UserMountKit.GiveToNobody(img);
        string mnt = UserMountKit.MountPoint(dir);
        using (var mount = UserMountKit.StartCli(dir, mnt, "mount", img, mnt))
        {
            Assert.Contains("rw", UserMountKit.MountInfo(mnt)!.Value.Options.Split(','));
            UserMountKit.Sh(mnt, "mkdir notes && printf 'written by nobody\\n' > notes/a.txt && head -c 300000 /dev/zero | tr '\\0' 'x' > big.txt && mv big.txt notes/big.txt && sync");
            // The files belong to the mounting user.
            Assert.Equal("65534 65534\n", UserMountKit.Sh(mnt, "stat -c '%u %g' notes/a.txt"));
            var r = UserMountKit.RunCli(dir, "umount", mnt);
            Assert.True(r.Code == 0, r.Err);
            var (code, err) = mount.WaitExit();
            Assert.True(code == 0, err);
            Assert.False(FuseTestKit.IsMounted(mnt));
        }
        var (fsck, fsckOut, fsckErr) = PeerTools.Run("fsck.fat", ["-n", img]);
        Assert.True(fsck == 0, fsckOut + fsckErr);
        string extracted = dir.File("out");
        Assert.Equal(0, CliHarness.Run("get", img + ":/notes", extracted).Code);
        Assert.Equal("written by nobody\n", File.ReadAllText(Path.Join(extracted, "a.txt")));
        Assert.Equal(new string('x', 300000), File.ReadAllText(Path.Join(extracted, "big.txt")));
    }

    [Fact]
    public void DaemonReturnsOnceMountedAndServesUntilUmount()
    {
        UserMountKit.Require();
        using var dir = UserMountKit.Sandbox();
        var (iso, src) = MakeIso(dir);
        string mnt = UserMountKit.MountPoint(dir);
        int daemon = -1;
        try
        {
            var r = UserMountKit.RunCli(dir, "mount", "--daemon", iso, mnt);
            Assert.True(r.Code == 0, r.Err);
            Assert.StartsWith("mounted iso9660 file system of ", r.Out);
            Assert.Contains("write-protected, mounting read-only", r.Err); // the background child's note is relayed
            Assert.True(FuseTestKit.IsMounted(mnt));
            daemon = Assert.Single(UserMountKit.ProcessesNaming(mnt));
            Assert.Equal(daemon, UserMountKit.SessionOf(daemon)); // detached: its own session, no terminal
            Assert.Equal($"{Sha256(Path.Join(src, "readme.txt"))}  readme.txt\n", UserMountKit.Sh(mnt, "sha256sum readme.txt"));
            var u = UserMountKit.RunCli(dir, "umount", mnt);
            Assert.True(u.Code == 0, u.Err);
            Assert.True(UserMountKit.WaitGone(daemon, TimeSpan.FromSeconds(30)), "the background process did not exit after umount");
            Assert.False(FuseTestKit.IsMounted(mnt));
            // A failure in the background child is reported by the command itself.
            Assert.Contains("No such file", CliHarness.AssertOneLineError(UserMountKit.RunCli(dir, "mount", "--daemon", dir.File("missing.iso"), mnt)));
        }
        finally
        {
            if (FuseTestKit.IsMounted(mnt)) FuseServer.UnmountPath(mnt, viaFusermount: false, lazyIfBusy: true);
            if (daemon > 0 && !UserMountKit.WaitGone(daemon, TimeSpan.FromSeconds(10))) PeerTools.Run("kill", ["-KILL", daemon.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        }
    }

    [Fact]
    public void AllowOtherFollowsFuseConf()
    {
        UserMountKit.Require();
        using var dir = UserMountKit.Sandbox();
        var (iso, src) = MakeIso(dir);
        string mnt = UserMountKit.MountPoint(dir);
        bool permitted = File.Exists("/etc/fuse.conf") && File.ReadLines("/etc/fuse.conf").Any(l => l.Trim() == "user_allow_other");
        if (!permitted)
        {
            string line = CliHarness.AssertOneLineError(UserMountKit.RunCli(dir, "mount", "-r", "--allow-other", iso, mnt));
            Assert.Contains("user_allow_other", line);
            Assert.False(FuseTestKit.IsMounted(mnt));
            return;
        }
        using var mount = UserMountKit.StartCli(dir, mnt, "mount", "-r", "--allow-other", iso, mnt);
        Assert.Contains("allow_other", UserMountKit.MountInfo(mnt)!.Value.SuperOptions.Split(','));
        Assert.Equal(File.ReadAllText(Path.Join(src, "readme.txt")), File.ReadAllText(Path.Join(mnt, "readme.txt"))); // root is "other"
        mount.Signal("TERM");
        Assert.Equal(0, mount.WaitExit().Code);
    }

    [Fact]
    public void RefusalsAreOneLineErrors()
    {
        UserMountKit.Require();
        using var dir = UserMountKit.Sandbox();
        var (iso, _) = MakeIso(dir);
        // fusermount3's own refusal (the user may not write the mount point) comes back as one line.
        string rootOwned = dir.File("root-only");
        Directory.CreateDirectory(rootOwned);
        string line = CliHarness.AssertOneLineError(UserMountKit.RunCli(dir, "mount", "-r", iso, rootOwned));
        Assert.Contains("fusermount3 could not mount", line);
        Assert.Contains("no write access to mountpoint", line);
        Assert.False(FuseTestKit.IsMounted(rootOwned));
        // Without fusermount3 in PATH, mounting and unmounting name the package.
        string mnt = UserMountKit.MountPoint(dir);
        Assert.Contains("needs fusermount3 (package fuse3)", CliHarness.AssertOneLineError(UserMountKit.RunCliWithPath(dir, "/nonexistent", "mount", "-r", iso, mnt)));
        Assert.Contains("needs fusermount3 (package fuse3)", CliHarness.AssertOneLineError(UserMountKit.RunCliWithPath(dir, "/nonexistent", "umount", mnt)));
        Assert.False(FuseTestKit.IsMounted(mnt));
    }

    [Fact]
    public void MountOptionsEscapeTheSource()
    {
        Assert.Equal(@"fsname=/img/a\,b\\c.iso,subtype=discemu,default_permissions,ro,allow_other", FuseMounter.MountOptions(@"/img/a,b\c.iso", writable: false, allowOther: true));
        Assert.Equal("fsname=x.img,subtype=discemu,default_permissions", FuseMounter.MountOptions("x.img", writable: true, allowOther: false));
    }
}
