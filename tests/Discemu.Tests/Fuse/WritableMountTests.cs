using System.Text;
using Discemu.Fuse;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Fuse;

/// <summary>
/// The writable path (WRITE, CREATE, MKDIR, UNLINK, RMDIR, RENAME, SETATTR, FSYNC) through a real kernel mount of an
/// in-memory <see cref="Discemu.FileSystems.IWritableFileSystem"/> double: coreutils change the tree, the double
/// holds the result, and reading back through the mount agrees.
/// </summary>
public sealed class WritableMountTests
{
    [Fact]
    public void CoreutilsEditTheTree()
    {
        FuseTestKit.Require();
        using var dir = new TempDir();
        var payload = new byte[(3 << 20) + 12345];
        new Random(3).NextBytes(payload);
        string host = dir.File("payload.bin");
        File.WriteAllBytes(host, payload);
        using var fs = new MemoryWritableFileSystem();
        using var view = new FileSystemView(fs, writable: true);
        using (var mount = FuseTestKit.Mount(dir, view))
        {
            FuseTestKit.Sh(mount.Path, $"mkdir -p a/b && cp '{host}' a/b/f.bin && echo hi > t.txt && echo more >> t.txt");
            Assert.Equal("hi\nmore\n", FuseTestKit.Sh(mount.Path, "cat t.txt"));
            FuseTestKit.Sh(mount.Path, "truncate -s 3 t.txt && mv a/b/f.bin a/g.bin && mv a c && rmdir c/b && touch -d @1600000000 t.txt && chmod a-w t.txt");
            FuseTestKit.Sh(mount.Path, "printf 'xyz' > y && mv y t2 && printf 'replaced' > t3 && mv -f t2 t3 && dd if=/dev/zero of=z bs=1k count=5 conv=fsync status=none");
            Assert.Equal(["/c/", "/c/g.bin", "/t.txt", "/t3", "/z"], fs.Paths());
            Assert.Equal(payload, fs.Content("/c/g.bin"));
            Assert.Equal("hi\n", Encoding.UTF8.GetString(fs.Content("/t.txt")));
            Assert.Equal("xyz", Encoding.UTF8.GetString(fs.Content("/t3")));
            Assert.Equal(new byte[5120], fs.Content("/z"));
            Assert.True(fs.Flushes > 0, "fsync did not reach the file system");
            // Reading back through the mount, after the changes.
            Assert.Equal(FuseTestKit.Sh(dir.PathName, "sha256sum < payload.bin"), FuseTestKit.Sh(mount.Path, "sha256sum < c/g.bin"));
            Assert.Equal("1600000000 -r--r--r-- 3\n", FuseTestKit.Sh(mount.Path, "stat -c '%Y %A %s' t.txt"));
            // Errors come back as the right errno.
            string errors = FuseTestKit.Sh(mount.Path, "LC_ALL=C; mkdir c 2>&1; rmdir c 2>&1; rm nothing 2>&1; rmdir t3 2>&1; mv c c/inside 2>&1; true");
            Assert.Contains("File exists", errors);
            Assert.Contains("Directory not empty", errors);
            Assert.Contains("No such file or directory", errors);
            Assert.Contains("Not a directory", errors);
            Assert.Matches("subdirectory of itself|Invalid argument", errors);
            FuseTestKit.Sh(mount.Path, "rm c/g.bin && rmdir c && rm -f t.txt t3 z");
            Assert.Empty(fs.Paths());
            Assert.Equal("", FuseTestKit.Sh(mount.Path, "ls -A"));
        }
    }

    [Fact]
    public void DiskFullIsEnospc()
    {
        FuseTestKit.Require();
        using var dir = new TempDir();
        using var fs = new MemoryWritableFileSystem(capacity: 64 * 1024);
        using var view = new FileSystemView(fs, writable: true);
        using var mount = FuseTestKit.Mount(dir, view);
        string output = FuseTestKit.Sh(mount.Path, "dd if=/dev/zero of=big bs=16k count=8 2>&1; true");
        Assert.Contains("No space left on device", output);
        Assert.True(fs.Content("/big").Length <= 64 * 1024);
        // statfs reports the double's free bytes: what is left of the 64 KiB.
        var f = FuseTestKit.Sh(mount.Path, "stat -f -c '%S %a' .").Split(' ');
        Assert.Equal(fs.FreeBytes / 4096 * 4096, long.Parse(f[0], System.Globalization.CultureInfo.InvariantCulture) * long.Parse(f[1], System.Globalization.CultureInfo.InvariantCulture));
    }
}
