using Discemu.Block;
using Discemu.FileSystems;
using Discemu.Formats;
using Discemu.Fuse;
using Discemu.Fuzz;
using Discemu.Tests.Cli;
using Discemu.Tests.FileSystems.Iso9660;
using Discemu.Tests.FileSystems.Udf;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Fuse;

/// <summary>
/// The spliced READ reply path against the copying one: every file of ISO 9660 (xorriso, and a hand-made multi-extent
/// file), UDF (genisoimage bridge, hand-made with embedded, split and extended-AD files) and FAT (mkfs.fat + mcopy,
/// with a fragmented file) images hashes the same through a mount with splicing, a mount without, and
/// <c>discemu get</c>'s extraction; spliced replies are really sent for host-file-backed data, and never for a
/// qcow2 container (whose bytes are not stored verbatim).
/// </summary>
public sealed class SpliceMountTests : IDisposable
{
    private const string Sums = "find . -type f -print0 | sort -z | xargs -0 -r sha256sum";

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>Mounts the file system in <paramref name="image"/> read-only; returns the sums read through it and the spliced replies.</summary>
    private (string Sums, long Spliced) ThroughMount(string image, bool splice, string? type = null)
    {
        using var disk = ImageOpener.Default.Open(image);
        using var fs = FileSystemRegistry.Default.Open(disk, new FileSystemOpenOptions { Type = type });
        using var view = new FileSystemView(fs, writable: false);
        using var mount = FuseTestKit.Mount(_dir, view, "mnt-" + Guid.NewGuid().ToString("N")[..8], new FuseMountOptions { Source = "discemu-test", Splice = splice });
        string sums = FuseTestKit.Sh(mount.Path, Sums);
        return (sums, mount.Server.SplicedReplies);
    }

    /// <summary>The sums of <c>discemu get IMAGE:/</c>'s extraction.</summary>
    private string Extracted(string image, string? type = null)
    {
        string output = _dir.File("x-" + Guid.NewGuid().ToString("N")[..8]);
        string[] args = type is null ? ["get", image + ":/", output] : ["get", "--type", type, image + ":/", output];
        var r = CliHarness.Run(args);
        Assert.True(r.Code == 0, r.Err);
        return FuseTestKit.Sh(output, Sums);
    }

    /// <summary>Asserts both mounts read what extraction reads; returns the spliced replies of the splicing mount.</summary>
    private long AssertSameBothWays(string image, string? type = null)
    {
        string expected = Extracted(image, type);
        Assert.NotEmpty(expected);
        var (copied, none) = ThroughMount(image, splice: false, type);
        Assert.Equal(0, none);
        Assert.Equal(expected, copied);
        var (spliced, count) = ThroughMount(image, splice: true, type);
        Assert.Equal(expected, spliced);
        return count;
    }

    private static byte[] Random(int length, int seed)
    {
        var b = new byte[length];
        new Random(seed).NextBytes(b);
        return b;
    }

    /// <summary>A tree with files of awkward sizes (around the 1 MiB READ size, odd tails) next to the usual sample.</summary>
    private string Source()
    {
        string src = IsoTestKit.MakeSource(_dir, symlinks: false, depth: 3);
        File.WriteAllBytes(Path.Join(src, "big.bin"), Random((3 << 20) + 777, 1));
        File.WriteAllBytes(Path.Join(src, "mib.bin"), Random((1 << 20) + 1, 2));
        File.WriteAllBytes(Path.Join(src, "page.bin"), Random(4095, 3));
        return src;
    }

    [Fact]
    public void IsoFromXorrisoReadsTheSameSpliced()
    {
        FuseTestKit.Require();
        PeerTools.Require("xorriso");
        string iso = _dir.File("t.iso");
        PeerTools.RunOk("xorriso", "-as", "mkisofs", "-R", "-J", "-o", iso, Source());
        Assert.True(AssertSameBothWays(iso) > 0, "no READ was spliced");
    }

    [Fact]
    public void MultiExtentIsoFileReadsTheSameSpliced()
    {
        FuseTestKit.Require();
        string iso = _dir.File("multi.iso");
        File.WriteAllBytes(iso, IsoSeeds.MultiExtent().Build());
        Assert.True(AssertSameBothWays(iso) > 0, "no READ was spliced");
        // The file is its three extents joined (4096 + 2048 + 100 bytes), one READ across all of them.
        using var disk = ImageOpener.Default.Open(iso);
        using var fs = FileSystemRegistry.Default.Open(disk);
        using var view = new FileSystemView(fs, writable: false);
        using var mount = FuseTestKit.Mount(_dir, view);
        byte[] expected = [.. Enumerable.Repeat((byte)1, 4096), .. Enumerable.Repeat((byte)2, 2048), .. Enumerable.Repeat((byte)3, 100)];
        string name = Directory.GetFiles(mount.Path).Single();
        Assert.Equal(expected, File.ReadAllBytes(name));
        Assert.True(mount.Server.SplicedReplies > 0);
    }

    [Fact]
    public void UdfBridgeFromGenisoimageReadsTheSameSpliced()
    {
        FuseTestKit.Require();
        PeerTools.Require("genisoimage");
        string iso = _dir.File("bridge.iso");
        PeerTools.RunOk("genisoimage", "-quiet", "-udf", "-R", "-J", "-joliet-long", "-o", iso, Source());
        Assert.True(AssertSameBothWays(iso, "udf") > 0, "no READ was spliced");
    }

    [Fact]
    public void HandMadeUdfWithEmbeddedSplitAndExtendedFilesReadsTheSame()
    {
        FuseTestKit.Require();
        string udf = _dir.File("hand.udf");
        File.WriteAllBytes(udf, UdfHandMadeTests.Sample(0x0250).Build());
        // random.bin and ext-ad.bin are spliced; readme.txt (embedded) and split.bin (an unrecorded run) are copied.
        Assert.True(AssertSameBothWays(udf) > 0, "no READ was spliced");
    }

    [Fact]
    public void FatWithAFragmentedFileReadsTheSameSpliced()
    {
        FuseTestKit.Require();
        PeerTools.Require("mkfs.fat");
        PeerTools.Require("mcopy");
        string img = _dir.File("fat.img");
        PeerTools.RunOk("mkfs.fat", "-C", "-s", "1", img, "16384");
        string src = _dir.File("fatsrc");
        Directory.CreateDirectory(src);
        File.WriteAllBytes(Path.Join(src, "a.bin"), Random(40_000, 4));
        File.WriteAllBytes(Path.Join(src, "b.bin"), Random(50_000, 5));
        File.WriteAllBytes(Path.Join(src, "c.bin"), Random(30_000, 6));
        File.WriteAllBytes(Path.Join(src, "big.bin"), Random((2 << 20) + 5, 7));
        PeerTools.RunOk("mcopy", "-i", img, Path.Join(src, "a.bin"), Path.Join(src, "b.bin"), Path.Join(src, "c.bin"), "::/");
        PeerTools.RunOk("mdel", "-i", img, "::/b.bin");
        // big.bin fills b.bin's hole first and continues after c.bin: two cluster runs.
        PeerTools.RunOk("mcopy", "-i", img, Path.Join(src, "big.bin"), "::/");
        using (var disk = ImageOpener.Default.Open(img))
        using (var fs = FileSystemRegistry.Default.Open(disk))
        using (var content = fs.OpenFile(fs.Lookup("/big.bin")))
        {
            var extents = new List<HostExtent>();
            Assert.True(HostMapping.TryMapAll(content, 0, content.Length, extents, 64));
            Assert.True(extents.Count >= 2, $"big.bin is in {extents.Count} run(s): the test wants it fragmented");
        }
        Assert.True(AssertSameBothWays(img) > 0, "no READ was spliced");
    }

    [Fact]
    public void DirectIoReadsTheSameAndKeepsPrivateMappings()
    {
        FuseTestKit.Require();
        PeerTools.Require("xorriso");
        PeerTools.Require("python3");
        string iso = _dir.File("t.iso");
        string src = Source();
        PeerTools.RunOk("xorriso", "-as", "mkisofs", "-R", "-o", iso, src);
        string expected = Extracted(iso);
        using var disk = ImageOpener.Default.Open(iso);
        using var fs = FileSystemRegistry.Default.Open(disk);
        using var view = new FileSystemView(fs, writable: false);
        using var mount = FuseTestKit.Mount(_dir, view, "dio", new FuseMountOptions { Source = "discemu-test", DirectIo = true });
        Assert.Equal(expected, FuseTestKit.Sh(mount.Path, Sums));
        Assert.True(mount.Server.SplicedReplies > 0);
        // Odd sizes and offsets read straight into the reader's buffer.
        const string odd = "dd if=big.bin bs=4099 iflag=skip_bytes skip=1000001 count=300 status=none | sha256sum; tail -c 777 big.bin | sha256sum";
        Assert.Equal(FuseTestKit.Sh(src, odd), FuseTestKit.Sh(mount.Path, odd));
        // A private mapping is served from pages the kernel fills (as executables need); a shared one is refused.
        const string map = "import mmap,hashlib,sys; f=open('big.bin','rb'); m=mmap.mmap(f.fileno(),0,flags=getattr(mmap,sys.argv[1]),prot=mmap.PROT_READ); print(hashlib.sha256(m[:]).hexdigest())";
        string sum = expected.Split('\n').Single(l => l.EndsWith("./big.bin", StringComparison.Ordinal))[..64];
        Assert.Equal(sum + "\n", FuseTestKit.Sh(mount.Path, $"python3 -c \"{map}\" MAP_PRIVATE"));
        Assert.Contains("No such device", FuseTestKit.Sh(mount.Path, $"python3 -c \"{map}\" MAP_SHARED 2>&1; true"));
    }

    [Fact]
    public void Qcow2ContainerIsCopiedNotSpliced()
    {
        FuseTestKit.Require();
        PeerTools.Require("xorriso");
        PeerTools.Require("qemu-img");
        string iso = _dir.File("t.iso");
        PeerTools.RunOk("xorriso", "-as", "mkisofs", "-R", "-o", iso, Source());
        string qcow2 = _dir.File("t.qcow2");
        PeerTools.RunOk("qemu-img", "convert", "-f", "raw", "-O", "qcow2", iso, qcow2);
        Assert.Equal(Extracted(iso), Extracted(qcow2));
        Assert.Equal(0, AssertSameBothWays(qcow2));
    }

    [Fact]
    public void RawViewOfARawImageIsSplicedAndOfQcow2Copied()
    {
        FuseTestKit.Require();
        PeerTools.Require("qemu-img");
        string raw = _dir.File("disk.img");
        File.WriteAllBytes(raw, Random((5 << 20) + 1536, 8));
        string qcow2 = _dir.File("disk.qcow2");
        PeerTools.RunOk("qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, qcow2);
        string expected = FuseTestKit.Sh(_dir.PathName, "sha256sum < disk.img");
        foreach (var (path, spliced) in new[] { (raw, true), (qcow2, false) })
        {
            using var disk = ImageOpener.Default.Open(path);
            using var view = new RawView(disk, "disk.raw", writable: false, DateTimeOffset.UnixEpoch);
            using var mount = FuseTestKit.Mount(_dir, view, "raw-" + Path.GetExtension(path)[1..]);
            Assert.Equal(expected, FuseTestKit.Sh(mount.Path, "sha256sum < disk.raw"));
            Assert.Equal(spliced, mount.Server.SplicedReplies > 0);
        }
    }
}
