using System.Text.RegularExpressions;
using Discemu.FileSystems;
using Discemu.FileSystems.Iso9660.Authoring;
using Discemu.Formats.Raw;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.FileSystems.Iso9660.Authoring;

/// <summary>Authoring helpers and the peers' views of an image (xorriso -find, 7-Zip, check_media).</summary>
internal static partial class IsoAuthorKit
{
    /// <summary>Authors <paramref name="options"/> into a new raw file <paramref name="path"/>.</summary>
    public static string Author(string path, IsoAuthorOptions options)
    {
        using var plan = IsoAuthor.Plan(options);
        using var image = RawFormat.Instance.Create(new Discemu.Formats.ImageCreateRequest(path, plan.Size, Discemu.Formats.CreateOptions.Parse([]), Discemu.Formats.ImageOpener.Default));
        plan.WriteTo(image);
        image.Flush();
        return path;
    }

    /// <summary>Our reader's listing in xorriso's lsdl form: "mode size path[ -> target]".</summary>
    public static List<string> OurLsdl(FileSystem fs)
    {
        var lines = new List<string>();
        void Walk(FileSystemEntry d, string path)
        {
            foreach (var e in fs.ListDirectory(d))
            {
                string p = path + "/" + e.Name;
                long size = e.Kind == FileSystemEntryKind.File ? e.Size : 0;
                lines.Add($"{IsoTestKit.ModeString(e)} {size} {p}{(e.SymlinkTarget is { } t ? " -> " + t : "")}");
                if (e.IsDirectory) Walk(e, p);
            }
        }
        Walk(fs.Root, "");
        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    /// <summary>xorriso -indev X -find / -exec lsdl, in the same form (the root itself left out).</summary>
    public static List<string> XorrisoLsdl(string iso)
    {
        string text = PeerTools.RunOk("xorriso", "-indev", iso, "-find", "/", "-exec", "lsdl");
        var lines = new List<string>();
        foreach (var raw in text.Split('\n'))
        {
            var m = LsdlRow().Match(raw);
            if (!m.Success || m.Groups["path"].Value == "/") continue;
            string mode = m.Groups["mode"].Value;
            long size = mode[0] == '-' ? long.Parse(m.Groups["size"].Value) : 0;
            string link = m.Groups["link"].Success ? " -> " + Unquote(m.Groups["link"].Value) : "";
            lines.Add($"{mode} {size} {Unquote(m.Groups["path"].Value)}{link}");
        }
        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    private static string Unquote(string s) => s.Replace("'\"'\"'", "'");

    [GeneratedRegex(@"^(?<mode>[-dlcbps][-rwxsStT]{9})\s+\d+\s+\d+\s+\d+\s+(?<size>\d+)\s+\w{3}\s+\d+\s+\S+\s+'(?<path>.*?)'(?: -> '(?<link>.*)')?$")]
    private static partial Regex LsdlRow();

    /// <summary>7-Zip's technical listing: "path size" for files, "path/" for folders.</summary>
    public static List<string> SevenZip(string iso)
    {
        string text = PeerTools.RunOk("7zz", "l", "-slt", "-ba", iso);
        var lines = new List<string>();
        string? path = null, size = null;
        bool folder = false;
        void Flush()
        {
            if (path is not null && !path.StartsWith("[BOOT]", StringComparison.Ordinal)) lines.Add(folder ? path + "/" : $"{path} {size}");
            path = null; size = null; folder = false;
        }
        foreach (var raw in text.Split('\n'))
        {
            string l = raw.TrimEnd('\r');
            if (l.StartsWith("Path = ", StringComparison.Ordinal)) { Flush(); path = l[7..]; }
            else if (l.StartsWith("Size = ", StringComparison.Ordinal)) size = l[7..];
            else if (l.StartsWith("Folder = +", StringComparison.Ordinal)) folder = true;
        }
        Flush();
        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    /// <summary>Our reader's view in 7-Zip's form.</summary>
    public static List<string> OurSevenZip(FileSystem fs)
    {
        var lines = new List<string>();
        void Walk(FileSystemEntry d, string path)
        {
            foreach (var e in fs.ListDirectory(d))
            {
                string p = path.Length == 0 ? e.Name : path + "/" + e.Name;
                if (e.Name == "[BOOT]") continue;
                if (e.IsDirectory) { lines.Add(p + "/"); Walk(e, p); }
                else lines.Add($"{p} {e.Size}");
            }
        }
        Walk(fs.Root, "");
        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    /// <summary>Asserts xorriso -check_media reads every block of the image as good.</summary>
    public static void AssertCheckMediaGood(string iso)
    {
        var (code, stdout, stderr) = PeerTools.Run("xorriso", ["-indev", iso, "-check_media", "--"]);
        string all = stdout + stderr;
        Assert.True(code == 0, all);
        var regions = all.Split('\n').Where(l => l.StartsWith("Media region", StringComparison.Ordinal) && !l.Contains("quality")).ToList();
        Assert.NotEmpty(regions);
        Assert.All(regions, r => Assert.Contains("+ good", r));
        Assert.DoesNotContain("FAILURE", all);
        Assert.DoesNotContain("SORRY", all);
    }
}
