using Discemu.Block;
using Discemu.Formats;
using Discemu.Formats.Vhdx;
using Discemu.Operations;
using Discemu.Tests.Infrastructure;
using static Discemu.Tests.Formats.Vhdx.VhdxTestKit;

namespace Discemu.Tests.Formats.Vhdx;

/// <summary>Both directions against qemu-img: images it makes read byte-identical; images we make pass its check and compare.</summary>
public sealed class VhdxInteropTests
{
    public static TheoryData<string, string> QemuMatrix => new()
    {
        // how qemu-img makes the image, -o options
        { "convert", "subformat=dynamic" },
        { "convert", "subformat=dynamic,block_size=1M,log_size=2M" },
        { "convert", "subformat=dynamic,block_size=32M,block_state_zero=off" },
        { "convert", "subformat=fixed,block_size=2M" },
        { "convert", "subformat=fixed,block_state_zero=off,block_size=1M" },
        { "qemu-io", "block_size=1M" },
        { "qemu-io", "block_size=4M,block_state_zero=off,log_size=3M" },
    };

    [Theory]
    [MemberData(nameof(QemuMatrix))]
    public void ImagesQemuImgMakesReadByteIdentical(string how, string options)
    {
        PeerTools.Require("qemu-img");
        using var dir = new TempDir();
        const long size = 40L << 20;
        string src = MixedRaw(dir, "src.raw", size, 5);
        string image = dir.File("q.vhdx");
        byte[] expected;
        if (how == "convert")
        {
            QemuImg("convert", "-f", "raw", "-O", "vhdx", "-o", options, src, image);
            expected = File.ReadAllBytes(src);
        }
        else
        {
            QemuImg("create", "-f", "vhdx", "-o", options, image, size.ToString(System.Globalization.CultureInfo.InvariantCulture));
            QemuIo(image, "write -P 0x5a 1000 3M", "write -z 8M 2M", "write -P 0x11 12582912 512", "write -P 0 20M 1M", "discard 30M 4M");
            expected = QemuRaw(dir, image);
        }
        using var img = Open(image);
        Assert.Equal(size, img.Length);
        AssertSameBytes(expected, ReadAll(img), $"{how} {options}");
        // Status: every range reported zero reads as zeros, data ranges sit in the file.
        for (long pos = 0; pos < size;)
        {
            var st = img.GetStatus(pos, size - pos);
            if (st.IsZero) Assert.True(expected.AsSpan((int)pos, (int)st.Length).IndexOfAnyExcept((byte)0) < 0, $"range at {pos} reported zero");
            pos += st.Length;
        }
        var check = ((ICheckableImage)img).Check(CheckRepair.None);
        Assert.Equal(0, check.ExitCode);
    }

    public static TheoryData<string> OurOptions => ["", "block_size=1M", "block_size=64M,log_size=8M", "block_state_zero=off", "subformat=fixed,block_size=4M", "subformat=fixed,preallocation=falloc,block_size=2M", "physical_sector_size=4096"];

    [Theory]
    [MemberData(nameof(OurOptions))]
    public void ImagesWeMakePassQemuImgCheckAndCompare(string options)
    {
        PeerTools.Require("qemu-img");
        using var dir = new TempDir();
        const long size = 40L << 20;
        string src = MixedRaw(dir, "src.raw", size, 6);
        string image = dir.File("ours.vhdx");
        using (var source = ImageOpener.Default.Open(src, new ImageOpenOptions { Format = "raw" }))
        using (var target = Create(image, size, options))
            ImageCopier.Copy(source, target);
        AssertQemuCheckClean(image);
        AssertQemuCompare(image, src);
        Assert.Contains($"virtual size: 40 MiB ({size} bytes)", QemuImg("info", "-f", "vhdx", image));
        // Random rewrites, zeroing and discards through our driver; qemu-img must still agree.
        var model = File.ReadAllBytes(src);
        using (var img = Open(image, writable: true))
        {
            var rng = new Random(3);
            for (int i = 0; i < 60; i++)
            {
                long off = rng.NextInt64(0, size - 300_000);
                int len = rng.Next(1, 300_000);
                switch (rng.Next(3))
                {
                    case 0:
                        var data = Pattern(len, i);
                        img.Write(off, data);
                        data.CopyTo(model, off);
                        break;
                    case 1:
                        img.WriteZeroes(off, len, rng.Next(2) == 0);
                        model.AsSpan((int)off, len).Clear();
                        break;
                    default:
                        long b = off / (1 << 20) * (1 << 20);
                        if (!options.Contains("fixed") && b + (1 << 20) <= size && ((VhdxImage)img).Layout.BlockSize == 1 << 20)
                        {
                            img.Discard(b, 1 << 20);
                            model.AsSpan((int)b, 1 << 20).Clear();
                        }
                        break;
                }
            }
        }
        File.WriteAllBytes(src, model);
        AssertQemuCheckClean(image);
        AssertQemuCompare(image, src);
        using var again = Open(image);
        AssertSameBytes(model, ReadAll(again), "reopened");
    }

    [Fact]
    public void FourKSectorImagesConvertBothWays()
    {
        PeerTools.Require("qemu-img");
        using var dir = new TempDir();
        const long size = 24L << 20;
        string src = MixedRaw(dir, "src.raw", size, 7);
        string image = dir.File("4k.vhdx");
        Assert.Equal(0, Cli.CliHarness.Run("convert", "-q", "-f", "raw", "-O", "vhdx", "-o", "logical_sector_size=4096,block_size=1M", src, image).Code);
        using (var img = (VhdxImage)Open(image))
        {
            Assert.Equal(4096, img.LogicalSectorSize);
            Assert.Equal(0, img.Check(CheckRepair.None).ExitCode);
        }
        // qemu-img (7.2) reads only 512-byte logical sectors and says so; qemu-img checks our conversions of it instead.
        var (code, _, stderr) = PeerTools.Run("qemu-img", ["info", "-f", "vhdx", image]);
        Assert.NotEqual(0, code);
        Assert.Contains("not supported", stderr, StringComparison.OrdinalIgnoreCase);
        string back = dir.File("back.qcow2");
        Assert.Equal(0, Cli.CliHarness.Run("convert", "-q", "-O", "qcow2", image, back).Code);
        PeerTools.RunOk("qemu-img", "compare", "-f", "qcow2", "-F", "raw", back, src);
        // Back to a 512-byte-sector VHDX, which qemu-img reads.
        string v512 = dir.File("512.vhdx");
        Assert.Equal(0, Cli.CliHarness.Run("convert", "-q", "-O", "vhdx", image, v512).Code);
        AssertQemuCheckClean(v512);
        AssertQemuCompare(v512, src);
        // A differencing child of the 4K image, then qemu-img reads the flattened copy.
        string child = dir.File("child.vhdx");
        using (var c = Create(child, size, "", "4k.vhdx", "vhdx"))
        {
            Assert.Equal(4096, c.LogicalSectorSize);
            c.Write(5000, Pattern(9000, 1));
        }
        string flat = dir.File("flat.qcow2");
        Assert.Equal(0, Cli.CliHarness.Run("convert", "-q", "-O", "qcow2", child, flat).Code);
        var expected = File.ReadAllBytes(src);
        Pattern(9000, 1).CopyTo(expected, 5000);
        AssertSameBytes(expected, QemuRaw(dir, flat, "qcow2"), "flattened 4K child");
    }

    [Fact]
    public void AQcow2OverAVhdxParentReadsLikeQemuReadsIt()
    {
        PeerTools.Require("qemu-img");
        using var dir = new TempDir();
        const long size = 16L << 20;
        string src = MixedRaw(dir, "src.raw", size, 8);
        string parent = dir.File("parent.vhdx");
        QemuImg("convert", "-f", "raw", "-O", "vhdx", "-o", "block_size=1M", src, parent);
        string child = dir.File("child.qcow2");
        QemuImg("create", "-f", "qcow2", "-b", "parent.vhdx", "-F", "vhdx", child);
        PeerTools.RunOk("qemu-io", "-f", "qcow2", "-c", "write -P 0x77 3M 100k", "-c", "write -z 5M 1M", child);
        var expected = QemuRaw(dir, child, "qcow2");
        using var img = ImageOpener.Default.Open(child);
        Assert.IsType<VhdxImage>(img.Backing);
        AssertSameBytes(expected, ReadAll(img), "qcow2 over vhdx");
        // And a VHDX child of ours over a qcow2 parent.
        string vchild = dir.File("vchild.vhdx");
        using (var c = Create(vchild, size, "block_size=1M", "child.qcow2", "qcow2")) c.Write(1 << 20, Pattern(4096, 3));
        Pattern(4096, 3).CopyTo(expected, 1 << 20);
        using var v = Open(vchild);
        AssertSameBytes(expected, ReadAll(v), "vhdx over qcow2 over vhdx");
    }
}
