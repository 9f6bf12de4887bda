using Discemu.Formats;
using Discemu.Tests.Infrastructure;
using static Discemu.Tests.Formats.Qcow2.Qcow2TestKit;

namespace Discemu.Tests.Formats.Qcow2;

/// <summary>Images Discemu creates and writes must satisfy qemu-img check and compare identical to an in-memory model.</summary>
public sealed class Qcow2WriteInteropTests
{
    public static TheoryData<string, int, int, bool, bool, string, int> Matrix => new()
    {
        // compat, cluster size, refcount bits, compressed writes, extended L2, preallocation, backing depth
        { "1.1", 65536, 16, false, false, "off", 0 },
        { "0.10", 512, 16, true, false, "off", 1 },
        { "1.1", 4096, 1, true, false, "off", 0 },
        { "1.1", 2 << 20, 64, true, false, "off", 3 },
        { "1.1", 65536, 64, false, true, "metadata", 0 },
        { "1.1", 16384, 16, true, true, "off", 1 },
        { "1.1", 4096, 16, false, false, "full", 0 },
        { "0.10", 65536, 16, false, false, "metadata", 0 },
        { "1.1", 512, 64, true, false, "falloc", 0 },
        { "0.10", 4096, 16, false, false, "off", 3 },
    };

    [Theory]
    [MemberData(nameof(Matrix))]
    public void RandomOperationsMatchModelAndPassQemuCheck(string compat, int clusterSize, int refcountBits, bool compressed, bool extendedL2, string prealloc, int depth)
    {
        using var dir = new TempDir();
        long size = clusterSize >= (1 << 20) ? 24 << 20 : 4 << 20;
        string? backing = null;
        byte[] model = new byte[size];
        if (depth > 0)
        {
            string top = Qcow2ReadInteropTests.BuildChain(dir, "1.1", 65536, 16, "none", false, "off", depth - 1, size);
            backing = System.IO.Path.GetFileName(top);
            model = QemuRaw(dir, top);
        }
        var path = dir.File("new.qcow2");
        string opts = $"compat={compat},cluster_size={clusterSize}" + (compat == "1.1" ? $",refcount_bits={refcountBits}" : "")
            + (extendedL2 ? ",extended_l2=on" : "") + (prealloc != "off" ? $",preallocation={prealloc}" : "")
            + (compressed && compat == "1.1" && clusterSize == 4096 ? ",compression_type=zstd" : "");
        int seed = (int)(System.IO.Hashing.Crc32.HashToUInt32(System.Text.Encoding.UTF8.GetBytes($"{opts}|{compressed}|{depth}")) & 0x7fffffff); // same every run
        using (var image = Create(path, backing is null ? size : -1, opts, backing, backing is null ? null : "qcow2"))
        {
            Assert.Equal(size, image.Length);
            RunRandomOperations(image, model, seed, compressed);
            AssertSameBytes(model, ReadAll(image), "Discemu after writing");
        }
        AssertCheckClean(path);
        var rawModel = dir.File("model.raw");
        File.WriteAllBytes(rawModel, model);
        AssertQemuCompare(path, rawModel);
        using var reopened = Open(path);
        AssertSameBytes(model, ReadAll(reopened), "Discemu after reopening");
    }

    /// <summary>Random writes (spanning clusters, partial, unaligned), zeroes, discards and multi-threaded compressed writes, mirrored in <paramref name="model"/>.</summary>
    internal static void RunRandomOperations(DiskImage image, byte[] model, int seed, bool compressed)
    {
        var rnd = new Random(seed);
        int cs = image.ClusterSize!.Value;
        long size = image.Length;
        for (int op = 0; op < 60; op++)
        {
            long offset = rnd.NextInt64(size);
            int max = (int)Math.Min(size - offset, rnd.Next(3) == 0 ? 3 * cs + 1000 : 70000);
            int length = rnd.Next(1, Math.Max(2, max));
            switch (rnd.Next(10))
            {
                case < 6:
                    var data = Pattern(length, rnd.Next());
                    image.Write(offset, data);
                    data.CopyTo(model, offset);
                    break;
                case < 8:
                    image.WriteZeroes(offset, length, mayUnmap: rnd.Next(2) == 0);
                    model.AsSpan((int)offset, length).Clear();
                    break;
                default:
                    image.Discard(offset, length);
                    // Discarded contents are whatever the image now says; qemu must agree (checked later).
                    image.Read(offset, model.AsSpan((int)offset, length));
                    break;
            }
        }
        if (compressed && image is ICompressedWriter writer)
        {
            long clusters = (size + cs - 1) / cs;
            var picks = Enumerable.Range(0, 24).Select(_ => rnd.NextInt64(clusters)).Distinct().ToArray();
            var payloads = picks.ToDictionary(c => c, c =>
            {
                int n = (int)Math.Min(cs, size - c * cs);
                var d = Pattern(n, (int)c);
                if (c % 3 == 0) d.AsSpan(0, n / 2).Fill(0x42);
                return d;
            });
            Parallel.ForEach(picks, new ParallelOptions { MaxDegreeOfParallelism = 4 }, c => writer.WriteCompressed(c * cs, payloads[c]));
            foreach (var (c, d) in payloads) d.CopyTo(model, c * cs);
            // Overwrite part of a compressed cluster: copy-on-write out of the compressed data.
            long victim = picks[0] * cs;
            int partLength = (int)Math.Min(100, size - victim - 10);
            if (partLength > 0)
            {
                var part = Pattern(partLength, 99);
                image.Write(victim + 10, part);
                part.CopyTo(model, victim + 10);
            }
        }
        image.Flush();
    }

    [Fact]
    public void ManySmallClustersGrowTheRefcountTable()
    {
        using var dir = new TempDir();
        var path = dir.File("grow.qcow2");
        var data = Pattern(6 << 20, 5);
        using (var image = Create(path, 8 << 20, "cluster_size=512,refcount_bits=64"))
        {
            for (int i = 0; i < data.Length; i += 300000) image.Write(i, data.AsSpan(i, Math.Min(300000, data.Length - i)));
        }
        AssertCheckClean(path);
        using var reopened = Open(path);
        var back = new byte[data.Length];
        reopened.Read(0, back);
        AssertSameBytes(data, back, "data");
    }

    [Fact]
    public void ConcurrentWritersOfDifferentAndSameClusters()
    {
        using var dir = new TempDir();
        var path = dir.File("mt.qcow2");
        long size = 8 << 20;
        var model = new byte[size];
        using (var image = Create(path, size, "cluster_size=4096"))
        {
            // Each thread owns a stripe; all threads also hammer one shared cluster with identical bytes.
            var shared = Pattern(4096, 1);
            Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 4 }, t =>
            {
                var rnd = new Random(t);
                for (int i = 0; i < 40; i++)
                {
                    long stripe = size / 8;
                    long offset = t * stripe + rnd.NextInt64(stripe - 10000);
                    var d = Pattern(rnd.Next(1, 9000), t * 1000 + i);
                    image.Write(offset, d);
                    lock (model) d.CopyTo(model, offset);
                    image.Write(size - 4096, shared);
                }
            });
            shared.CopyTo(model, size - 4096);
            AssertSameBytes(model, ReadAll(image), "after concurrent writes");
        }
        AssertCheckClean(path);
        var raw = dir.File("m.raw");
        File.WriteAllBytes(raw, model);
        AssertQemuCompare(path, raw);
    }

    [Fact]
    public void WritesIntoQemuImageWithSnapshotsCopyOnWrite()
    {
        using var dir = new TempDir();
        var path = dir.File("snap.qcow2");
        QemuImg("create", "-f", "qcow2", "-o", "cluster_size=4096", path, "2M");
        QemuIo(path, "write -P 0x11 0 1M");
        QemuImg("snapshot", "-c", "first", path);
        QemuIo(path, "write -P 0x22 512k 64k");
        QemuImg("snapshot", "-c", "second", path);
        var snapFirst = dir.File("first.raw");
        QemuImg("convert", "-l", "snapshot.name=first", "-O", "raw", path, snapFirst);
        var snapSecond = dir.File("second.raw");
        QemuImg("convert", "-l", "snapshot.name=second", "-O", "raw", path, snapSecond);
        var model = QemuRaw(dir, path);
        using (var image = Open(path, writable: true))
        {
            var snaps = ((ISnapshotImage)image).Snapshots;
            Assert.Equal(["first", "second"], snaps.Select(s => s.Name));
            Assert.Equal(["1", "2"], snaps.Select(s => s.Id));
            Assert.All(snaps, s => Assert.Equal(2L << 20, s.VirtualSize));
            Assert.True(snaps[0].Date <= snaps[1].Date);
            using (var first = ((ISnapshotImage)image).OpenSnapshot("first"))
                AssertSameBytes(File.ReadAllBytes(snapFirst), ReadAll(first), "snapshot 'first'");
            using (var second = ((ISnapshotImage)image).OpenSnapshot("2"))
                AssertSameBytes(File.ReadAllBytes(snapSecond), ReadAll(second), "snapshot '2'");
            Assert.Throws<BadArgumentException>(() => ((ISnapshotImage)image).OpenSnapshot("nope"));
            RunRandomOperations(image, model, 17, compressed: true);
        }
        AssertCheckClean(path);
        var raw = dir.File("active.raw");
        File.WriteAllBytes(raw, model);
        AssertQemuCompare(path, raw);
        var after = dir.File("after-first.raw");
        QemuImg("convert", "-l", "snapshot.name=first", "-O", "raw", path, after);
        AssertSameBytes(File.ReadAllBytes(snapFirst), File.ReadAllBytes(after), "snapshot 'first' after writing");
        var after2 = dir.File("after-second.raw");
        QemuImg("convert", "-l", "snapshot.name=second", "-O", "raw", path, after2);
        AssertSameBytes(File.ReadAllBytes(snapSecond), File.ReadAllBytes(after2), "snapshot 'second' after writing");
    }

    [Fact]
    public void SmallL2CacheWritesBackInOrder()
    {
        using var dir = new TempDir();
        var path = dir.File("cache.qcow2");
        long size = 8 << 20;
        var model = new byte[size];
        long saved = Discemu.Formats.Qcow2.Qcow2Image.L2CacheBudget;
        Discemu.Formats.Qcow2.Qcow2Image.L2CacheBudget = 1;
        try
        {
            using var image = Create(path, size, "cluster_size=512,refcount_bits=4");
            RunRandomOperations(image, model, 5, compressed: true);
            var big = Pattern(3 << 20, 6);
            image.Write(1 << 20, big);
            big.CopyTo(model, 1 << 20);
            AssertSameBytes(model, ReadAll(image), "with a tiny L2 cache");
        }
        finally { Discemu.Formats.Qcow2.Qcow2Image.L2CacheBudget = saved; }
        AssertCheckClean(path);
        var raw = dir.File("m.raw");
        File.WriteAllBytes(raw, model);
        AssertQemuCompare(path, raw);
    }

    [Fact]
    public void AutoclearBitsAreClearedWhenWriting()
    {
        using var dir = new TempDir();
        var path = dir.File("bm.qcow2");
        QemuImg("create", "-f", "qcow2", path, "1M");
        QemuImg("bitmap", "--add", path, "b0");
        Assert.Contains("b0", QemuImg("info", path));
        using (var image = Open(path, writable: true))
            image.Write(0, Pattern(4096, 1));
        var header = new byte[96];
        using (var fs = File.OpenRead(path)) fs.ReadExactly(header);
        Assert.Equal(0UL, System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(header.AsSpan(88)));
        var (code, stdout, stderr) = PeerTools.Run("qemu-img", ["check", path]);
        Assert.True(code is 0 or 3, $"qemu-img check: {code} {stdout}{stderr}");
    }
}
