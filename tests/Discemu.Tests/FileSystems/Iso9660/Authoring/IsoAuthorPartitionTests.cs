using System.Text.RegularExpressions;
using Discemu.Block;
using Discemu.FileSystems.Iso9660.Authoring;
using Discemu.Partitions;
using Discemu.Tests.Infrastructure;
using static Discemu.Tests.FileSystems.Iso9660.Authoring.IsoAuthorKit;

namespace Discemu.Tests.FileSystems.Iso9660.Authoring;

/// <summary>
/// isohybrid GPT and the appended EFI system partition: the tables xorriso reports match the ones of xorriso's own
/// image made with the equivalent options (<c>-append_partition 2 0xef FILE</c>, with <c>-appended_part_as_gpt</c>), sgdisk finds
/// no problem, sfdisk and our partition table reader list the partitions, and the appended partition holds the file.
/// </summary>
public sealed partial class IsoAuthorPartitionTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private (string Src, string Efi) Tree()
    {
        string src = _dir.File("src");
        Directory.CreateDirectory(Path.Join(src, "boot"));
        var rng = new Random(11);
        var img = new byte[1_474_560];
        rng.NextBytes(img);
        File.WriteAllBytes(Path.Join(src, "boot", "efi.img"), img);
        File.WriteAllText(Path.Join(src, "readme.txt"), "hello\n");
        string efi = _dir.File("esp.img");
        var esp = new byte[1_000_001];
        rng.NextBytes(esp);
        File.WriteAllBytes(efi, esp);
        return (src, efi);
    }

    /// <summary>
    /// xorriso's system area report without positions: the MBR entries' number, status and type, the GPT entries' type
    /// GUIDs and flags, and the appended partition's name and size (xorriso's "Gap" entries for its own padding left out).
    /// </summary>
    private static List<string> GptReport(string iso)
    {
        string text = PeerTools.RunOk("xorriso", "-indev", iso, "-report_system_area", "plain");
        var rows = text.Split('\n').Select(l => Spaces().Replace(l, " ").Trim()).ToList();
        var gaps = rows.Where(l => l.StartsWith("GPT partname local : ", StringComparison.Ordinal) && l.Split(' ')[5].StartsWith("Gap", StringComparison.Ordinal) && l.Split(' ')[4] != "1")
            .Select(l => l.Split(' ')[4]).ToHashSet();
        var keep = new List<string>();
        foreach (var l in rows)
        {
            var f = l.Split(' ');
            int colon = Array.FindIndex(f, x => x.EndsWith(':'));
            if (l.StartsWith("MBR partition : ", StringComparison.Ordinal)) keep.Add(string.Join(' ', f[3..6]));
            else if ((l.StartsWith("GPT type GUID", StringComparison.Ordinal) || l.StartsWith("GPT partition flags", StringComparison.Ordinal)) && !gaps.Contains(f[colon + 1])) keep.Add(l);
            else if (l.StartsWith("GPT partname local : 2", StringComparison.Ordinal)) keep.Add(l);
            else if (l.StartsWith("GPT start and size : 2", StringComparison.Ordinal)) keep.Add(f[^1]);
        }
        return keep;
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();

    [Fact]
    public void Gpt_with_appended_efi_partition_matches_xorriso_and_is_valid()
    {
        PeerTools.Require("xorriso");
        PeerTools.Require("sgdisk");
        PeerTools.Require("sfdisk");
        var (src, efi) = Tree();
        string ours = Author(_dir.File("ours.iso"), new IsoAuthorOptions
        {
            Sources = [src], Gpt = true, EfiPartition = efi,
            BootEntries = [new IsoBootEntry { ImagePath = "boot/efi.img", Efi = true }],
        });
        string theirs = _dir.File("theirs.iso");
        PeerTools.RunOk("xorriso", "-as", "mkisofs", "-quiet", "-R", "-J", "-o", theirs,
            "-e", "boot/efi.img", "-no-emul-boot", "-append_partition", "2", "0xef", efi, "-appended_part_as_gpt", src);
        Assert.Equal(GptReport(theirs), GptReport(ours));
        Assert.Contains("No problems found", PeerTools.RunOk("sgdisk", "-v", ours));
        string dump = PeerTools.RunOk("sfdisk", "--dump", ours);
        Assert.Contains("label: gpt", dump);
        Assert.Contains("type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B", dump);

        using var disk = FileDevice.Open(ours, writable: false);
        var table = PartitionTableRegistry.Default.Open(disk);
        Assert.Equal("gpt", table.Format.Name);
        Assert.Empty(table.Warnings);
        Assert.Equal(2, table.Partitions.Count);
        var esp = table.Partitions.Single(p => p.Type.Guid == PartitionTypes.EfiSystem);
        Assert.Equal("Appended2", esp.Name);
        var expected = File.ReadAllBytes(efi);
        var got = new byte[expected.Length];
        table.Open(esp.Number).Read(0, got);
        Assert.Equal(expected, got);
        Assert.Equal(XorrisoLsdl(theirs), XorrisoLsdl(ours));
    }

    [Fact]
    public void Appended_efi_partition_without_gpt_is_mbr_partition_2()
    {
        PeerTools.Require("xorriso");
        PeerTools.Require("sfdisk");
        var (src, efi) = Tree();
        string ours = Author(_dir.File("ours.iso"), new IsoAuthorOptions { Sources = [src], EfiPartition = efi });
        string theirs = _dir.File("theirs.iso");
        PeerTools.RunOk("xorriso", "-as", "mkisofs", "-quiet", "-R", "-J", "-o", theirs, "-append_partition", "2", "0xef", efi, src);
        static List<string> Mbr(string iso) => PeerTools.RunOk("xorriso", "-indev", iso, "-report_system_area", "plain").Split('\n')
            .Where(l => l.StartsWith("MBR partition ", StringComparison.Ordinal) && !l.Contains("table")).Select(l => Spaces().Replace(l, " ")).ToList();
        var theirsMbr = Mbr(theirs);
        var oursMbr = Mbr(ours);
        Assert.Equal(2, oursMbr.Count);
        // Same types, statuses and sizes; the starts follow each image's own ISO size.
        static string Shape(string l) { var f = l.Split(' '); return $"{f[3]} {f[4]} {f[5]} {f[7]}"; }
        Assert.Equal(Shape(theirsMbr[1]), Shape(oursMbr[1]));
        Assert.Equal(Shape(theirsMbr[0]).Split(' ')[..3], Shape(oursMbr[0]).Split(' ')[..3]);
        Assert.Contains("type=ef", PeerTools.RunOk("sfdisk", "--dump", ours));
        using var disk = FileDevice.Open(ours, writable: false);
        var table = PartitionTableRegistry.Default.Open(disk);
        var p2 = table.Get(2);
        Assert.Equal((byte)0xEF, p2.Type.MbrCode);
        var expected = File.ReadAllBytes(efi);
        var got = new byte[expected.Length];
        table.Open(2).Read(0, got);
        Assert.Equal(expected, got);
    }

    [Fact]
    public void Missing_efi_partition_image_is_a_bad_argument()
    {
        var (src, _) = Tree();
        Assert.Throws<BadArgumentException>(() => IsoAuthor.Plan(new IsoAuthorOptions { Sources = [src], EfiPartition = _dir.File("nope.img") }));
    }
}
