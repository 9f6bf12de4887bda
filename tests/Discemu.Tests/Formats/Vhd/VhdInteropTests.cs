using Discemu.Formats;
using Discemu.Formats.Vhd;
using Discemu.Tests.Infrastructure;
using static Discemu.Tests.Formats.Vhd.DiskTestKit;

namespace Discemu.Tests.Formats.Vhd;

/// <summary>
/// VHD interop with qemu-img, both ways and per subformat: what qemu-img writes Discemu reads byte for byte,
/// and what Discemu writes qemu-img reads as the source (compare) at the same virtual size (info).
/// </summary>
public sealed class VhdInteropTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    // Not a whole number of blocks or tracks; sector-aligned so qemu-img keeps every byte.
    private const long SourceSize = (9L << 20) + 7 * 512;

    public static TheoryData<string> QemuOptions => ["subformat=dynamic", "subformat=dynamic,force_size=on", "subformat=fixed", "subformat=fixed,force_size=on"];

    [Theory]
    [MemberData(nameof(QemuOptions))]
    public void ReadsWhatQemuImgWrote(string options)
    {
        PeerTools.Require("qemu-img");
        var (src, data) = MixedSource(_dir, "src.raw", SourceSize, 11);
        string image = _dir.File("q.vhd");
        QemuImg("convert", "-f", "raw", "-O", "vpc", "-o", options, src, image);
        var expected = QemuRaw(_dir, image, "vpc");
        AssertSameBytes(Padded(data, expected.Length), expected, "qemu-img's own rendering against the source");
        // A fixed VHD has no header: it is found by its footer alone.
        Assert.Equal("vpc", ImageOpener.Default.Detect(image).Name);
        using var vhd = ImageOpener.Default.Open(image);
        Assert.Equal(QemuVirtualSize(image, "vpc"), vhd.Length);
        AssertSameBytes(expected, ReadAll(vhd), "Discemu's read");
        AssertStatusAgrees(vhd, expected, options);
        Assert.Equal(options.Contains("fixed", StringComparison.Ordinal) ? "fixed" : "dynamic", Specific(vhd, "disk-type"));
        Assert.Equal(options.Contains("force_size", StringComparison.Ordinal) ? "footer" : "chs", Specific(vhd, "size-from"));
        // And through the copier (status-driven, holes skipped).
        string back = _dir.File("back.raw");
        CliOk("convert", "-O", "raw", image, back);
        AssertSameBytes(expected, File.ReadAllBytes(back), "discemu convert to raw");
    }

    public static TheoryData<string, string> OurOptions => new()
    {
        { "", "exact" },
        { "subformat=fixed", "exact" },
        { "force_size=off", "chs" },
        { "subformat=fixed,force_size=off", "chs" },
        { "subformat=fixed,azure=on", "mib" },
    };

    [Theory]
    [MemberData(nameof(OurOptions))]
    public void QemuImgReadsWhatDiscemuWrote(string options, string sizing)
    {
        PeerTools.Require("qemu-img");
        // Not a multiple of 512 either: the disk rounds up and reads zeros past the source.
        long size = SourceSize - 333;
        var (src, data) = MixedSource(_dir, "src.raw", size, 12);
        string image = _dir.File("d.vhd");
        var args = new List<string> { "convert", "-O", "vpc" };
        if (options.Length > 0) args.AddRange(["-o", options]);
        CliOk([.. args, src, image]);
        long expectedSize = sizing switch
        {
            "exact" => (size + 511) / 512 * 512,
            "mib" => (size + (1 << 20) - 1) >> 20 << 20,
            _ => QemuCreatedSize(size),
        };
        Assert.Equal(expectedSize, QemuVirtualSize(image, "vpc"));
        using (var vhd = ImageOpener.Default.Open(image))
        {
            Assert.Equal(expectedSize, vhd.Length);
            AssertSameBytes(Padded(data, expectedSize), ReadAll(vhd), "Discemu's read of its own image");
            Assert.Equal(0, ((ICheckableImage)vhd).Check(CheckRepair.None).ExitCode);
        }
        var (code, stdout, stderr) = PeerTools.Run("qemu-img", ["compare", "-f", "raw", "-F", "vpc", src, image]);
        Assert.True(code == 0, $"qemu-img compare exited {code}: {stdout}{stderr}");
        AssertSameBytes(Padded(data, expectedSize), QemuRaw(_dir, image, "vpc"), "qemu-img's read");
    }

    /// <summary>The size qemu-img create -f vpc (CHS-rounded) gives a request.</summary>
    private long QemuCreatedSize(long size)
    {
        string probe = _dir.File("probe.vhd");
        QemuImg("create", "-q", "-f", "vpc", probe, size.ToString(System.Globalization.CultureInfo.InvariantCulture));
        long result = QemuVirtualSize(probe, "vpc");
        File.Delete(probe);
        return result;
    }

    [Fact]
    public void SparseDynamicDisksBeyondFourGiBInteroperate()
    {
        PeerTools.Require("qemu-img");
        long size = 5L << 30;
        long[] spots = [0, (4L << 30) - 4096, (4L << 30) + (1 << 20) + 512, size - 65536];

        // qemu-img writes, Discemu reads.
        string q = _dir.File("q.vhd");
        QemuImg("create", "-q", "-f", "vpc", "-o", "force_size=on", q, "5G");
        for (int i = 0; i < spots.Length; i++) QemuIo("vpc", q, $"write -P {0x41 + i} {spots[i]} 65536");
        using (var vhd = ImageOpener.Default.Open(q))
        {
            Assert.Equal(size, vhd.Length);
            AssertSpots(vhd, spots);
        }

        // Discemu writes, qemu-io verifies and qemu-img compares against a sparse raw holding the same bytes.
        string d = _dir.File("d.vhd");
        using (var vhd = VhdFormat.Instance.Create(new ImageCreateRequest(d, size, CreateOptions.Empty, ImageOpener.Default)))
        {
            for (int i = 0; i < spots.Length; i++) vhd.Write(spots[i], Enumerable.Repeat((byte)(0x41 + i), 65536).ToArray());
        }
        Assert.Equal(size, QemuVirtualSize(d, "vpc"));
        for (int i = 0; i < spots.Length; i++) QemuIo("vpc", d, $"read -P {0x41 + i} {spots[i]} 65536");
        QemuIo("vpc", d, $"read -P 0 {1L << 30} 65536", $"read -P 0 {spots[2] + 65536} 4096");
        string raw = _dir.File("same.raw");
        using (var fs = new FileStream(raw, FileMode.Create, FileAccess.Write))
        {
            fs.SetLength(size);
            for (int i = 0; i < spots.Length; i++)
            {
                fs.Position = spots[i];
                fs.Write(Enumerable.Repeat((byte)(0x41 + i), 65536).ToArray());
            }
        }
        var (code, stdout, stderr) = PeerTools.Run("qemu-img", ["compare", "-f", "raw", "-F", "vpc", raw, d]);
        Assert.True(code == 0, $"qemu-img compare exited {code}: {stdout}{stderr}");
        using (var vhd = ImageOpener.Default.Open(d)) AssertSpots(vhd, spots);
    }

    private static void AssertSpots(DiskImage vhd, long[] spots)
    {
        var buffer = new byte[65536];
        for (int i = 0; i < spots.Length; i++)
        {
            vhd.Read(spots[i], buffer);
            Assert.True(buffer.AsSpan().IndexOfAnyExcept((byte)(0x41 + i)) < 0, $"spot {i} at {spots[i]}");
        }
        // Between the spots the disk is holes, and reported so.
        var st = vhd.GetStatus(1L << 30, 1L << 30);
        Assert.True(st.IsZero && st.Length == 1L << 30, $"the untouched second GiB reports {st}");
        vhd.Read((4L << 30) + (1 << 20) + 512 + 65536, buffer.AsSpan(0, 4096));
        Assert.True(buffer.AsSpan(0, 4096).IndexOfAnyExcept((byte)0) < 0);
    }

    [Fact]
    public void CreateWithForceSizeOffSizesAndShapesLikeQemuImg()
    {
        PeerTools.Require("qemu-img");
        long[] sizes = [1000, 34816, 10L << 20, (10L << 20) + 512, 1L << 30, 127L << 30, 128L << 30, 2040L << 30];
        foreach (long size in sizes)
        {
            string q = _dir.File("q.vhd"), d = _dir.File("d.vhd");
            QemuImg("create", "-q", "-f", "vpc", q, size.ToString(System.Globalization.CultureInfo.InvariantCulture));
            using (VhdFormat.Instance.Create(new ImageCreateRequest(d, size, CreateOptions.Parse("force_size=off"), ImageOpener.Default))) { }
            // Current size (offset 48) and geometry (offset 56) of the footer copy at offset 0.
            Assert.Equal(Convert.ToHexString(ReadFile(q, 48, 12)), Convert.ToHexString(ReadFile(d, 48, 12)));
            Assert.Equal(QemuVirtualSize(q, "vpc"), QemuVirtualSize(d, "vpc"));
        }
        Assert.Throws<BadArgumentException>(() => VhdFormat.Instance.Create(new ImageCreateRequest(_dir.File("x.vhd"), (2040L << 30) + 512, CreateOptions.Empty, ImageOpener.Default)));
    }

    [Fact]
    public void ExactSizesGetTheSpecificationsGeometry()
    {
        // The appendix's algorithm rounds down: 10 MiB is 301 cylinders, 4 heads, 17 sectors.
        Assert.Equal(new VhdGeometry(301, 4, 17), VhdGeometry.ForSectors(20480));
        Assert.Equal(new VhdGeometry(65535, 16, 255), VhdGeometry.ForSectors(long.MaxValue / 512));
        Assert.Equal(new VhdGeometry(16383, 16, 63), VhdGeometry.ForSectors(16383L * 16 * 63));
        string d = _dir.File("d.vhd");
        using var vhd = VhdFormat.Instance.Create(new ImageCreateRequest(d, 10L << 20, CreateOptions.Empty, ImageOpener.Default));
        Assert.Equal(10L << 20, vhd.Length);
        Assert.Equal("footer", Specific(vhd, "size-from"));
        Assert.Equal("qem2", Specific(vhd, "creator-app"));
        Assert.Equal(301 * 4 * 17 * 512L, Specific(vhd, "chs-size"));
    }

    public static TheoryData<string, string> Creators => new()
    {
        // creator (4 bytes, '_' for a space, '0' for NUL), how Discemu sizes it; qemu-img agrees on all of these.
        { "qemu", "chs" }, { "vpc_", "chs" }, { "vs__", "chs" }, { "win_", "footer" }, { "d2v_", "footer" },
        { "qem2", "footer" }, { "tap0", "footer" }, { "CTXS", "footer" },
    };

    [Theory]
    [MemberData(nameof(Creators))]
    public void SizeRuleFollowsTheCreatorLikeQemuImg(string creator, string source)
    {
        PeerTools.Require("qemu-img");
        string image = _dir.File("c.vhd");
        QemuImg("create", "-q", "-f", "vpc", image, "10M"); // geometry 302/4/17 = 10514432 bytes
        RewriteFooters(image, creator, currentSize: 10L << 20);
        using var vhd = ImageOpener.Default.Open(image);
        Assert.Equal(source, Specific(vhd, "size-from"));
        Assert.Equal(source == "chs" ? 10514432 : 10L << 20, vhd.Length);
        Assert.Equal(QemuVirtualSize(image, "vpc"), vhd.Length);
    }

    [Fact]
    public void UnknownCreatorsAreSizedByTheirFooterWhereQemuImgUsesTheGeometry()
    {
        PeerTools.Require("qemu-img");
        string image = _dir.File("c.vhd");
        QemuImg("create", "-q", "-f", "vpc", image, "10M");
        RewriteFooters(image, "vbox", currentSize: 10L << 20); // VirtualBox sizes its disks by the footer
        using (var vhd = ImageOpener.Default.Open(image)) Assert.Equal(10L << 20, vhd.Length);
        Assert.Equal(10514432, QemuVirtualSize(image, "vpc")); // the documented difference
        // The largest geometry means "use the footer" for every creator, qemu-img included.
        RewriteFooters(image, "qemu", currentSize: 10L << 20, geometry: 0xFFFF10FF);
        using (var vhd = ImageOpener.Default.Open(image)) Assert.Equal(10L << 20, vhd.Length);
        Assert.Equal(10L << 20, QemuVirtualSize(image, "vpc"));
    }

    /// <summary>Sets creator, current size (and geometry) in both footers of a dynamic VHD and fixes their checksums.</summary>
    internal static void RewriteFooters(string path, string creator, long currentSize, uint? geometry = null)
    {
        long length = new FileInfo(path).Length;
        foreach (long at in new[] { 0L, length - 512 })
        {
            var f = ReadFile(path, at, 512);
            var code = creator.Replace('_', ' ').Replace('0', '\0');
            System.Text.Encoding.ASCII.GetBytes(code).CopyTo(f, 28);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(f.AsSpan(40), (ulong)currentSize);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(f.AsSpan(48), (ulong)currentSize);
            if (geometry is { } g) System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(f.AsSpan(56), g);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(f.AsSpan(64), VhdFooter.Checksum(f, 64));
            Patch(path, at, f);
        }
    }

    internal static object? Specific(DiskImage image, string key) => image.FormatSpecific.First(p => p.Key == key).Value;
}
