using Discemu.Block;
using Discemu.Operations;

namespace Discemu.Tests.Operations;

public sealed class ImageCommitterTests
{
    private static byte[] All(BlockDevice dev)
    {
        var buf = new byte[dev.Length];
        dev.Read(0, buf);
        return buf;
    }

    [Fact]
    public void CommitCopiesTopRangesIntoBase()
    {
        using var baseDev = new MemoryDevice(512 * 1024);
        var rng = new Random(1);
        var data = new byte[100_000];
        rng.NextBytes(data);
        baseDev.Write(0, data);
        using var top = new OverlayDevice(baseDev, new MemoryDevice(baseDev.Length), blockSize: 4096, owns: false);
        var change = new byte[5000];
        rng.NextBytes(change);
        top.Write(300_000, change);
        top.WriteZeroes(0, 8192);
        var expected = All(top);
        long committed = ImageCommitter.Commit(top, baseDev, emptyTop: false, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(expected, All(baseDev));
        Assert.Equal(8192 + 8192, committed); // the zeroed blocks and the two 4 KiB blocks the change touches
    }

    [Fact]
    public void RebaseCopiesOnlyWhereOldAndNewBackingDiffer()
    {
        var rng = new Random(2);
        using var oldBacking = new MemoryDevice(256 * 1024);
        using var newBacking = new MemoryDevice(256 * 1024);
        var shared = new byte[65536];
        rng.NextBytes(shared);
        oldBacking.Write(0, shared);
        newBacking.Write(0, shared);                    // same in both: nothing to copy
        var only = new byte[65536];
        rng.NextBytes(only);
        oldBacking.Write(65536, only);                  // only in the old backing: copy it
        newBacking.Write(131072, only);                 // only in the new backing: zeros must be written
        using var store = new MemoryDevice(oldBacking.Length);
        using var image = new OverlayDevice(oldBacking, store, blockSize: 4096, owns: false);
        image.Write(200_000, new byte[] { 9 });          // defined by the image itself: left alone
        var before = All(image);
        long written = ImageRebaser.CopyDifferences(image, newBacking, granularity: 65536, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(2 * 65536, written);
        // What the image shows over the new backing: its own blocks, else the new backing.
        var after = new byte[before.Length];
        for (long pos = 0; pos < after.Length;)
        {
            var st = image.GetStatus(pos, after.Length - pos);
            (st.Depth == 0 && st.IsAllocated ? (BlockDevice)image : newBacking).Read(pos, after.AsSpan((int)pos, (int)st.Length));
            pos += st.Length;
        }
        Assert.Equal(before, after);
    }
}
