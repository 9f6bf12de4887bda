using Discemu.Formats;
using Discemu.Formats.Vdi;
using Discemu.Tests.Infrastructure;
using static Discemu.Tests.Formats.Vhd.DiskTestKit;

namespace Discemu.Tests.Formats.Vdi;

/// <summary>VDI differencing images: the parent found by UUID (same folder, folder above), named explicitly, commit and rebase.</summary>
public sealed class VdiDifferencingTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private const long Size = (5L << 20) + 512;

    private static DiskImage Create(string path, string? parent = null, string options = "")
        => VdiFormat.Instance.Create(new ImageCreateRequest(path, Size, CreateOptions.Parse(options), ImageOpener.Default) { BackingFile = parent });

    private static void WriteOverlay(DiskImage image, byte[] model)
    {
        var rng = new Random(7);
        (long Offset, int Length)[] pieces = [(3, 100), ((1L << 20) - 50, 100), ((2L << 20) + 4096, 1 << 20), (Size - 9, 9)];
        foreach (var (offset, length) in pieces)
        {
            var data = new byte[length];
            rng.NextBytes(data);
            image.Write(offset, data);
            data.CopyTo(model, offset);
        }
        image.WriteZeroes(4L << 20, 1 << 20); // a whole free block: becomes a zero block, the parent hidden
        model.AsSpan(4 << 20, 1 << 20).Clear();
    }

    /// <summary>A qemu-img VDI parent from a mixed source; returns its content.</summary>
    private byte[] MakeParent(string path, int seed)
    {
        var (src, data) = MixedSource(_dir, $"src{seed}.raw", Size, seed);
        QemuImg("convert", "-f", "raw", "-O", "vdi", src, path);
        return data;
    }

    [Fact]
    public void ParentIsFoundByUuidInTheSameFolderOrTheOneAbove()
    {
        PeerTools.Require("qemu-img");
        Directory.CreateDirectory(_dir.File("vm/Snapshots"));
        var model = MakeParent(_dir.File("vm/disk.vdi"), 41);
        MakeParent(_dir.File("vm/other.vdi"), 42); // a decoy with another UUID
        using (var diff = Create(_dir.File("vm/Snapshots/diff.vdi"), "../disk.vdi"))
        {
            Assert.Equal("differencing", diff.FormatSpecific.First(p => p.Key == "image-type").Value);
            WriteOverlay(diff, model);
        }
        using (var image = ImageOpener.Default.Open(_dir.File("vm/Snapshots/diff.vdi")))
        {
            Assert.Equal(Path.GetFullPath(_dir.File("vm/disk.vdi")), Path.GetFullPath(image.Backing!.Path));
            Assert.Equal(Path.Combine("..", "disk.vdi"), image.BackingFileName);
            AssertSameBytes(model, ReadAll(image), "differencing image over its parent");
            AssertStatusAgrees(image, model, "differencing image");
            Assert.Equal(0, ((ICheckableImage)image).Check(CheckRepair.None).ExitCode);
        }
        // qemu-img has no differencing VDI: it refuses an image linked to a parent.
        var (code, _, stderr) = PeerTools.Run("qemu-img", ["info", "-f", "vdi", _dir.File("vm/Snapshots/diff.vdi")]);
        Assert.NotEqual(0, code);
        Assert.Contains("non-NULL link UUID", stderr);
        // A chain: a second differencing image in the same folder.
        using (var top = Create(_dir.File("vm/Snapshots/top.vdi"), "diff.vdi")) top.Write(100, new byte[] { 9, 9 });
        model[100] = 9; model[101] = 9;
        using var chain = ImageOpener.Default.Open(_dir.File("vm/Snapshots/top.vdi"));
        AssertSameBytes(model, ReadAll(chain), "two differencing images");
    }

    [Fact]
    public void MissingParentIsReportedWithItsUuidAndCanBeGivenExplicitly()
    {
        PeerTools.Require("qemu-img");
        var model = MakeParent(_dir.File("base.vdi"), 43);
        using (var diff = Create(_dir.File("diff.vdi"), "base.vdi")) WriteOverlay(diff, model);
        Directory.CreateDirectory(_dir.File("far/away"));
        File.Move(_dir.File("base.vdi"), _dir.File("far/away/base.vdi"));
        var e = Assert.Throws<ImageAccessException>(() => ImageOpener.Default.Open(_dir.File("diff.vdi")));
        Assert.Contains("UUID", e.Message);
        using (var alone = ImageOpener.Default.Open(_dir.File("diff.vdi"), new ImageOpenOptions { OpenBacking = false }))
            Assert.Null(alone.BackingFileName);
        using var image = VdiFormat.Instance.OpenWithParent(_dir.File("diff.vdi"), _dir.File("far/away/base.vdi"));
        AssertSameBytes(model, ReadAll(image), "with the parent named explicitly");
    }

    [Fact]
    public void ParentsMustBeFindableVdiImages()
    {
        File.WriteAllBytes(_dir.File("base.raw"), new byte[Size]);
        Assert.Throws<BadArgumentException>(() => Create(_dir.File("d1.vdi"), "base.raw"));
        Directory.CreateDirectory(_dir.File("x/y"));
        using (Create(_dir.File("x/y/base.vdi"))) { }
        var e = Assert.Throws<BadArgumentException>(() => Create(_dir.File("d2.vdi"), "x/y/base.vdi"));
        Assert.Contains("UUID", e.Message);
    }

    [Fact]
    public void CommitAndRebaseKeepTheContent()
    {
        PeerTools.Require("qemu-img");
        var model = MakeParent(_dir.File("base.vdi"), 44);
        var other = MakeParent(_dir.File("other.vdi"), 45);
        using (var diff = Create(_dir.File("diff.vdi"), "base.vdi")) WriteOverlay(diff, model);

        CliOk("rebase", "-b", "other.vdi", _dir.File("diff.vdi"));
        using (var image = ImageOpener.Default.Open(_dir.File("diff.vdi")))
        {
            Assert.Equal(Path.GetFullPath(_dir.File("other.vdi")), Path.GetFullPath(image.Backing!.Path));
            AssertSameBytes(model, ReadAll(image), "after rebasing onto another parent");
        }
        CliOk("commit", _dir.File("diff.vdi"));
        AssertSameBytes(model, QemuRaw(_dir, _dir.File("other.vdi"), "vdi"), "the parent after commit (read by qemu-img)");
        var (code, stdout, stderr) = PeerTools.Run("qemu-img", ["check", "-f", "vdi", _dir.File("other.vdi")]);
        Assert.True(code == 0, stdout + stderr);
        using (var image = ImageOpener.Default.Open(_dir.File("diff.vdi")))
        {
            AssertSameBytes(model, ReadAll(image), "the emptied image over the committed parent");
            Assert.Equal(0u, ((VdiImage)image).Header.BlocksAllocated);
        }
        CliOk("rebase", "-b", "", _dir.File("diff.vdi"));
        using (var image = ImageOpener.Default.Open(_dir.File("diff.vdi")))
        {
            Assert.Null(image.Backing);
            AssertSameBytes(model, ReadAll(image), "after removing the parent");
        }
        AssertSameBytes(model, QemuRaw(_dir, _dir.File("diff.vdi"), "vdi"), "qemu-img after removing the parent");
    }
}
