using System.Buffers.Binary;
using System.Text.Json;
using Discemu.Block;
using Discemu.Formats;
using Discemu.Formats.Qcow2;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Formats.Qcow2;

/// <summary>Clean images made by qemu-img: our check must agree with qemu-img check on every counter.</summary>
public sealed class Qcow2CheckerTests
{
    public static TheoryData<string> Kinds => new(QcowCheckImages.Kinds);

    [Theory]
    [MemberData(nameof(Kinds))]
    public void CleanImageMatchesQemu(string kind)
    {
        using var dir = new TempDir();
        string img = QcowCheckImages.Make(dir, kind);
        var qemu = QemuCheck.Run(img);
        Assert.Equal(0, qemu.ExitCode);
        var ours = QcowCheckImages.Check(img, CheckRepair.None);
        Assert.True(ours.ExitCode == 0, string.Join('\n', ours.Messages));
        Assert.Empty(ours.Messages);
        Assert.Equal(qemu.Get("image-end-offset"), ours.ImageEndOffset);
        Assert.Equal(qemu.Get("total-clusters"), ours.TotalClusters);
        Assert.Equal(qemu.Get("allocated-clusters"), ours.AllocatedClusters);
        Assert.Equal(qemu.Count("fragmented-clusters"), ours.FragmentedClusters);
        Assert.Equal(qemu.Count("compressed-clusters"), ours.CompressedClusters);
    }

    [Fact]
    public void RepairOfCleanImageChangesNothing()
    {
        using var dir = new TempDir();
        string img = QcowCheckImages.Make(dir, "snapshots");
        byte[] before = File.ReadAllBytes(img);
        var ours = QcowCheckImages.Check(img, CheckRepair.All);
        Assert.Equal(0, ours.ExitCode);
        Assert.Equal(0, ours.CorruptionsFixed + ours.LeaksFixed);
        Assert.Equal(before, File.ReadAllBytes(img));
    }

    [Fact]
    public void RepairNeedsWritableFile()
    {
        using var dir = new TempDir();
        string img = QcowCheckImages.Make(dir, "default");
        using var file = FileDevice.Open(img, writable: false);
        Assert.Throws<NotSupportedException>(() => Qcow2Checker.Check(file, img, CheckRepair.Leaks));
    }

    [Fact]
    public void DirtyLazyRefcountImageIsRebuilt()
    {
        using var dir = new TempDir();
        string img = QcowCheckImages.Make(dir, "lazy");
        var layout = Qcow2FileLayout.Read(img);
        // What a crash with lazy refcounts leaves: data clusters allocated but never counted, dirty bit set.
        foreach (long c in layout.DataClusters()) layout.SetRefcount(c, 0);
        layout.SetIncompatibleBits(layout.Header.IncompatibleFeatures | 1);
        Assert.NotEqual(0, QemuCheck.Run(img).ExitCode);

        using (var file = FileDevice.Open(img, writable: true)) Qcow2Checker.RebuildRefcounts(file, img);

        Assert.Equal(0, QemuCheck.Run(img).ExitCode);
        Assert.False(Qcow2FileLayout.Read(img).Header.Dirty);
        Assert.Equal(0, QcowCheckImages.Check(img, CheckRepair.None).ExitCode);
    }

    [Fact]
    public void NotQcow2IsCorrupt()
    {
        using var dir = new TempDir();
        string img = dir.File("x.qcow2");
        File.WriteAllBytes(img, new byte[4096]);
        Assert.Throws<CorruptImageException>(() => QcowCheckImages.Check(img, CheckRepair.None));
    }

    [Fact]
    public void L1FullOfOneL2TableStaysBounded()
    {
        using var dir = new TempDir();
        string img = QcowCheckImages.Make(dir, "cluster512");
        var layout = Qcow2FileLayout.Read(img);
        long l2 = layout.L1Entry(0) & 0x00FFFFFFFFFFFE00L;
        for (int i = 0; i < layout.Header.L1Size; i++) layout.SetL1Entry(i, l2);
        var result = QcowCheckImages.Check(img, CheckRepair.None);
        Assert.True(result.Corruptions > 0);
    }

    [Fact]
    public void RandomDamageNeverCrashes()
    {
        using var dir = new TempDir();
        string clean = QcowCheckImages.Make(dir, "snapshots512");
        byte[] original = File.ReadAllBytes(clean);
        var rng = new Random(1234);
        string img = dir.File("fuzz.qcow2");
        for (int round = 0; round < 150; round++)
        {
            byte[] data = (byte[])original.Clone();
            int flips = rng.Next(1, 8);
            for (int f = 0; f < flips; f++)
            {
                int at = rng.Next(0, Math.Min(data.Length, 32 * 512));
                data[at] ^= (byte)(1 << rng.Next(8));
            }
            File.WriteAllBytes(img, data);
            foreach (var mode in new[] { CheckRepair.None, CheckRepair.All })
            {
                try { QcowCheckImages.Check(img, mode); }
                catch (CorruptImageException) { }
                catch (UnsupportedFeatureException) { }
            }
        }
    }
}

/// <summary>Runs qemu-img check --output=json and reads its counters.</summary>
internal sealed record QemuCheck(int ExitCode, JsonElement Json)
{
    public static QemuCheck Run(string path)
    {
        var (code, stdout, _) = PeerTools.Run("qemu-img", ["check", "--output=json", "-f", "qcow2", path]);
        if (code == 1 || stdout.Length == 0) return new QemuCheck(code, default);
        using var doc = JsonDocument.Parse(stdout);
        return new QemuCheck(code, doc.RootElement.Clone());
    }

    public long? Get(string name) => Json.ValueKind == JsonValueKind.Object && Json.TryGetProperty(name, out var v) ? v.GetInt64() : null;

    public long Count(string name) => Get(name) ?? 0;
}

/// <summary>Builds the test images with qemu-img and qemu-io.</summary>
internal static class QcowCheckImages
{
    public static readonly string[] Kinds =
    [
        "default", "cluster512", "cluster2M", "refcount1", "refcount2", "refcount4", "refcount8", "refcount32", "refcount64",
        "extended_l2", "compat010", "snapshots", "snapshots512", "compressed", "bitmaps", "lazy", "preallocated",
    ];

    public static ImageCheckResult Check(string path, CheckRepair repair)
    {
        using var file = FileDevice.Open(path, writable: repair != CheckRepair.None);
        return Qcow2Checker.Check(file, path, repair);
    }

    public static string Make(TempDir dir, string kind)
    {
        string img = dir.File(kind + ".qcow2");
        string? opts = kind switch
        {
            "cluster512" or "snapshots512" => "cluster_size=512",
            "cluster2M" => "cluster_size=2M",
            "refcount1" => "refcount_bits=1",
            "refcount2" => "refcount_bits=2",
            "refcount4" => "refcount_bits=4",
            "refcount8" => "refcount_bits=8",
            "refcount32" => "refcount_bits=32",
            "refcount64" => "refcount_bits=64",
            "extended_l2" => "extended_l2=on",
            "compat010" => "compat=0.10",
            "lazy" => "lazy_refcounts=on",
            "preallocated" => "preallocation=metadata",
            _ => null,
        };
        if (kind == "compressed")
        {
            string raw = dir.File("src.raw");
            var data = new byte[12 * 65536 + 3000];
            new Random(7).NextBytes(data.AsSpan(0, 4 * 65536));
            data.AsSpan(6 * 65536).Fill((byte)'a');
            File.WriteAllBytes(raw, data);
            PeerTools.RunOk("qemu-img", "convert", "-c", "-f", "raw", "-O", "qcow2", raw, img);
            return img;
        }
        var create = new List<string> { "create", "-q", "-f", "qcow2" };
        if (opts is not null) { create.Add("-o"); create.Add(opts); }
        create.Add(img);
        create.Add("6M");
        PeerTools.RunOk("qemu-img", [.. create]);
        Io(img, "write -P 1 0 64k", "write -P 2 1M 128k", "write -P 3 5M 4k");
        if (kind == "extended_l2") Io(img, "write -P 4 2M 4k", "write -z 3M 8k", "write -P 5 3M 2k");
        if (kind is "snapshots" or "snapshots512")
        {
            PeerTools.RunOk("qemu-img", "snapshot", "-c", "s1", img);
            Io(img, "write -P 6 0 8k", "write -P 7 4M 64k");
            PeerTools.RunOk("qemu-img", "snapshot", "-c", "s2", img);
            Io(img, "write -P 8 1M 4k");
        }
        if (kind == "bitmaps")
        {
            PeerTools.RunOk("qemu-img", "bitmap", "--add", img, "b0");
            PeerTools.RunOk("qemu-img", "bitmap", "--add", "-g", "4096", img, "b1");
        }
        return img;
    }

    private static void Io(string img, params string[] commands)
    {
        var args = new List<string>();
        foreach (var c in commands) { args.Add("-c"); args.Add(c); }
        args.Add(img);
        PeerTools.RunOk("qemu-io", [.. args]);
    }
}

/// <summary>Reads and pokes the metadata of a test image to damage it on purpose.</summary>
internal sealed class Qcow2FileLayout
{
    private Qcow2FileLayout(string path, Qcow2Header header)
    {
        Path = path;
        Header = header;
    }

    public string Path { get; }
    public Qcow2Header Header { get; }
    public int ClusterSize => Header.ClusterSize;
    public int L2EntrySize => Header.ExtendedL2 ? 16 : 8;

    public static Qcow2FileLayout Read(string path)
    {
        var head = new byte[4096];
        using (var fs = File.OpenRead(path)) fs.ReadExactly(head, 0, (int)Math.Min(4096, fs.Length));
        return new Qcow2FileLayout(path, Qcow2Header.Read(head, path));
    }

    public long ReadU64(long offset)
    {
        var b = new byte[8];
        using var fs = File.OpenRead(Path);
        fs.Position = offset;
        fs.ReadExactly(b);
        return BinaryPrimitives.ReadInt64BigEndian(b);
    }

    public void Write(long offset, ReadOnlySpan<byte> data)
    {
        using var fs = new FileStream(Path, FileMode.Open, FileAccess.ReadWrite);
        fs.Position = offset;
        fs.Write(data);
    }

    public void WriteU64(long offset, long value)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(b, value);
        Write(offset, b);
    }

    public long L1Entry(int i) => ReadU64(Header.L1TableOffset + i * 8L);
    public void SetL1Entry(int i, long value) => WriteU64(Header.L1TableOffset + i * 8L, value);

    /// <summary>File offset of active L2 entry <paramref name="index"/> of the L2 table under L1 entry 0.</summary>
    public long L2EntryOffset(int index) => (L1Entry(0) & 0x00FFFFFFFFFFFE00L) + (long)index * L2EntrySize;

    /// <summary>The first allocated standard data entry of the first L2 table: (entry file offset, host cluster).</summary>
    public (long EntryOffset, long Cluster) FirstDataEntry()
    {
        for (int i = 0; i < ClusterSize / L2EntrySize; i++)
        {
            long at = L2EntryOffset(i);
            long e = ReadU64(at);
            long host = e & 0x00FFFFFFFFFFFE00L;
            if (e >= 0 && host != 0 && (e & (1L << 62)) == 0) return (at, host / ClusterSize);
            if (e < 0 && host != 0 && (e & (1L << 62)) == 0) return (at, host / ClusterSize);
        }
        throw new InvalidOperationException("No data cluster in the first L2 table.");
    }

    /// <summary>Host clusters of every standard data entry reachable from the active L1 table.</summary>
    public IEnumerable<long> DataClusters()
    {
        for (int l1 = 0; l1 < Header.L1Size; l1++)
        {
            long l2 = L1Entry(l1) & 0x00FFFFFFFFFFFE00L;
            if (l2 == 0) continue;
            for (int i = 0; i < ClusterSize / L2EntrySize; i++)
            {
                long e = ReadU64(l2 + (long)i * L2EntrySize);
                long host = e & 0x00FFFFFFFFFFFE00L;
                if (host != 0 && (e & (1L << 62)) == 0) yield return host / ClusterSize;
            }
        }
    }

    private (long ByteOffset, int Length, long Index) RefcountLocation(long cluster)
    {
        long perBlock = (long)ClusterSize * 8 / Header.RefcountBits;
        long block = ReadU64(Header.RefcountTableOffset + cluster / perBlock * 8) & unchecked((long)0xFFFFFFFFFFFFFE00UL);
        if (block == 0) throw new InvalidOperationException("No refcount block.");
        long index = cluster % perBlock;
        var (at, len) = Qcow2Metadata.RefcountBytes(index, Header.RefcountOrder);
        return (block + at, len, index);
    }

    public ulong GetRefcount(long cluster)
    {
        var (at, len, index) = RefcountLocation(cluster);
        var block = new byte[ClusterSize];
        var part = new byte[len];
        using (var fs = File.OpenRead(Path)) { fs.Position = at; fs.ReadExactly(part); }
        var (inner, _) = Qcow2Metadata.RefcountBytes(index, Header.RefcountOrder);
        part.CopyTo(block, inner);
        return Qcow2Metadata.GetRefcount(block, index, Header.RefcountOrder);
    }

    public void SetRefcount(long cluster, ulong value)
    {
        var (at, len, index) = RefcountLocation(cluster);
        var block = new byte[ClusterSize];
        var (inner, _) = Qcow2Metadata.RefcountBytes(index, Header.RefcountOrder);
        using (var fs = File.OpenRead(Path)) { fs.Position = at; fs.ReadExactly(block, inner, len); }
        Qcow2Metadata.SetRefcount(block, index, Header.RefcountOrder, value);
        Write(at, block.AsSpan(inner, len));
    }

    public void SetIncompatibleBits(ulong bits)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(b, bits);
        Write(72, b);
    }
}
