using Discemu.Block;
using Discemu.FileSystems;
using Discemu.FileSystems.Fat;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.FileSystems.Fat;

/// <summary>Helpers for the FAT tests: peer-made images, host trees, walking and comparing.</summary>
internal static class FatTestKit
{
    static FatTestKit()
    {
        // mtools converts between DOS (local) times and host times with TZ; Discemu stores UTC.
        Environment.SetEnvironmentVariable("TZ", "UTC");
    }

    /// <summary>Sectors (of 512 bytes) that make mkfs.fat produce each type with its defaults.</summary>
    public static int SectorsFor(int fatBits) => fatBits switch { 12 => 8000, 16 => 40000, _ => 70000 };

    /// <summary>Makes an image with mkfs.fat.</summary>
    public static string MkFs(TempDir dir, int fatBits, string name = "fat.img", int? sectors = null)
    {
        EnsureEnv();
        string path = dir.File(name);
        PeerTools.RunOk("mkfs.fat", "-C", "-F", fatBits.ToString(System.Globalization.CultureInfo.InvariantCulture), "-i", "1234ABCD", path,
            ((sectors ?? SectorsFor(fatBits)) / 2).ToString(System.Globalization.CultureInfo.InvariantCulture));
        return path;
    }

    /// <summary>Sets the environment the peer tools need (TZ=UTC).</summary>
    public static void EnsureEnv() => Environment.SetEnvironmentVariable("TZ", "UTC");

    /// <summary>A host tree with long, Unicode, case-only and 8.3 names, a deep chain, empty and multi-cluster files, fixed mtimes.</summary>
    public static string HostTree(TempDir dir, string name = "src")
    {
        string src = dir.File(name);
        string deep = Path.Join(src, "deep", "level 1", "level 2", "level 3", "level 4", "level 5");
        Directory.CreateDirectory(deep);
        File.WriteAllText(Path.Join(deep, "bottom.txt"), "bottom\n");
        File.WriteAllText(Path.Join(src, "README.TXT"), "upper 8.3\n");
        File.WriteAllText(Path.Join(src, "lower.txt"), "lower 8.3\n");
        File.WriteAllText(Path.Join(src, "Mixed.Txt"), "mixed case\n");
        File.WriteAllText(Path.Join(src, "A rather long file name with spaces.document"), "long\n");
        File.WriteAllText(Path.Join(src, "ünïcödé – 日本語.txt"), "unicode\n");
        File.WriteAllText(Path.Join(src, "many.dots.in.name.tar.gz"), "dots\n");
        File.WriteAllBytes(Path.Join(src, "empty"), []);
        File.WriteAllBytes(Path.Join(src, "big.bin"), Enumerable.Range(0, 150_000).Select(i => (byte)(i * 7 + i / 251)).ToArray());
        for (int i = 0; i < 12; i++) File.WriteAllText(Path.Join(src, "deep", $"similar name number {i}.txt"), $"n{i}\n");
        var t = new DateTime(2021, 6, 15, 13, 45, 20, DateTimeKind.Utc);
        foreach (var f in Directory.EnumerateFiles(src, "*", SearchOption.AllDirectories)) File.SetLastWriteTimeUtc(f, t = t.AddMinutes(7).AddSeconds(2));
        return src;
    }

    /// <summary>Every file and directory under a host folder: relative path → (is dir, content or null, mtime).</summary>
    public static SortedDictionary<string, (bool Dir, byte[]? Data, DateTime Modified)> Host(string root)
    {
        var map = new SortedDictionary<string, (bool, byte[]?, DateTime)>(StringComparer.Ordinal);
        foreach (var d in Directory.EnumerateDirectories(root, "*", SearchOption.AllDirectories))
            map["/" + Path.GetRelativePath(root, d).Replace('\\', '/')] = (true, null, Directory.GetLastWriteTimeUtc(d));
        foreach (var f in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
            map["/" + Path.GetRelativePath(root, f).Replace('\\', '/')] = (false, File.ReadAllBytes(f), File.GetLastWriteTimeUtc(f));
        return map;
    }

    /// <summary>Every entry of a file system under <paramref name="under"/>: relative path → (is dir, content or null, mtime).</summary>
    public static SortedDictionary<string, (bool Dir, byte[]? Data, DateTimeOffset? Modified)> Walk(FileSystem fs, string under = "/")
    {
        var map = new SortedDictionary<string, (bool, byte[]?, DateTimeOffset?)>(StringComparer.Ordinal);
        void Visit(FileSystemEntry dir, string prefix)
        {
            foreach (var e in fs.ListDirectory(dir))
            {
                string p = prefix + "/" + e.Name;
                if (e.IsDirectory)
                {
                    map[p] = (true, null, e.Modified);
                    Visit(e, p);
                }
                else
                {
                    using var content = fs.OpenFile(e);
                    var data = new byte[content.Length];
                    content.Read(0, data);
                    map[p] = (false, data, e.Modified);
                }
            }
        }
        Visit(fs.Lookup(under), "");
        return map;
    }

    /// <summary>Opens the FAT file system of an image file.</summary>
    public static (FileDevice Device, FileSystem Fs) Open(string path, bool writable = false)
    {
        var device = FileDevice.Open(path, writable);
        try
        {
            return (device, FatFileSystemType.Instance.Open(device, new FileSystemOpenOptions { Writable = writable, DisplayPath = path }));
        }
        catch
        {
            device.Dispose();
            throw;
        }
    }

    /// <summary>fsck.fat -n must exit 0 and print nothing but its banner and the "files, clusters" summary.</summary>
    public static void AssertFsckClean(string image)
    {
        var (code, stdout, stderr) = PeerTools.Run("fsck.fat", ["-n", image]);
        var complaints = (stdout + stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => !l.StartsWith("fsck.fat ", StringComparison.Ordinal) && !l.Contains(" files, ", StringComparison.Ordinal)).ToList();
        Assert.True(code == 0 && complaints.Count == 0, $"fsck.fat -n {image} exited {code}:\n{stdout}{stderr}");
    }
}
