using Discemu.Formats;
using Discemu.Formats.Vmdk;
using Discemu.Tests.Cli;
using Discemu.Tests.Infrastructure;
using static Discemu.Tests.Formats.Vmdk.VmdkTestKit;

namespace Discemu.Tests.Formats.Vmdk;

/// <summary>Differencing disks: parentFileNameHint and parentCID, parents of any format, commit and rebase.</summary>
public sealed class VmdkChainTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A VMDK base converted from a mixed source; returns the base path and its content.</summary>
    private (string Path, byte[] Content) MakeBase(string name = "base.vmdk", int seed = 1, string options = "")
    {
        string src = MixedSource(_dir, name + ".raw", 4L << 20, seed);
        string path = _dir.File(name);
        Convert(src, path, options);
        return (path, File.ReadAllBytes(src));
    }

    /// <summary>Writes a few pieces (partial grains included) into <paramref name="image"/> and <paramref name="model"/>.</summary>
    private static void Scribble(DiskImage image, byte[] model, int seed)
    {
        var rng = new Random(seed);
        for (int i = 0; i < 12; i++)
        {
            int len = rng.Next(1, 150_000);
            long off = rng.NextInt64(0, model.Length - len);
            var data = Pattern(len, seed * 100 + i);
            image.Write(off, data);
            data.CopyTo(model, off);
        }
    }

    [Fact]
    public void ChildWeMakeOverAVmdkParentReadsTheSameInQemu()
    {
        PeerTools.Require("qemu-img");
        var (basePath, model) = MakeBase();
        string child = _dir.File("child.vmdk");
        using (var image = Create(child, -1, "", "base.vmdk"))
        {
            Assert.Equal(model.Length, image.Length);
            Assert.Equal("base.vmdk", image.BackingFileName);
            Assert.Equal(model, ReadAll(image));
            Scribble(image, model, 3);
            Assert.Equal(model, ReadAll(image));
            var st = image.GetStatus(model.Length - 65536, 65536);
            Assert.True(st.Depth == 1 || st.Depth == 0);
        }
        AssertQemuCheckClean(child);
        string expected = _dir.File("expected.raw");
        File.WriteAllBytes(expected, model);
        AssertQemuCompare(child, expected);
        var info = QemuInfo(child);
        Assert.Equal("base.vmdk", info.GetProperty("backing-filename").GetString());
        using var parent = (VmdkImage)Open(basePath);
        Assert.Equal(parent.Cid, (uint)info.GetProperty("format-specific").GetProperty("data").GetProperty("parent-cid").GetInt64());
    }

    [Fact]
    public void ChildQemuMakesReadsThroughItsParent()
    {
        PeerTools.Require("qemu-io");
        var (_, _) = MakeBase();
        string child = _dir.File("qchild.vmdk");
        QemuImg("create", "-f", "vmdk", "-b", "base.vmdk", "-F", "vmdk", child);
        QemuIo(child, "vmdk", "write -P 0x61 100000 70000", "write -P 0x62 3M 4096");
        string expected = _dir.File("qchild.raw");
        QemuImg("convert", "-f", "vmdk", "-O", "raw", child, expected);
        using var image = Open(child);
        AssertSameContent(expected, image, "qemu-made child");
        Assert.Equal(1, image.GetStatus(0, 65536).Depth);
        Assert.Equal(0, image.GetStatus(131072, 65536).Depth);
    }

    [Fact]
    public void VmdkChildOverAQcow2Parent()
    {
        PeerTools.Require("qemu-io");
        string basePath = _dir.File("base.qcow2");
        QemuImg("create", "-f", "qcow2", basePath, "4M");
        QemuIo(basePath, "qcow2", "write -P 0x33 0 1M", "write -P 0x34 3M 200k");
        string baseRaw = _dir.File("base.raw");
        QemuImg("convert", "-f", "qcow2", "-O", "raw", basePath, baseRaw);
        var model = File.ReadAllBytes(baseRaw);
        string child = _dir.File("child.vmdk");
        using (var image = Create(child, -1, "", "base.qcow2", "qcow2"))
        {
            Assert.Equal(model, ReadAll(image));
            Scribble(image, model, 5);
        }
        Assert.Contains("parentFileNameHint=\"base.qcow2\"", DescriptorOf(child));
        using var back = Open(child);
        Assert.Equal("qcow2", back.Backing!.Format.Name);
        Assert.Equal(model, ReadAll(back));
        Assert.Equal(0, ((ICheckableImage)back).Check(CheckRepair.None).ExitCode);
    }

    [Fact]
    public void Qcow2ChildOverAVmdkParent()
    {
        PeerTools.Require("qemu-io");
        MakeBase();
        string child = _dir.File("child.qcow2");
        QemuImg("create", "-f", "qcow2", "-b", "base.vmdk", "-F", "vmdk", child);
        QemuIo(child, "qcow2", "write -P 0x71 65000 300000");
        string expected = _dir.File("child.raw");
        QemuImg("convert", "-f", "qcow2", "-O", "raw", child, expected);
        using var image = ImageOpener.Default.Open(child);
        Assert.Equal("vmdk", image.Backing!.Format.Name);
        AssertSameContent(expected, image, "qcow2 over vmdk");
    }

    [Fact]
    public void AParentModifiedAfterTheChildIsRefusedUntilRebasedUnsafely()
    {
        var (basePath, _) = MakeBase();
        string child = _dir.File("child.vmdk");
        using (Create(child, -1, "", "base.vmdk")) { }
        using (var parent = Open(basePath, writable: true)) parent.Write(0, new byte[] { 9 });
        var e = Assert.Throws<CorruptImageException>(() => Open(child));
        Assert.Contains("rebase -u", e.Message);
        using (var noChain = Open(child, openBacking: false)) Assert.Equal("base.vmdk", noChain.BackingFileName);
        var (code, _, err) = CliHarness.Run("rebase", "-u", "-b", "base.vmdk", child);
        Assert.True(code == 0, err);
        using var fixedChild = Open(child);
        Assert.Equal(9, ReadAll(fixedChild)[0]);
    }

    [Fact]
    public void CommitWritesIntoTheVmdkParentAndEmptiesTheChild()
    {
        PeerTools.Require("qemu-img");
        var (basePath, model) = MakeBase();
        string child = _dir.File("child.vmdk");
        using (var image = Create(child, -1, "", "base.vmdk")) Scribble(image, model, 7);
        long before = new FileInfo(child).Length;
        var (code, _, err) = CliHarness.Run("commit", child);
        Assert.True(code == 0, err);
        Assert.True(new FileInfo(child).Length < before, "the child was not emptied");
        string expected = _dir.File("expected.raw");
        File.WriteAllBytes(expected, model);
        AssertQemuCompare(basePath, expected);
        AssertQemuCheckClean(basePath);
        // The emptied child records the parent's new CID, so the chain opens (in Discemu and in qemu) and shows the parent.
        AssertQemuCompare(child, expected);
        using var reopened = Open(child);
        Assert.False(reopened.GetStatus(0, reopened.Length) is { IsAllocated: true, Depth: 0 });
        Assert.Equal(model, ReadAll(reopened));
    }

    [Fact]
    public void SafeRebaseKeepsTheContentAndRecordsTheNewParent()
    {
        PeerTools.Require("qemu-img");
        var (_, model) = MakeBase("base1.vmdk", 1);
        var (base2, _) = MakeBase("base2.vmdk", 2);
        string child = _dir.File("child.vmdk");
        using (var image = Create(child, -1, "", "base1.vmdk")) Scribble(image, model, 9);
        var (code, _, err) = CliHarness.Run("rebase", "-b", "base2.vmdk", child);
        Assert.True(code == 0, err);
        string d = DescriptorOf(child);
        Assert.Contains("parentFileNameHint=\"base2.vmdk\"", d);
        using (var parent2 = (VmdkImage)Open(base2)) Assert.Contains($"parentCID={parent2.Cid:x8}", d);
        string expected = _dir.File("expected.raw");
        File.WriteAllBytes(expected, model);
        AssertQemuCompare(child, expected);
        // Removing the parent (safe mode) copies everything the parent showed.
        (code, _, err) = CliHarness.Run("rebase", "-b", "", child);
        Assert.True(code == 0, err);
        Assert.DoesNotContain("parentFileNameHint", DescriptorOf(child));
        Assert.Contains("parentCID=ffffffff", DescriptorOf(child));
        AssertQemuCompare(child, expected);
    }

    [Theory]
    [InlineData("monolithicSparse")]
    [InlineData("streamOptimized")]
    public void ConvertWithABackingFileWritesOnlyWhatDiffers(string subformat)
    {
        PeerTools.Require("qemu-img");
        var (_, model) = MakeBase();
        Pattern(100_000, 77).CopyTo(model, 1_000_000);
        model.AsSpan(0, 300_000).Clear(); // zeros over the parent's data must be stored, or the parent shows through
        string src = _dir.File("changed.raw");
        File.WriteAllBytes(src, model);
        string child = _dir.File("delta.vmdk");
        var (code, _, err) = CliHarness.Run("convert", "-O", "vmdk", "-o", $"subformat={subformat}", "-B", "base.vmdk", src, child);
        Assert.True(code == 0, err);
        Assert.True(new FileInfo(child).Length < 1 << 20, "the delta holds more than the differing grains");
        AssertQemuCompare(child, src);
        AssertQemuCheckClean(child);
    }
}
