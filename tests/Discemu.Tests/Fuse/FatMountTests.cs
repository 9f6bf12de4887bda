using Discemu.FileSystems;
using Discemu.Tests.Cli;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Fuse;

/// <summary>
/// Writes through a FAT mount (mkfs.fat image): a tree copied in with cp -r, edited (rename, delete, truncate, append),
/// unmounted; then fsck.fat -n finds nothing to fix and <c>discemu get</c> extracts what was written. Runs once a
/// "fat" file system type is registered.
/// </summary>
public sealed class FatMountTests
{
    [Fact]
    public void WritesThroughAFatMountLeaveACleanFileSystem()
    {
        if (FileSystemRegistry.Default.TryFind("fat") is null) Assert.Skip("No FAT driver is registered yet.");
        FuseTestKit.Require();
        PeerTools.Require("mkfs.fat");
        PeerTools.Require("fsck.fat");
        using var dir = new TempDir();
        string img = dir.File("fat.img");
        PeerTools.RunOk("mkfs.fat", "-C", "-n", "DISCEMU", img, "16384");
        string src = dir.File("src");
        Directory.CreateDirectory(Path.Join(src, "docs", "deep"));
        var rng = new Random(5);
        var big = new byte[(2 << 20) + 333];
        rng.NextBytes(big);
        File.WriteAllBytes(Path.Join(src, "big.bin"), big);
        File.WriteAllText(Path.Join(src, "docs", "readme.txt"), "hello fat\n");
        File.WriteAllText(Path.Join(src, "docs", "deep", "Long File Name.text"), "long name\n");
        File.WriteAllBytes(Path.Join(src, "empty"), []);
        string mnt = dir.File("mnt");
        Directory.CreateDirectory(mnt);
        using (var mount = FuseTestKit.StartCli(mnt, "mount", img, mnt))
        {
            FuseTestKit.Sh(mnt, $"cp -r '{src}'/. . && mkdir gone && echo x > gone/x && rm gone/x && rmdir gone");
            FuseTestKit.Sh(mnt, "mv docs/readme.txt docs/renamed.txt && echo more >> docs/renamed.txt && truncate -s 100 big.bin && sync");
            Assert.Equal(0, CliHarness.Run("umount", mnt).Code);
            var (code, err) = mount.WaitExit();
            Assert.True(code == 0, err);
        }
        var (fsck, fsckOut, fsckErr) = PeerTools.Run("fsck.fat", ["-n", img]);
        Assert.True(fsck == 0, fsckOut + fsckErr);
        string extracted = dir.File("out");
        Assert.Equal(0, CliHarness.Run("get", img + ":/", extracted).Code);
        Assert.Equal("hello fat\nmore\n", File.ReadAllText(Path.Join(extracted, "docs", "renamed.txt")));
        Assert.Equal(big.AsSpan(0, 100).ToArray(), File.ReadAllBytes(Path.Join(extracted, "big.bin")));
        Assert.Equal("long name\n", File.ReadAllText(Path.Join(extracted, "docs", "deep", "Long File Name.text")));
        Assert.False(Directory.Exists(Path.Join(extracted, "gone")));
        Assert.True(File.Exists(Path.Join(extracted, "empty")));
    }
}
