using Discemu.Formats;
using Discemu.Formats.Vhd;
using Discemu.Tests.Infrastructure;
using static Discemu.Tests.Formats.Vhd.DiskTestKit;

namespace Discemu.Tests.Formats.Vhd;

/// <summary>Differencing VHDs: parents of any format, locators, the parent's unique id, chains across formats, commit and rebase.</summary>
public sealed class VhdDifferencingTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private const long Size = (6L << 20) + 3 * 512;

    /// <summary>Writes the overlay pieces (unaligned, across sectors and blocks) to the image and the model.</summary>
    private static void WriteOverlay(DiskImage image, byte[] model)
    {
        var rng = new Random(99);
        (long Offset, int Length)[] pieces = [(1, 100), (511, 2), (4096, 8192), ((2L << 20) - 700, 1500), ((4L << 20) + 5, 600_000), (Size - 7, 7)];
        foreach (var (offset, length) in pieces)
        {
            var data = new byte[length];
            rng.NextBytes(data);
            image.Write(offset, data);
            data.CopyTo(model, offset);
        }
        image.WriteZeroes(3L << 20, 70_000);
        model.AsSpan(3 << 20, 70_000).Clear();
    }

    private DiskImage CreateDiff(string path, string parent)
        => VhdFormat.Instance.Create(new ImageCreateRequest(path, Size, CreateOptions.Empty, ImageOpener.Default) { BackingFile = parent });

    [Theory]
    [InlineData("vpc")]
    [InlineData("qcow2")]
    [InlineData("raw")]
    public void DifferencingDiskOverAParentOfAnyFormatReads(string parentFormat)
    {
        PeerTools.Require("qemu-img");
        var (src, data) = MixedSource(_dir, "src.raw", Size, 21);
        string parent = _dir.File($"parent.{parentFormat}");
        if (parentFormat == "raw") File.Copy(src, parent);
        else QemuImg("convert", "-f", "raw", "-O", parentFormat, "-o", parentFormat == "vpc" ? "force_size=on" : "cluster_size=4096", src, parent);
        var model = (byte[])data.Clone();
        using (var diff = CreateDiff(_dir.File("diff.vhd"), Path.GetFileName(parent)))
        {
            Assert.Equal(parentFormat, diff.Backing!.Format.Name);
            AssertSameBytes(model, ReadAll(diff), "fresh differencing disk");
            WriteOverlay(diff, model);
            AssertSameBytes(model, ReadAll(diff), "after writes");
        }
        using (var again = ImageOpener.Default.Open(_dir.File("diff.vhd")))
        {
            Assert.Equal("differencing", VhdInteropTests.Specific(again, "disk-type"));
            AssertSameBytes(model, ReadAll(again), "reopened");
            AssertStatusAgrees(again, model, "reopened");
        }
        string raw = _dir.File("out.raw");
        CliOk("convert", "-O", "raw", _dir.File("diff.vhd"), raw);
        AssertSameBytes(model, File.ReadAllBytes(raw), "discemu convert");
        CliOk("compare", _dir.File("diff.vhd"), raw);
    }

    [Fact]
    public void Qcow2OverAVhdParentReadsAsQemuImgReadsIt()
    {
        PeerTools.Require("qemu-img");
        var (src, _) = MixedSource(_dir, "src.raw", Size, 22);
        QemuImg("convert", "-f", "raw", "-O", "vpc", src, _dir.File("base.vhd"));
        string top = _dir.File("top.qcow2");
        QemuImg("create", "-q", "-f", "qcow2", "-b", "base.vhd", "-F", "vpc", "-o", "cluster_size=4096", top);
        QemuIo("qcow2", top, "write -P 0x77 4097 10000", "write -z 1048576 65536", $"write -P 0x12 {(2 << 20) - 100} 300");
        var expected = QemuRaw(_dir, top, "qcow2");
        using var image = ImageOpener.Default.Open(top);
        Assert.Equal("vpc", image.Backing!.Format.Name);
        AssertSameBytes(expected, ReadAll(image), "qcow2 over vpc");
        AssertStatusAgrees(image, expected, "qcow2 over vpc");
    }

    [Fact]
    public void ChainOfTwoDifferencingDisksOverAQemuImgVhd()
    {
        PeerTools.Require("qemu-img");
        var (src, data) = MixedSource(_dir, "src.raw", Size, 23);
        QemuImg("convert", "-f", "raw", "-O", "vpc", "-o", "force_size=on", src, _dir.File("base.vhd"));
        var model = (byte[])data.Clone();
        using (var mid = CreateDiff(_dir.File("mid.vhd"), "base.vhd")) WriteOverlay(mid, model);
        using (var top = CreateDiff(_dir.File("top.vhd"), "mid.vhd"))
        {
            var rng = new Random(5);
            var piece = new byte[3000];
            rng.NextBytes(piece);
            top.Write(2L << 20, piece);
            piece.CopyTo(model, 2L << 20);
            top.Discard(4L << 20, 1 << 20);
            model.AsSpan(4 << 20, 1 << 20).Clear();
        }
        using var image = ImageOpener.Default.Open(_dir.File("top.vhd"));
        AssertSameBytes(model, ReadAll(image), "two differencing disks over a qemu-img VHD");
        var st = image.GetStatus(0, 512);
        Assert.Equal(1, st.Depth); // written in the middle layer
    }

    [Fact]
    public void MissingParentIsNamedAndMovedFilesStillFindTheirParent()
    {
        var (src, data) = MixedSource(_dir, "src.raw", Size, 24);
        Directory.CreateDirectory(_dir.File("a"));
        File.Copy(src, _dir.File("a/parent.raw"));
        using (var diff = CreateDiff(_dir.File("a/diff.vhd"), "parent.raw")) diff.Write(0, new byte[] { 1, 2, 3 });
        data[0] = 1; data[1] = 2; data[2] = 3;

        // Both files moved together: the relative locator (W2ru) finds the parent.
        Directory.Move(_dir.File("a"), _dir.File("b"));
        using (var moved = ImageOpener.Default.Open(_dir.File("b/diff.vhd"))) AssertSameBytes(data, ReadAll(moved), "moved together");

        // Only the child moved: the absolute locator (MacX file URL) was written for the old place, so it is missing now...
        Directory.CreateDirectory(_dir.File("c"));
        File.Move(_dir.File("b/diff.vhd"), _dir.File("c/diff.vhd"));
        var e = Assert.Throws<ImageAccessException>(() => ImageOpener.Default.Open(_dir.File("c/diff.vhd")));
        Assert.Contains(_dir.File("c/parent.raw"), e.Message);
        Assert.Contains(_dir.File("a/parent.raw"), e.Message);
        // ...and back in place it is found by the absolute path.
        Directory.Move(_dir.File("b"), _dir.File("a"));
        using var byUrl = ImageOpener.Default.Open(_dir.File("c/diff.vhd"));
        Assert.Equal(Path.GetFullPath(_dir.File("a/parent.raw")), Path.GetFullPath(byUrl.Backing!.Path));
        AssertSameBytes(data, ReadAll(byUrl), "found through the file URL");
    }

    [Fact]
    public void ReplacedParentIsRefusedUntilRebasedOntoIt()
    {
        using (VhdFormat.Instance.Create(new ImageCreateRequest(_dir.File("parent.vhd"), Size, CreateOptions.Empty, ImageOpener.Default))) { }
        using (CreateDiff(_dir.File("diff.vhd"), "parent.vhd")) { }
        using (VhdFormat.Instance.Create(new ImageCreateRequest(_dir.File("parent.vhd"), Size, CreateOptions.Empty, ImageOpener.Default))) { }
        var e = Assert.Throws<CorruptImageException>(() => ImageOpener.Default.Open(_dir.File("diff.vhd")));
        Assert.Contains("unique id", e.Message);
        // Without the parent (info, rebase -u) the disk still opens; rebase -u records the new parent's id.
        CliOk("info", _dir.File("diff.vhd"));
        CliOk("rebase", "-u", "-b", "parent.vhd", _dir.File("diff.vhd"));
        using var image = ImageOpener.Default.Open(_dir.File("diff.vhd"));
        Assert.NotNull(image.Backing);
    }

    [Fact]
    public void CommitWritesIntoTheParentAndEmptiesTheDisk()
    {
        PeerTools.Require("qemu-img");
        var (src, data) = MixedSource(_dir, "src.raw", Size, 25);
        QemuImg("convert", "-f", "raw", "-O", "vpc", "-o", "force_size=on", src, _dir.File("base.vhd"));
        var model = (byte[])data.Clone();
        using (var diff = CreateDiff(_dir.File("diff.vhd"), "base.vhd")) WriteOverlay(diff, model);
        long before = new FileInfo(_dir.File("diff.vhd")).Length;
        CliOk("commit", _dir.File("diff.vhd"));
        // qemu-img reads the parent (a plain dynamic VHD) with the committed changes.
        AssertSameBytes(model, QemuRaw(_dir, _dir.File("base.vhd"), "vpc"), "parent after commit");
        Assert.True(new FileInfo(_dir.File("diff.vhd")).Length < before, "the emptied disk gave its blocks back");
        using var image = ImageOpener.Default.Open(_dir.File("diff.vhd"));
        AssertSameBytes(model, ReadAll(image), "the disk over the committed parent");
        for (long pos = 0; pos < image.Length;)
        {
            var st = image.GetStatus(pos, image.Length - pos);
            Assert.True(st.Depth >= 1 || !st.IsAllocated, $"the emptied disk still holds {pos}+{st.Length}");
            pos += st.Length;
        }
        Assert.Equal(0, ((ICheckableImage)image).Check(CheckRepair.None).ExitCode);
    }

    [Fact]
    public void RebaseKeepsTheContentAndRemovingTheParentMakesADynamicDisk()
    {
        PeerTools.Require("qemu-img");
        var (src, data) = MixedSource(_dir, "src.raw", Size, 26);
        QemuImg("convert", "-f", "raw", "-O", "qcow2", src, _dir.File("base.qcow2"));
        var (other, _) = MixedSource(_dir, "other.raw", Size, 27);
        var model = (byte[])data.Clone();
        using (var diff = CreateDiff(_dir.File("diff.vhd"), "base.qcow2")) WriteOverlay(diff, model);

        CliOk("rebase", "-b", "other.raw", "-F", "raw", _dir.File("diff.vhd"));
        using (var image = ImageOpener.Default.Open(_dir.File("diff.vhd")))
        {
            Assert.Equal("other.raw", image.BackingFileName);
            AssertSameBytes(model, ReadAll(image), "after a safe rebase onto another parent");
        }
        CliOk("rebase", "-b", "", _dir.File("diff.vhd"));
        using (var image = ImageOpener.Default.Open(_dir.File("diff.vhd")))
        {
            Assert.Null(image.BackingFileName);
            Assert.Equal("dynamic", VhdInteropTests.Specific(image, "disk-type"));
            AssertSameBytes(model, ReadAll(image), "after removing the parent");
        }
        // qemu-img reads the result as a plain dynamic disk.
        AssertSameBytes(model, QemuRaw(_dir, _dir.File("diff.vhd"), "vpc"), "qemu-img after removing the parent");
    }

    [Fact]
    public void ConvertWithABackingFileWritesOnlyTheDifferences()
    {
        PeerTools.Require("qemu-img");
        var (src, data) = MixedSource(_dir, "src.raw", Size, 28);
        QemuImg("convert", "-f", "raw", "-O", "vpc", "-o", "force_size=on", src, _dir.File("base.vhd"));
        var changed = (byte[])data.Clone();
        new Random(3).NextBytes(changed.AsSpan(1 << 20, 5000));
        File.WriteAllBytes(_dir.File("changed.raw"), changed);
        CliOk("convert", "-O", "vpc", "-B", "base.vhd", _dir.File("changed.raw"), _dir.File("diff.vhd"));
        using var image = ImageOpener.Default.Open(_dir.File("diff.vhd"));
        AssertSameBytes(changed, ReadAll(image), "convert -B");
        long own = 0;
        for (long pos = 0; pos < image.Length;)
        {
            var st = image.GetStatus(pos, image.Length - pos);
            if (st.IsAllocated && st.Depth == 0) own += st.Length;
            pos += st.Length;
        }
        Assert.InRange(own, 5000, 16384);
    }
}
