using System.Diagnostics;
using System.IO.Hashing;
using System.Text.Json;
using Discemu.Formats.Vhdx;
using Discemu.Tests.Infrastructure;
using static Discemu.Tests.Formats.Vhdx.VhdxTestKit;

namespace Discemu.Tests.Formats.Vhdx;

/// <summary>
/// Crash safety of VHDX writes. A workload is cut short after every single file modification in turn
/// (the cut write itself torn at a 4 KiB boundary of the file, as a SIGKILL can leave it); then, and after a
/// real <c>discemu convert</c> killed with SIGKILL, every 4 KiB block (every 512-byte sector, the disk's
/// atomic unit, in a differencing image: a write over present and absent sectors of a partially present
/// block shows the present ones at once and the others when their bitmap bits commit) must read as its old or its new content,
/// through our read-only open (log replayed in memory), our writable open (replayed into the file) and
/// qemu-img (which replays a dirty log in <c>check -r all</c>), and qemu-img check must pass.
/// </summary>
public sealed class VhdxCrashTests
{
    private const long DiskSize = 24L << 20;

    /// <summary>The workload: new blocks, partial blocks, overwrites, whole-block zeroing and discard, flushes, then growth.</summary>
    private static void Workload(VhdxImage image)
    {
        image.Write(1 << 20, Pattern(3 << 20, 11));               // three new blocks
        image.Write((6 << 20) + 5000, Pattern(70_000, 12));        // part of a block (sector merges at both ends)
        image.Flush();
        image.Write(100_000, Pattern(200_000, 13));                // overwrite data that was in the base
        image.WriteZeroes(8L << 20, 1 << 20);                      // a whole block of the base becomes ZERO
        image.Write((12L << 20) + 4096, Pattern(8192, 14));
        image.Discard(10L << 20, 1 << 20);                         // a whole block of the base is dropped
        image.Write(15L << 20, Pattern(2 << 20, 15));
        image.Flush();
        image.Resize(DiskSize + (4 << 20));
        image.Write(DiskSize + (1 << 20), Pattern(1 << 20, 16));
    }

    private static void MakeBase(string path, string? parent)
    {
        using var image = parent is null ? Create(path, DiskSize, "block_size=1M") : Create(path, DiskSize, "block_size=1M", parent, "vhdx");
        image.Write(0, Pattern(1 << 20, 1));
        image.Write(8L << 20, Pattern(3 << 20, 2));
        image.Write((12L << 20) + 700, Pattern(5000, 3));
    }

    private static ulong[] Hashes(string path, long length, int unit)
    {
        using var image = Open(path);
        return HashesOf(image, length, unit);
    }

    private static ulong[] HashesOf(Discemu.Block.BlockDevice image, long length, int unit)
    {
        var hashes = new ulong[length / unit];
        var buffer = new byte[1 << 20];
        for (long pos = 0; pos < length; pos += buffer.Length)
        {
            int n = (int)Math.Min(buffer.Length, length - pos);
            if (pos + n <= image.Length) image.Read(pos, buffer.AsSpan(0, n));
            else
            {
                buffer.AsSpan(0, n).Clear();
                if (pos < image.Length) image.Read(pos, buffer.AsSpan(0, (int)(image.Length - pos)));
            }
            for (int i = 0; i < n / unit; i++) hashes[pos / unit + i] = XxHash3.HashToUInt64(buffer.AsSpan(i * unit, unit));
        }
        return hashes;
    }

    private static void AssertOldOrNew(ulong[] actual, ulong[] old, ulong[] @new, string what, int unit)
    {
        for (int i = 0; i < actual.Length; i++)
            if (actual[i] != old[i] && actual[i] != @new[i])
                Assert.Fail($"{what}: the {unit}-byte unit at 0x{(long)i * unit:x} holds neither its old nor its new content.");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ACrashAfterAnyFileWriteLeavesOldOrNewContent(bool differencing)
    {
        PeerTools.Require("qemu-img");
        int unit = differencing ? 512 : 4096;
        using var dir = new TempDir();
        string? parent = null;
        if (differencing)
        {
            parent = dir.File("parent.vhdx");
            using var p = Create(parent, DiskSize + (8 << 20), "block_size=2M");
            p.Write(0, Pattern((int)p.Length, 99));
        }
        string basePath = dir.File("base.vhdx");
        MakeBase(basePath, parent is null ? null : "parent.vhdx");
        long compareLength = DiskSize + (4 << 20);
        var old = Hashes(basePath, compareLength, unit);
        string full = dir.File("full.vhdx");
        File.Copy(basePath, full);
        Assert.False(VhdxCrash.Run(full, int.MaxValue, Workload));
        var @new = Hashes(full, compareLength, unit);
        if (!differencing) AssertQemuCheckClean(full);

        // How many modifications the whole workload makes.
        File.Copy(basePath, full, overwrite: true);
        var plan = new VhdxFaultPlan(int.MaxValue);
        using (var image = (VhdxImage)Open(full, writable: true))
        {
            image.HostFile.Faults = plan;
            Workload(image);
            image.Flush();
        }
        int total = plan.Writes;
        Assert.True(total > 20, $"the workload made only {total} writes");

        int dirty = 0;
        string path = dir.File("crashed.vhdx");
        for (int n = 0; n < total; n++)
        {
            File.Copy(basePath, path, overwrite: true);
            Assert.True(VhdxCrash.Run(path, n, Workload, seed: n), $"no crash after {n} of {total} writes");
            string what = $"crash after {n} of {total} writes";
            AssertOldOrNew(Hashes(path, compareLength, unit), old, @new, $"{what}, read-only open", unit);
            if (LogGuidOnDisk(path) != Guid.Empty)
            {
                dirty++;
                if (!differencing)
                {
                    // qemu-img opens a dirty log only to replay it: check -r all does, then all is clean.
                    string copy = dir.File("qemu.vhdx");
                    File.Copy(path, copy, overwrite: true);
                    PeerTools.RunOk("qemu-img", "check", "-r", "all", "-f", "vhdx", copy);
                    AssertQemuCheckClean(copy);
                    AssertOldOrNew(Hashes(copy, compareLength, unit), old, @new, $"{what}, after qemu-img's replay", unit);
                }
            }
            else if (!differencing) AssertQemuCheckClean(path);
            using (var rw = (VhdxImage)Open(path, writable: true))
            {
                Assert.Equal(0, rw.Check(Discemu.Formats.CheckRepair.None).ExitCode);
                AssertOldOrNew(HashesOf(rw, compareLength, unit), old, @new, $"{what}, writable open", unit);
            }
            Assert.Equal(Guid.Empty, LogGuidOnDisk(path));
        }
        Assert.True(dirty > 0, "no crash point left a log to replay");
        TestContext.Current.TestOutputHelper?.WriteLine($"{total} crash points, {dirty} with a dirty log");
    }
}
