using System.Collections;
using System.Text.RegularExpressions;
using Discemu.FileSystems;
using Discemu.Tests.Infrastructure;
using static Discemu.Tests.FileSystems.Iso9660.IsoTestKit;

namespace Discemu.Tests.FileSystems.Iso9660;

/// <summary>
/// El Torito boot catalogs as xorriso and genisoimage write them, checked against
/// <c>xorriso -report_el_torito plain</c>; the <c>[BOOT]</c> images against 7-Zip; isohybrid MBR/GPT
/// against <c>xorriso -report_system_area plain</c>.
/// </summary>
public sealed partial class IsoBootTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A tree holding boot images of every emulation.</summary>
    private string BootTree()
    {
        string root = _dir.File("boot-src");
        Directory.CreateDirectory(Path.Join(root, "boot"));
        var rng = new Random(7);
        void Random(string name, int size)
        {
            var b = new byte[size];
            rng.NextBytes(b);
            File.WriteAllBytes(Path.Join(root, "boot", name), b);
        }
        Random("boot.bin", 6144);
        Random("efi.img", 300_000);
        Random("f144.img", 1_474_560);
        Random("f288.img", 2_949_120);
        Random("f12.img", 1_228_800);
        // A 4 MiB hard-disk image whose MBR has one partition: sectors 63..4062.
        var hd = new byte[4 << 20];
        hd[446 + 4] = 0x83;
        BitConverter.TryWriteBytes(hd.AsSpan(446 + 8), 63u);
        BitConverter.TryWriteBytes(hd.AsSpan(446 + 12), 4000u);
        hd[510] = 0x55; hd[511] = 0xAA;
        File.WriteAllBytes(Path.Join(root, "boot", "hd.img"), hd);
        File.WriteAllText(Path.Join(root, "readme.txt"), "bootable\n");
        return root;
    }

    private sealed record XorrisoBoot(int Index, string Platform, bool Bootable, string Emulation, int LoadSegment, int SystemType, int SectorCount, long Lba);

    private static List<XorrisoBoot> ReportElTorito(string iso, out long? hdSize)
    {
        string text = PeerTools.RunOk("xorriso", "-indev", iso, "-report_el_torito", "plain");
        var list = BootLine().Matches(text).Select(m => new XorrisoBoot(int.Parse(m.Groups[1].Value), m.Groups[2].Value, m.Groups[3].Value == "y",
            m.Groups[4].Value, Convert.ToInt32(m.Groups[5].Value, 16), Convert.ToInt32(m.Groups[6].Value, 16), int.Parse(m.Groups[7].Value), long.Parse(m.Groups[8].Value))).ToList();
        var hd = Regex.Match(text, @"El Torito hdsiz/512:\s+\d+\s+(\d+)");
        hdSize = hd.Success ? long.Parse(hd.Groups[1].Value) * 512 : null;
        return list;
    }

    [GeneratedRegex(@"El Torito boot img :\s+(\d+)\s+(\S+)\s+([yn])\s+(\S+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\d+)\s+(\d+)")]
    private static partial Regex BootLine();

    private static string XorrisoEmulation(string media) => media switch
    {
        "NoEmul" => "none", "1.2M" => "fd1.2", "1.44M" => "fd1.4", "2.88M" => "fd2.8", _ => "hd",
    };

    private static List<Dictionary<string, object?>> OurBootImages(FileSystem fs)
    {
        var torito = (Dictionary<string, object?>)fs.Info.Single(i => i.Key == "el-torito").Value!;
        return [.. ((IEnumerable)torito["images"]!).Cast<Dictionary<string, object?>>()];
    }

    private static void AssertSameAsXorriso(string iso, FileSystem fs)
    {
        var theirs = ReportElTorito(iso, out long? hdSize);
        var ours = OurBootImages(fs);
        Assert.Equal(theirs.Count, ours.Count);
        var files = fs.ListDirectory(fs.Lookup("/[BOOT]"));
        for (int i = 0; i < ours.Count; i++)
        {
            var (t, o) = (theirs[i], ours[i]);
            Assert.Equal(t.Index, o["index"]);
            Assert.Equal(t.Platform, o["platform"]);
            Assert.Equal(t.Bootable, o["bootable"]);
            Assert.Equal(t.Emulation, XorrisoEmulation((string)o["media"]!));
            Assert.Equal(t.LoadSegment, Convert.ToInt32(o["load-segment"]));
            Assert.Equal(t.SystemType, Convert.ToInt32(o["system-type"]));
            Assert.Equal(t.SectorCount, Convert.ToInt32(o["sector-count"]));
            Assert.Equal(t.Lba, Convert.ToInt64(o["load-block"]));
            if (t.Emulation == "hd") Assert.Equal(hdSize, files[i].Size);
        }
    }

    [Fact]
    public void XorrisoCatalogOfEveryEmulationMatchesItsReport()
    {
        string src = BootTree();
        string iso = _dir.File("boot.iso");
        PeerTools.RunOk("xorriso", "-as", "mkisofs", "-R", "-J", "-o", iso, "-c", "boot/boot.cat",
            "-b", "boot/boot.bin", "-no-emul-boot", "-boot-load-size", "4", "-boot-info-table",
            "-eltorito-alt-boot", "-e", "boot/efi.img", "-no-emul-boot",
            "-eltorito-alt-boot", "-b", "boot/f144.img",
            "-eltorito-alt-boot", "-b", "boot/f288.img",
            "-eltorito-alt-boot", "-b", "boot/f12.img",
            "-eltorito-alt-boot", "-b", "boot/hd.img", "-hard-disk-boot", src);
        var (image, fs) = Open(iso);
        using (image)
        using (fs)
        {
            AssertSameAsXorriso(iso, fs);
            var names = fs.ListDirectory(fs.Lookup("/[BOOT]")).Select(e => $"{e.Name} {e.Size}").ToList();
            Assert.Equal(["1-Boot-NoEmul.img 2048", "2-Boot-NoEmul.img 301056", "3-Boot-1.44M.img 1474560", "4-Boot-2.88M.img 2949120",
                "5-Boot-1.2M.img 1228800", "6-Boot-HardDisk.img 2080256"], names);
            // The images are the files they were made from (xorriso counts whole 2 KiB blocks; the BIOS image has its boot-info-table patched in).
            using (var efi = fs.OpenFile(fs.Lookup("/[BOOT]/2-Boot-NoEmul.img")))
                Assert.Equal(File.ReadAllBytes(Path.Join(src, "boot", "efi.img")), ReadAll(efi)[..300_000]);
            using (var floppy = fs.OpenFile(fs.Lookup("/[BOOT]/4-Boot-2.88M.img")))
                Assert.Equal(Hash(File.ReadAllBytes(Path.Join(src, "boot", "f288.img"))), Hash(ReadAll(floppy)));
            using (var hd = fs.OpenFile(fs.Lookup("/[BOOT]/6-Boot-HardDisk.img")))
                Assert.Equal(File.ReadAllBytes(Path.Join(src, "boot", "hd.img"))[..2080256], ReadAll(hd));
        }
        AgreeWith7Zip(iso);
    }

    [Fact]
    public void GenisoimageLoadSegmentAndHardDiskEmulationMatchXorrisosReport()
    {
        string src = BootTree();
        string iso = _dir.File("geniso-boot.iso");
        PeerTools.RunOk("genisoimage", "-quiet", "-o", iso, "-c", "boot/boot.cat", "-b", "boot/hd.img", "-hard-disk-boot",
            "-eltorito-alt-boot", "-b", "boot/boot.bin", "-no-emul-boot", "-boot-load-seg", "0x1000", "-boot-load-size", "3", src);
        var (image, fs) = Open(iso);
        using (image)
        using (fs)
        {
            AssertSameAsXorriso(iso, fs);
            Assert.Equal(["1-Boot-HardDisk.img", "2-Boot-NoEmul.img"], fs.ListDirectory(fs.Lookup("/[BOOT]")).Select(e => e.Name));
            Assert.Equal(1536, fs.Lookup("/[BOOT]/2-Boot-NoEmul.img").Size);
        }
        AgreeWith7Zip(iso);
    }

    [Fact]
    public void SingleLargeEfiImageWithSectorCountZeroRunsToTheEndOfTheVolume()
    {
        string src = _dir.File("efi-src");
        Directory.CreateDirectory(src);
        using (var f = new FileStream(Path.Join(src, "efi.img"), FileMode.Create)) { f.SetLength(40 << 20); f.Write("EFI"u8); }
        string iso = _dir.File("efi.iso");
        PeerTools.RunOk("xorriso", "-as", "mkisofs", "-o", iso, "-e", "efi.img", "-no-emul-boot", src);
        var (image, fs) = Open(iso);
        using (image)
        using (fs)
        {
            AssertSameAsXorriso(iso, fs);
            var boot = fs.ListDirectory(fs.Lookup("/[BOOT]")).Single();
            Assert.Equal("Boot-NoEmul.img", boot.Name); // one image: no index prefix, as 7-Zip names it
            Assert.True(boot.Size >= 40 << 20, $"{boot.Size}");
        }
        AgreeWith7Zip(iso);
    }

    /// <summary>7-Zip lists the same [BOOT] names; where it sizes an image the same way the bytes are equal.</summary>
    private void AgreeWith7Zip(string iso)
    {
        string outDir = _dir.File("7z-" + Path.GetFileNameWithoutExtension(iso));
        PeerTools.RunOk("7zz", "x", "-y", $"-o{outDir}", iso, "[BOOT]");
        var (image, fs) = Open(iso);
        using (image)
        using (fs)
        {
            var ours = fs.ListDirectory(fs.Lookup("/[BOOT]"));
            var theirs = Directory.GetFiles(Path.Join(outDir, "[BOOT]")).Select(Path.GetFileName).Order(StringComparer.Ordinal);
            Assert.Equal(theirs, ours.Select(e => e.Name).Order(StringComparer.Ordinal));
            foreach (var e in ours)
            {
                var expected = File.ReadAllBytes(Path.Join(outDir, "[BOOT]", e.Name));
                using var content = fs.OpenFile(e);
                var actual = ReadAll(content);
                // 7-Zip takes a hard-disk image as one sector; we follow its MBR (as xorriso's hdsiz does).
                int common = Math.Min(expected.Length, actual.Length);
                if (!e.Name.Contains("HardDisk")) Assert.Equal(expected.Length, actual.Length);
                Assert.Equal(Hash(expected[..common]), Hash(actual[..common]));
            }
        }
    }

    private static string RequireIsolinuxMbr()
    {
        const string path = "/usr/lib/ISOLINUX/isohdpfx.bin";
        if (File.Exists(path)) return path;
        const string reason = "isolinux is not installed (apt-get install isolinux).";
        if (PeerTools.InCi) Assert.Fail(reason);
        Assert.Skip(reason);
        return path;
    }

    [Fact]
    public void IsohybridMbrAndGptAreReportedAsXorrisoSeesThem()
    {
        string mbr = RequireIsolinuxMbr();
        string src = BootTree();
        File.Copy("/usr/lib/ISOLINUX/isolinux.bin", Path.Join(src, "boot", "isolinux.bin"));
        string iso = _dir.File("hybrid.iso");
        PeerTools.RunOk("xorriso", "-as", "mkisofs", "-R", "-o", iso, "-isohybrid-mbr", mbr, "-c", "boot/boot.cat",
            "-b", "boot/isolinux.bin", "-no-emul-boot", "-boot-load-size", "4", "-boot-info-table",
            "-eltorito-alt-boot", "-e", "boot/efi.img", "-no-emul-boot", "-isohybrid-gpt-basdat", src);
        AssertSystemAreaMatches(iso, expectGpt: true);
    }

    [Fact]
    public void AppendedPartitionIsReportedAsXorrisoSeesIt()
    {
        string src = BootTree();
        string iso = _dir.File("appended.iso");
        PeerTools.RunOk("xorriso", "-as", "mkisofs", "-R", "-o", iso, "-append_partition", "2", "0xef", Path.Join(src, "boot", "efi.img"), src);
        AssertSystemAreaMatches(iso, expectGpt: false);
    }

    private static void AssertSystemAreaMatches(string iso, bool expectGpt)
    {
        string report = PeerTools.RunOk("xorriso", "-indev", iso, "-report_system_area", "plain");
        var mbr = Regex.Matches(report, @"MBR partition      :\s+(\d+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\d+)\s+(\d+)")
            .Select(m => $"{m.Groups[1].Value} {m.Groups[2].Value == "80"} 0x{m.Groups[3].Value} {m.Groups[4].Value} {m.Groups[5].Value}").ToList();
        var gpt = Regex.Matches(report, @"GPT start and size :\s+(\d+)\s+(\d+)\s+(\d+)")
            .Select(m => $"{m.Groups[1].Value} {m.Groups[2].Value} {long.Parse(m.Groups[2].Value) + long.Parse(m.Groups[3].Value) - 1}").ToList();
        var gptTypes = Regex.Matches(report, @"GPT type GUID      :\s+\d+\s+([0-9a-f]+)").Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(mbr);
        Assert.Equal(expectGpt, gpt.Count > 0);
        var (image, fs) = Open(iso);
        using (image)
        using (fs)
        {
            var hybrid = (Dictionary<string, object?>)fs.Info.Single(i => i.Key == "isohybrid").Value!;
            var ourMbr = ((IEnumerable)hybrid["mbr-partitions"]!).Cast<Dictionary<string, object?>>()
                .Select(p => $"{p["index"]} {p["bootable"]} {p["type"]} {p["start-sector"]} {p["sectors"]}").ToList();
            Assert.Equal(mbr, ourMbr);
            if (expectGpt)
            {
                var parts = ((IEnumerable)((Dictionary<string, object?>)hybrid["gpt"]!)["partitions"]!).Cast<Dictionary<string, object?>>().ToList();
                Assert.Equal(gpt, parts.Select(p => $"{p["index"]} {p["first-sector"]} {p["last-sector"]}"));
                Assert.Equal(gptTypes, parts.Select(p => Convert.ToHexString(Guid.Parse((string)p["type-guid"]!).ToByteArray()).ToLowerInvariant()));
            }
            else Assert.False(hybrid.ContainsKey("gpt"));
            Assert.Equal("bootable\n", System.Text.Encoding.ASCII.GetString(ReadAll(fs.OpenFile(fs.Lookup("/readme.txt")))));
        }
    }
}
