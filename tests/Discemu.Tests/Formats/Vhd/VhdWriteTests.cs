using System.Buffers.Binary;
using Discemu.Formats;
using Discemu.Formats.Vhd;
using Discemu.Tests.Infrastructure;
using static Discemu.Tests.Formats.Vhd.DiskTestKit;

namespace Discemu.Tests.Formats.Vhd;

/// <summary>Resizing, damaged footers and headers, and the structural check.</summary>
public sealed class VhdWriteTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("force_size=on")]
    [InlineData("subformat=fixed,force_size=on")]
    [InlineData("subformat=dynamic")]
    [InlineData("subformat=fixed")]
    public void ResizeGrowsAndShrinksImagesQemuImgMade(string options)
    {
        PeerTools.Require("qemu-img");
        var (src, data) = MixedSource(_dir, "src.raw", 10L << 20, 51);
        string image = _dir.File("q.vhd");
        QemuImg("convert", "-f", "raw", "-O", "vpc", "-o", options, src, image);
        long original = QemuVirtualSize(image, "vpc");
        var model = Padded(data, original);

        // In place (the table has room), then far enough that a dynamic disk's table moves to the end of the file.
        foreach (long size in new[] { (30L << 20) + 512, 3L << 30 })
        {
            CliOk("resize", "-f", "vpc", image, size.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(size, QemuVirtualSize(image, "vpc"));
            using (var vhd = ImageOpener.Default.Open(image, new ImageOpenOptions { Format = "vpc" }))
            {
                Assert.Equal(size, vhd.Length);
                Assert.Equal(0, ((ICheckableImage)vhd).Check(CheckRepair.None).ExitCode);
            }
            model = Padded(model, Math.Min(size, 40L << 20));
            AssertQemuPrefix(image, model);
        }
        // Data written past the old end, then a shrink: the cut part reads as zeros when grown again.
        using (var vhd = ImageOpener.Default.Open(image, new ImageOpenOptions { Format = "vpc", Writable = true }))
        {
            var piece = Enumerable.Repeat((byte)0x99, 1 << 20).ToArray();
            vhd.Write(20L << 20, piece);
            piece.CopyTo(model, 20L << 20);
        }
        CliOk("resize", "-f", "vpc", "--shrink", image, "7M");
        Assert.Equal(7L << 20, QemuVirtualSize(image, "vpc"));
        AssertQemuPrefix(image, model.AsSpan(0, 7 << 20).ToArray());
        CliOk("resize", "-f", "vpc", image, "24M");
        model = Padded(model.AsSpan(0, 7 << 20).ToArray(), 24L << 20);
        AssertSameBytes(model, QemuRaw(_dir, image, "vpc"), "grown again after the shrink");
        using (var vhd = ImageOpener.Default.Open(image, new ImageOpenOptions { Format = "vpc" }))
            Assert.Equal(0, ((ICheckableImage)vhd).Check(CheckRepair.None).ExitCode);
    }

    private void AssertQemuPrefix(string image, byte[] expected)
    {
        string raw = _dir.File("prefix.raw");
        File.WriteAllBytes(raw, expected);
        var (code, stdout, stderr) = PeerTools.Run("qemu-img", ["compare", "-f", "raw", "-F", "vpc", raw, image]);
        Assert.True(code == 0, $"qemu-img compare exited {code}: {stdout}{stderr}");
    }

    [Fact]
    public void ADamagedFooterCopyIsUsedAroundAndRepaired()
    {
        PeerTools.Require("qemu-img");
        string image = _dir.File("d.vhd");
        using (var vhd = VhdFormat.Instance.Create(new ImageCreateRequest(image, 8L << 20, CreateOptions.Empty, ImageOpener.Default)))
            vhd.Write(4096, new byte[] { 1, 2, 3 });
        Patch(image, 30, [0x58]);
        // qemu-img reads only the copy at offset 0 and refuses; Discemu falls back to the footer at the end.
        Assert.NotEqual(0, PeerTools.Run("qemu-img", ["info", image]).ExitCode);
        using (var vhd = ImageOpener.Default.Open(image)) Assert.Equal(8L << 20, vhd.Length);
        var (code, _, stderr) = RunCli("check", image);
        Assert.Equal(2, code);
        Assert.Contains("footer copy at offset 0 is damaged", stderr);
        Assert.Equal(0, RunCli("check", "-r", "all", image).Code);
        Assert.Equal(0, RunCli("check", image).Code);
        Assert.Equal(8L << 20, QemuVirtualSize(image, "vpc"));
    }

    [Theory]
    [InlineData("both footers")]
    [InlineData("dynamic header")]
    [InlineData("fixed footer")]
    public void DamagedChecksumsAreRefusedWithAClearMessage(string what)
    {
        string image = _dir.File("d.vhd");
        using (VhdFormat.Instance.Create(new ImageCreateRequest(image, 8L << 20, CreateOptions.Parse(what == "fixed footer" ? "subformat=fixed" : ""), ImageOpener.Default))) { }
        long length = new FileInfo(image).Length;
        switch (what)
        {
            case "both footers": Patch(image, 30, [0x58]); Patch(image, length - 512 + 30, [0x58]); break;
            case "dynamic header": Patch(image, 512 + 33, [0x11]); break;
            default: Patch(image, length - 512 + 70, [0x58]); break;
        }
        // A fixed disk with a damaged footer is no longer recognised by content: ask for vpc explicitly.
        var e = Assert.Throws<CorruptImageException>(() => ImageOpener.Default.Open(image, new ImageOpenOptions { Format = "vpc" }));
        Assert.Contains("checksum is wrong", e.Message);
        Assert.Contains(what == "dynamic header" ? "dynamic disk header" : "footer", e.Message);
    }

    [Fact]
    public void CheckFindsBlocksOutsideTheFileAndOverlapsAndRepairsWhatItCan()
    {
        string image = _dir.File("d.vhd");
        using (var vhd = VhdFormat.Instance.Create(new ImageCreateRequest(image, 8L << 20, CreateOptions.Empty, ImageOpener.Default)))
        {
            vhd.Write(0, new byte[] { 1 });
            vhd.Write(2L << 20, new byte[] { 2 });
        }
        var table = ReadFile(image, 512 + 16, 8);
        long bat = (long)BinaryPrimitives.ReadUInt64BigEndian(table);
        var e0 = ReadFile(image, bat, 4);
        // Block 2 points far outside the file; block 3 at block 0's place.
        Patch(image, bat + 8, [0x10, 0, 0, 0]);
        Patch(image, bat + 12, e0);
        var (code, _, stderr) = RunCli("check", image);
        Assert.Equal(2, code);
        Assert.Contains("block 2 points outside the file", stderr);
        Assert.Contains("blocks 0 and 3 overlap", stderr);
        // Reading the damaged block fails with a typed error, not a crash.
        using (var vhd = ImageOpener.Default.Open(image))
            Assert.Throws<CorruptImageException>(() => vhd.Read(4L << 20, new byte[512]));
        (code, var stdout, _) = RunCli("check", "-r", "all", image);
        Assert.Equal(2, code); // the overlap stays
        Assert.Contains("1 corruptions", stdout);
        Patch(image, bat + 12, [0xFF, 0xFF, 0xFF, 0xFF]);
        Assert.Equal(0, RunCli("check", image).Code);
    }

    [Fact]
    public void ACutShortAppendIsALeakThatCheckGivesBack()
    {
        string image = _dir.File("d.vhd");
        using (var vhd = VhdFormat.Instance.Create(new ImageCreateRequest(image, 8L << 20, CreateOptions.Empty, ImageOpener.Default)))
        {
            vhd.Write(0, new byte[] { 1 });
            vhd.Write(2L << 20, new byte[] { 2 });
        }
        // What a kill between "footer moved" and "BAT entry written" leaves: the last block unreferenced.
        long bat = (long)BinaryPrimitives.ReadUInt64BigEndian(ReadFile(image, 512 + 16, 8));
        Patch(image, bat + 4, [0xFF, 0xFF, 0xFF, 0xFF]);
        long before = new FileInfo(image).Length;
        var (code, _, stderr) = RunCli("check", image);
        Assert.Equal(3, code);
        Assert.Contains("Leaked space", stderr);
        Assert.Equal(0, RunCli("check", "-r", "leaks", image).Code);
        Assert.True(new FileInfo(image).Length < before);
        Assert.Equal(0, RunCli("check", image).Code);
        using var again = ImageOpener.Default.Open(image);
        var b = new byte[1];
        again.Read(0, b);
        Assert.Equal(1, b[0]);
    }
}
