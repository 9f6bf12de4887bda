using Discemu.Block;
using Discemu.Tests.Conformance;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Block;

public sealed class FileDeviceTests
{
    /// <summary>Merges GetStatus answers into runs of (start, length, zero?).</summary>
    private static List<(long Start, long Length, bool Zero)> Runs(BlockDevice dev)
    {
        var runs = new List<(long, long, bool)>();
        for (long pos = 0; pos < dev.Length;)
        {
            var st = dev.GetStatus(pos, dev.Length - pos);
            if (runs.Count > 0 && runs[^1].Item3 == st.IsZero) runs[^1] = (runs[^1].Item1, runs[^1].Item2 + st.Length, st.IsZero);
            else runs.Add((pos, st.Length, st.IsZero));
            pos += st.Length;
        }
        return runs;
    }

    [Fact]
    public void HolesPunchedByFallocateAndLeftByTruncateAreReported()
    {
        if (!SparseFiles.Supported) Assert.Skip("The temp folder's file system cannot punch holes.");
        using var dir = new TempDir();
        string path = dir.File("sparse.img");
        File.WriteAllBytes(path, Enumerable.Repeat((byte)0x6B, 1 << 20).ToArray());
        PeerTools.RunOk("fallocate", "--punch-hole", "--offset", "262144", "--length", "262144", path);
        PeerTools.RunOk("truncate", "--size", "2097152", path);
        using var dev = FileDevice.Open(path, writable: false);
        Assert.Equal(2097152, dev.Length);
        Assert.Equal([(0L, 262144L, false), (262144L, 262144L, true), (524288L, 524288L, false), (1048576L, 1048576L, true)], Runs(dev));
        var buf = new byte[4096];
        dev.Read(262144 + 4096, buf);
        Assert.True(buf.All(b => b == 0));
        dev.Read(524288, buf);
        Assert.True(buf.All(b => b == 0x6B));
        Assert.False(dev.CanWrite);
    }

    [Fact]
    public void DiscardGivesSpaceBackToTheHost()
    {
        if (!SparseFiles.Supported) Assert.Skip("The temp folder's file system cannot punch holes.");
        using var dir = new TempDir();
        using var dev = FileDevice.Create(dir.File("d.img"), 4 << 20);
        dev.Write(0, Enumerable.Repeat((byte)1, 4 << 20).ToArray());
        dev.Flush();
        long before = dev.AllocatedBytes!.Value;
        dev.Discard(0, 2 << 20);
        long after = dev.AllocatedBytes!.Value;
        Assert.True(after <= before - (2 << 20) + 65536, $"allocation went from {before} to {after}");
    }

    [Theory]
    [InlineData(512 << 10)]
    [InlineData(2 << 20)]
    public void CreateOverAnExistingFileEmptiesIt(int length)
    {
        using var dir = new TempDir();
        string path = dir.File("old.img");
        var old = new byte[1 << 20];
        new Random(3).NextBytes(old);
        File.WriteAllBytes(path, old);
        using var dev = FileDevice.Create(path, length);
        Assert.Equal(length, dev.Length);
        Assert.Equal(length, new FileInfo(path).Length);
        var back = new byte[length];
        dev.Read(0, back);
        Assert.True(back.AsSpan().IndexOfAnyExcept((byte)0) < 0, "old content must not survive Create");
    }

    [Fact]
    public void OpeningAMissingFileNamesIt()
    {
        using var dir = new TempDir();
        string path = dir.File("nope.img");
        var e = Assert.Throws<ImageAccessException>(() => FileDevice.Open(path, writable: false));
        Assert.Equal(path, e.ImagePath);
        Assert.Throws<ImageAccessException>(() => FileDevice.Create(dir.File("missing-dir/x.img"), 10));
    }

    [Fact]
    public void LoopDeviceIsABlockDeviceOfTheFilesSize()
    {
        if (Environment.UserName != "root" || PeerTools.Find("losetup") is null) Assert.Skip("Needs root and losetup.");
        using var dir = new TempDir();
        string path = dir.File("loop.img");
        var data = Enumerable.Range(0, 4 << 20).Select(i => (byte)(i * 7)).ToArray();
        File.WriteAllBytes(path, data);
        var (code, stdout, stderr) = PeerTools.Run("losetup", ["--find", "--show", path]);
        if (code != 0) Assert.Skip($"losetup could not attach a loop device here: {stderr.Trim()}");
        string loop = stdout.Trim();
        try
        {
            using var dev = FileDevice.Open(loop, writable: false);
            Assert.True(dev.IsBlockDevice);
            Assert.Equal(data.Length, dev.Length);
            var back = new byte[data.Length];
            dev.Read(0, back);
            Assert.Equal(data, back);
            Assert.True(dev.GetStatus(0, dev.Length).HasData);
        }
        finally { PeerTools.Run("losetup", ["--detach", loop]); }
    }

    [Fact]
    public void FifoAndDirectoryAreRefusedWithoutBlocking()
    {
        using var dir = new TempDir();
        string fifo = dir.File("pipe");
        var mk = System.Diagnostics.Process.Start("mkfifo", [fifo]);
        mk.WaitForExit();
        Assert.Equal(0, mk.ExitCode);
        var e = Assert.Throws<ImageAccessException>(() => FileDevice.Open(fifo, writable: false));
        Assert.Contains("Not a regular file", e.Message);
        Assert.Throws<ImageAccessException>(() => Discemu.Formats.ImageOpener.Default.Open(fifo));
        Assert.Throws<ImageAccessException>(() => FileDevice.Open(dir.PathName, writable: false));
    }
}
