using System.Buffers.Binary;
using System.Text.RegularExpressions;
using Discemu.FileSystems.Iso9660.Authoring;
using Discemu.Tests.Infrastructure;
using static Discemu.Tests.FileSystems.Iso9660.IsoTestKit;
using static Discemu.Tests.FileSystems.Iso9660.Authoring.IsoAuthorKit;

namespace Discemu.Tests.FileSystems.Iso9660.Authoring;

/// <summary>El Torito entries we record report as xorriso's own for the same options; the boot information table matches.</summary>
public sealed partial class IsoAuthorBootTests : IDisposable
{
    private const string Isolinux = "/usr/lib/ISOLINUX/isolinux.bin";
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string BootTree()
    {
        if (!File.Exists(Isolinux))
        {
            if (PeerTools.InCi) Assert.Fail("isolinux is not installed.");
            Assert.Skip("isolinux is not installed.");
        }
        string src = _dir.File("boot-src");
        Directory.CreateDirectory(Path.Join(src, "isolinux"));
        File.Copy(Isolinux, Path.Join(src, "isolinux", "isolinux.bin"));
        var rng = new Random(7);
        var floppy = new byte[1_474_560];
        rng.NextBytes(floppy);
        File.WriteAllBytes(Path.Join(src, "floppy.img"), floppy);
        var efi = new byte[300_000];
        rng.NextBytes(efi);
        File.WriteAllBytes(Path.Join(src, "efi.img"), efi);
        File.WriteAllText(Path.Join(src, "readme.txt"), "boot me\n");
        return src;
    }

    /// <summary>The report with block addresses masked (the layouts differ; the entries must not).</summary>
    private static string Report(string iso)
    {
        string text = PeerTools.RunOk("xorriso", "-indev", iso, "-report_el_torito", "plain");
        var lines = text.Split('\n').Where(l => l.StartsWith("El Torito", StringComparison.Ordinal))
            .Select(l => l.StartsWith("El Torito catalog", StringComparison.Ordinal) ? "El Torito catalog" : l)
            .Select(l => l.StartsWith("El Torito boot img", StringComparison.Ordinal) ? LastNumber().Replace(l, "LBA") : l);
        return string.Join('\n', lines);
    }

    [GeneratedRegex(@"\d+\s*$")]
    private static partial Regex LastNumber();

    [Fact]
    public void SeveralEntriesReportAsXorrisos()
    {
        string src = BootTree();
        string theirs = _dir.File("xorriso.iso");
        PeerTools.RunOk("xorriso", "-as", "mkisofs", "-R", "-J", "-o", theirs, "-b", "isolinux/isolinux.bin", "-c", "isolinux/boot.cat",
            "-no-emul-boot", "-boot-load-size", "4", "-boot-info-table", "-eltorito-alt-boot", "-e", "efi.img", "-no-emul-boot",
            "-eltorito-alt-boot", "-b", "floppy.img", src);
        string ours = Author(_dir.File("ours.iso"), new IsoAuthorOptions
        {
            Sources = [src],
            BootCatalogPath = "isolinux/boot.cat",
            BootEntries =
            [
                new IsoBootEntry { ImagePath = "isolinux/isolinux.bin", LoadSize = 4, BootInfoTable = true },
                new IsoBootEntry { ImagePath = "efi.img", Efi = true },
                new IsoBootEntry { ImagePath = "floppy.img", Emulation = IsoBootEmulation.Floppy },
            ],
        });
        string report = Report(ours);
        Assert.Contains("El Torito boot img :   3  BIOS  y  fd1.4", report);
        Assert.Equal(Report(theirs), report);
        AssertCheckMediaGood(ours);

        // The boot information table: volume descriptor 16, the image's own block and length, the same checksum.
        var (image, fs) = Open(ours);
        using (image)
        using (fs)
        {
            var entry = fs.Lookup("/isolinux/isolinux.bin");
            var table = ReadAll(fs.OpenFile(entry)).AsSpan(8, 16).ToArray();
            Assert.Equal(16u, BinaryPrimitives.ReadUInt32LittleEndian(table));
            Assert.Equal((uint)new FileInfo(Isolinux).Length, BinaryPrimitives.ReadUInt32LittleEndian(table.AsSpan(8)));
            string lba = Regex.Match(PeerTools.RunOk("xorriso", "-indev", ours, "-report_el_torito", "plain"), @"boot img :\s+1\s.*\s(\d+)\s*$", RegexOptions.Multiline).Groups[1].Value;
            Assert.Equal(uint.Parse(lba), BinaryPrimitives.ReadUInt32LittleEndian(table.AsSpan(4)));
            Assert.Equal(2048, fs.Lookup("/isolinux/boot.cat").Size);
            Assert.Equal(3, fs.ListDirectory(fs.Lookup("/[BOOT]")).Count());
        }
        var (timage, tfs) = Open(theirs);
        using (timage)
        using (tfs)
        {
            var theirTable = ReadAll(tfs.OpenFile(tfs.Lookup("/isolinux/isolinux.bin"))).AsSpan(20, 4).ToArray();
            var (oimage, ofs) = Open(ours);
            using (oimage)
            using (ofs) Assert.Equal(theirTable, ReadAll(ofs.OpenFile(ofs.Lookup("/isolinux/isolinux.bin"))).AsSpan(20, 4).ToArray());
        }
    }

    [Fact]
    public void EfiOnlyWithHiddenCatalog()
    {
        string src = BootTree();
        string theirs = _dir.File("xorriso-efi.iso");
        PeerTools.RunOk("xorriso", "-as", "mkisofs", "-R", "-J", "-o", theirs, "-e", "efi.img", "-no-emul-boot", src);
        string ours = Author(_dir.File("ours-efi.iso"), new IsoAuthorOptions
        {
            Sources = [src],
            BootEntries = [new IsoBootEntry { ImagePath = "efi.img", Efi = true }],
        });
        // xorriso lists its catalog as /boot.catalog when not told where; ours stays out of the tree.
        Assert.DoesNotContain("cat path", Report(ours));
        Assert.Equal(Report(theirs).Replace("El Torito cat path : /boot.catalog\n", ""), Report(ours));
        AssertCheckMediaGood(ours);
    }

    [Fact]
    public void IsohybridMbrReportsAsXorrisos()
    {
        string src = BootTree();
        const string template = "/usr/lib/ISOLINUX/isohdpfx.bin";
        string theirs = _dir.File("xorriso-hybrid.iso");
        PeerTools.RunOk("xorriso", "-as", "mkisofs", "-R", "-J", "-o", theirs, "-isohybrid-mbr", template, "-b", "isolinux/isolinux.bin",
            "-c", "isolinux/boot.cat", "-no-emul-boot", "-boot-load-size", "4", "-boot-info-table", src);
        string ours = Author(_dir.File("ours-hybrid.iso"), new IsoAuthorOptions
        {
            Sources = [src],
            IsoHybridMbr = template,
            BootCatalogPath = "isolinux/boot.cat",
            BootEntries = [new IsoBootEntry { ImagePath = "isolinux/isolinux.bin", LoadSize = 4, BootInfoTable = true }],
        });
        long size = new FileInfo(ours).Length;
        Assert.Equal(0, size % (1 << 20));
        static string SystemArea(string iso) => Regex.Replace(PeerTools.RunOk("xorriso", "-indev", iso, "-report_system_area", "plain"), @"(ISO image size/512 :|0x17\s+0)\s+\d+", "$1 N");
        Assert.Equal(SystemArea(theirs), SystemArea(ours));
        Assert.Matches($@"MBR partition\s+:\s+1\s+0x80\s+0x17\s+0\s+{size / 512}\s", PeerTools.RunOk("xorriso", "-indev", ours, "-report_system_area", "plain"));
        var mbr = new byte[512];
        using (var f = File.OpenRead(ours)) f.ReadExactly(mbr);
        Assert.Equal(File.ReadAllBytes(template).AsSpan(0, 432).ToArray(), mbr.AsSpan(0, 432).ToArray());
        string lba = Regex.Match(PeerTools.RunOk("xorriso", "-indev", ours, "-report_el_torito", "plain"), @"boot img :\s+1\s.*\s(\d+)\s*$", RegexOptions.Multiline).Groups[1].Value;
        Assert.Equal(ulong.Parse(lba) * 4, BinaryPrimitives.ReadUInt64LittleEndian(mbr.AsSpan(432)));
        Assert.Contains("isohybrid-suitable", Report(ours));
        AssertCheckMediaGood(ours);
        var (image, fs) = Open(ours);
        using (image)
        using (fs) Assert.Contains(fs.Info, i => i.Key.Contains("mbr", StringComparison.OrdinalIgnoreCase) || i.Key.Contains("hybrid", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void BadBootImagesAreTypedErrors()
    {
        string src = BootTree();
        Assert.Throws<BadArgumentException>(() => IsoAuthor.Plan(new IsoAuthorOptions
        {
            Sources = [src], BootEntries = [new IsoBootEntry { ImagePath = "efi.img", Emulation = IsoBootEmulation.Floppy }],
        }));
        Assert.Throws<BadArgumentException>(() => IsoAuthor.Plan(new IsoAuthorOptions
        {
            Sources = [src], BootEntries = [new IsoBootEntry { ImagePath = "missing.bin" }],
        }));
        Assert.Throws<BadArgumentException>(() => IsoAuthor.Plan(new IsoAuthorOptions
        {
            Sources = [src], BootEntries = [new IsoBootEntry { ImagePath = "floppy.img", Emulation = IsoBootEmulation.HardDisk }],
        }));
        Assert.Throws<BadArgumentException>(() => IsoAuthor.Plan(new IsoAuthorOptions
        {
            Sources = [src], BootEntries = [new IsoBootEntry { ImagePath = "isolinux" }],
        }));
        Assert.Throws<BadArgumentException>(() => IsoAuthor.Plan(new IsoAuthorOptions
        {
            Sources = [src], IsoHybridMbr = "/usr/lib/ISOLINUX/isohdpfx.bin", BootEntries = [new IsoBootEntry { ImagePath = "efi.img", Efi = true }],
        }));
    }
}
