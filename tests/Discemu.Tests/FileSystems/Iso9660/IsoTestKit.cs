using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Discemu.Block;
using Discemu.FileSystems;
using Discemu.Formats;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.FileSystems.Iso9660;

/// <summary>One entry of a tree snapshot: what the comparisons look at.</summary>
internal sealed record TreeItem(string Path, char Kind, long Size, string? Hash, long? MtimeSeconds, int? Mode, string? Link);

/// <summary>Source trees for the peers to pack, snapshots of host folders and of our file systems, and isoinfo's listing.</summary>
internal static partial class IsoTestKit
{
    /// <summary>The fixed time source files get (old enough for ls's year format).</summary>
    public static readonly DateTimeOffset BaseTime = new(2021, 3, 4, 5, 6, 7, TimeSpan.Zero);

    /// <summary>Opens an image file and the file system on it.</summary>
    public static (DiskImage Image, FileSystem Fs) Open(string path, string? names = null, int? session = null)
    {
        var image = ImageOpener.Default.Open(path);
        try
        {
            return (image, FileSystemRegistry.Default.Open(image, new FileSystemOpenOptions { Names = names, Session = session }));
        }
        catch
        {
            image.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Builds the standard source tree: text, empty, sparse and random files, modes, a hard link, long and
    /// Unicode names, symbolic links (when <paramref name="symlinks"/>), and a directory chain
    /// <paramref name="depth"/> levels deep. Every entry gets a distinct fixed modification time.
    /// </summary>
    public static string MakeSource(TempDir dir, bool symlinks = true, int depth = 10, bool unicode = true, bool longNames = true)
    {
        string root = dir.File("src");
        Directory.CreateDirectory(root);
        var rng = new Random(42);
        File.WriteAllText(Path.Join(root, "readme.txt"), string.Concat(Enumerable.Repeat("Discemu reads ISO 9660.\n", 500)));
        File.WriteAllBytes(Path.Join(root, "empty.txt"), []);
        var random = new byte[300_001];
        rng.NextBytes(random);
        File.WriteAllBytes(Path.Join(root, "random.bin"), random);
        using (var fs = new FileStream(Path.Join(root, "holes.bin"), FileMode.Create))
        {
            fs.SetLength(1 << 20);
            fs.Position = 4096; fs.Write("data in the middle"u8);
            fs.Position = 900_000; fs.Write("and near the end"u8);
        }
        File.WriteAllText(Path.Join(root, "run.sh"), "#!/bin/sh\necho hi\n");
        Chmod(Path.Join(root, "run.sh"), 0x1ED); // 0755
        File.WriteAllText(Path.Join(root, "secret.txt"), "private\n");
        Chmod(Path.Join(root, "secret.txt"), 0x180); // 0600
        if (longNames) File.WriteAllText(Path.Join(root, new string('l', 60) + " with spaces and a long tail.text"), "long\n");
        if (unicode) File.WriteAllText(Path.Join(root, "Ünïcödé ñame – 日本語.txt"), "unicode\n");
        Directory.CreateDirectory(Path.Join(root, "dir", "sub"));
        File.WriteAllText(Path.Join(root, "dir", "sub", "inner.txt"), "inner\n");
        Directory.CreateDirectory(Path.Join(root, "closed"));
        File.WriteAllText(Path.Join(root, "closed", "x.txt"), "x\n");
        string deep = root;
        for (int i = 1; i <= depth; i++) deep = Path.Join(deep, $"d{i}");
        if (depth > 0)
        {
            Directory.CreateDirectory(deep);
            File.WriteAllText(Path.Join(deep, "bottom.txt"), "bottom\n");
        }
        if (symlinks)
        {
            File.CreateSymbolicLink(Path.Join(root, "link-to-readme"), "readme.txt");
            File.CreateSymbolicLink(Path.Join(root, "dir", "link-up"), "../random.bin");
            File.CreateSymbolicLink(Path.Join(root, "link-abs"), "/etc/hostname");
            File.CreateSymbolicLink(Path.Join(root, "dangling"), "no/such/file");
            LinkHard(Path.Join(root, "readme.txt"), Path.Join(root, "hard-link.txt"));
        }
        SetTimes(root, BaseTime);
        Chmod(Path.Join(root, "closed"), 0x1C0); // 0700, after its times are set
        return root;
    }

    private static void LinkHard(string existing, string link)
    {
        PeerTools.RunOk("ln", existing, link);
    }

    /// <summary>Gives every entry below <paramref name="root"/> its own time (seconds apart), children before parents.</summary>
    public static void SetTimes(string root, DateTimeOffset start)
    {
        int n = 0;
        void Walk(string dir)
        {
            foreach (var p in Directory.EnumerateFileSystemEntries(dir).Order(StringComparer.Ordinal))
            {
                var info = new FileInfo(p);
                if (info.LinkTarget is not null) { Touch(p, start.AddSeconds(n++)); continue; }
                if (Directory.Exists(p)) Walk(p);
                Touch(p, start.AddSeconds(n++ * 3601));
            }
        }
        Walk(root);
        Touch(root, start.AddDays(1));
    }

    /// <summary>The mode column isoinfo prints for an entry ("----------" style).</summary>
    public static string ModeString(FileSystemEntry e)
    {
        uint mode = e.Mode ?? 0;
        char type = e.Kind switch
        {
            FileSystemEntryKind.Directory => 'd',
            FileSystemEntryKind.Symlink => 'l',
            FileSystemEntryKind.File => '-',
            _ => (mode & 0xF000) switch { 0x2000 => 'c', 0x6000 => 'b', 0x1000 => 'p', 0xC000 => 's', _ => '?' },
        };
        var s = new char[10];
        s[0] = type;
        for (int i = 0; i < 9; i++) s[i + 1] = (mode & (1u << (8 - i))) != 0 ? "rwxrwxrwx"[i] : '-';
        if ((mode & 0x800) != 0) s[3] = s[3] == 'x' ? 's' : 'S';
        if ((mode & 0x400) != 0) s[6] = s[6] == 'x' ? 's' : 'S';
        if ((mode & 0x200) != 0) s[9] = s[9] == 'x' ? 't' : 'T';
        return new string(s);
    }

    /// <summary>Sets a path's permission bits.</summary>
    public static void Chmod(string path, int mode)
    {
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, (UnixFileMode)mode);
    }

    /// <summary>Sets a path's access and modification times without following a symbolic link.</summary>
    public static void Touch(string path, DateTimeOffset time)
        => Assert.True(Discemu.Util.LinuxNative.SetTimesNoFollow(path, time, time), $"utimensat {path}");

    /// <summary>Snapshot of a host folder (times in whole seconds; modes 07777 when <paramref name="modes"/>).</summary>
    public static List<TreeItem> HostSnapshot(string root, bool modes = true, bool times = true)
    {
        var items = new List<TreeItem>();
        void Walk(string dir, string rel)
        {
            foreach (var p in Directory.EnumerateFileSystemEntries(dir).Order(StringComparer.Ordinal))
            {
                string path = rel + "/" + Path.GetFileName(p);
                var info = new FileInfo(p);
                if (info.LinkTarget is { } target) { items.Add(new TreeItem(path, 'l', 0, null, null, null, target)); continue; }
                long? mtime = times ? new DateTimeOffset(File.GetLastWriteTimeUtc(p)).ToUnixTimeSeconds() : null;
                int? mode = modes && !OperatingSystem.IsWindows() ? (int)File.GetUnixFileMode(p) : null;
                if (Directory.Exists(p))
                {
                    items.Add(new TreeItem(path, 'd', 0, null, mtime, mode, null));
                    Walk(p, path);
                }
                else items.Add(new TreeItem(path, 'f', info.Length, Hash(File.ReadAllBytes(p)), mtime, mode, null));
            }
        }
        Walk(root, "");
        return items;
    }

    /// <summary>Snapshot of a file system below <paramref name="start"/>, in the same form as <see cref="HostSnapshot"/>.</summary>
    public static List<TreeItem> FsSnapshot(FileSystem fs, bool modes = true, bool times = true, FileSystemEntry? start = null, Func<string, bool>? skip = null)
    {
        var items = new List<TreeItem>();
        void Walk(FileSystemEntry dir, string rel)
        {
            foreach (var e in fs.ListDirectory(dir).OrderBy(e => e.Name, StringComparer.Ordinal))
            {
                string path = rel + "/" + e.Name;
                if (skip?.Invoke(path) == true) continue;
                long? mtime = times ? e.Modified?.ToUnixTimeSeconds() : null;
                int? mode = modes ? (int?)(e.Mode & 0xFFF) : null;
                switch (e.Kind)
                {
                    case FileSystemEntryKind.Symlink: items.Add(new TreeItem(path, 'l', 0, null, null, null, e.SymlinkTarget)); break;
                    case FileSystemEntryKind.Directory:
                        items.Add(new TreeItem(path, 'd', 0, null, mtime, mode, null));
                        Walk(e, path);
                        break;
                    default:
                        using (var content = fs.OpenFile(e))
                        {
                            Assert.Equal(e.Size, content.Length);
                            items.Add(new TreeItem(path, 'f', e.Size, Hash(ReadAll(content)), mtime, mode, null));
                        }
                        break;
                }
            }
        }
        Walk(start ?? fs.Root, "");
        return items;
    }

    /// <summary>Asserts two snapshots are equal, naming the first difference.</summary>
    public static void AssertSame(IReadOnlyList<TreeItem> expected, IReadOnlyList<TreeItem> actual)
    {
        var missing = expected.Select(i => i.Path).Except(actual.Select(i => i.Path)).ToList();
        var extra = actual.Select(i => i.Path).Except(expected.Select(i => i.Path)).ToList();
        Assert.True(missing.Count == 0 && extra.Count == 0, $"missing: [{string.Join(", ", missing)}] extra: [{string.Join(", ", extra)}]");
        for (int i = 0; i < expected.Count; i++) Assert.Equal(expected[i], actual[i]);
    }

    public static byte[] ReadAll(BlockDevice device)
    {
        var data = new byte[device.Length];
        device.Read(0, data);
        return data;
    }

    public static string Hash(byte[] data) => Convert.ToHexString(SHA256.HashData(data));

    /// <summary>One line of isoinfo -l: the directory, mode string, links, uid, gid, size and name (";1" kept).</summary>
    public sealed record IsoinfoLine(string Directory, string Mode, int Links, int Uid, int Gid, long Size, string Name, string? Link);

    /// <summary>Runs isoinfo -l with <paramref name="flags"/> (-R, -J) and parses its listing, without "." and "..".</summary>
    public static List<IsoinfoLine> Isoinfo(string iso, params string[] flags)
    {
        string text = PeerTools.RunOk("isoinfo", [.. flags, "-l", "-i", iso]);
        var lines = new List<IsoinfoLine>();
        string dir = "/";
        foreach (var raw in text.Split('\n'))
        {
            if (raw.StartsWith("Directory listing of ", StringComparison.Ordinal)) { dir = raw["Directory listing of ".Length..]; continue; }
            var m = IsoinfoRow().Match(raw);
            if (!m.Success) continue;
            string name = m.Groups["name"].Value;
            if (name.EndsWith(' ')) name = name[..^1];
            string? link = null;
            int arrow = name.IndexOf(" -> ", StringComparison.Ordinal);
            if (m.Groups["mode"].Value[0] == 'l' && arrow >= 0) { link = name[(arrow + 4)..]; name = name[..arrow]; }
            if (name is "." or ".." || m.Groups["ext"].Value.Length == 0 && name.Length == 0) continue;
            lines.Add(new IsoinfoLine(dir, m.Groups["mode"].Value, int.Parse(m.Groups["links"].Value), int.Parse(m.Groups["uid"].Value),
                int.Parse(m.Groups["gid"].Value), long.Parse(m.Groups["size"].Value), name, link));
        }
        return lines;
    }

    [GeneratedRegex(@"^(?<mode>[-dlcbps?][-rwxsStT]{9})\s+(?<links>\d+)\s+(?<uid>\d+)\s+(?<gid>\d+)\s+(?<size>\d+)\s+\w{3}\s+\d+\s+\d{4}\s+\[\s*(?<ext>\d+)\s+[0-9A-F]+\]\s\s(?<name>.*)$")]
    private static partial Regex IsoinfoRow();
}
