using System.Diagnostics;
using System.Text.Json;
using Discemu.Tests.Infrastructure;
using static Discemu.Tests.FileSystems.Iso9660.IsoTestKit;

namespace Discemu.Tests.Cli;

/// <summary>The file commands: ls (-l like GNU ls -ln), cat, get, tree, fsinfo, and IMAGE[:/path] parsing.</summary>
public sealed class FsCommandTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string RockRidgeIso(out string src, int depth = 3)
    {
        src = MakeSource(_dir, depth: depth);
        string iso = _dir.File("rr.iso");
        PeerTools.RunOk("xorriso", "-as", "mkisofs", "-R", "-o", iso, src);
        return iso;
    }

    private static (int Code, byte[] Out, string Err) RunBinary(params string[] args)
    {
        var bytes = new MemoryStream();
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Discemu.Cli.Cli.Run(args, stdout, stderr, bytes);
        return (code, bytes.ToArray(), stderr.ToString());
    }

    private static string GnuLs(params string[] args)
    {
        var psi = new ProcessStartInfo(PeerTools.Require("ls")) { RedirectStandardOutput = true, UseShellExecute = false };
        psi.Environment["LC_ALL"] = "C";
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        string text = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
        return text;
    }

    [Fact]
    public void LsLongMatchesGnuLsOfTheSourceTree()
    {
        string iso = RockRidgeIso(out string src);
        var (code, output, err) = CliHarness.Run("ls", "-l", iso);
        Assert.True(code == 0, err);
        var ours = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var theirs = GnuLs("-ln", src).Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).ToArray(); // without "total"
        Assert.Equal(theirs.Length, ours.Length);
        for (int i = 0; i < ours.Length; i++)
        {
            var o = ours[i].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var t = theirs[i].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(t[0], o[0]);                              // mode
            Assert.Equal(t[2], o[2]);                              // uid
            Assert.Equal(t[3], o[3]);                              // gid
            if (t[0][0] != 'd') Assert.Equal(t[4], o[4]);          // size (directories differ: 2048 on ISO)
            Assert.Equal(t[5..8], o[5..8]);                        // date
            Assert.Equal(string.Join(' ', t[8..]), string.Join(' ', o[8..])); // name and link target
            if (t[0][0] == '-') Assert.Equal(t[1], o[1]);          // links (2 for the hard-linked pair)
        }
    }

    [Fact]
    public void LsRecursiveAndTreeOfTheRealImage()
    {
        string iso = TestData.Real("iso9660.raw");
        var ls = CliHarness.Run("ls", "-R", iso);
        Assert.Equal(0, ls.Code);
        Assert.Equal("/:\nA_DIRECTORY\nLOST_FOUND\nPASSWORDS.TXT\n\n/A_DIRECTORY:\nANOTHER_FILE\nA_FILE\n\n/LOST_FOUND:\n", ls.Out.ReplaceLineEndings("\n"));
        var tree = CliHarness.Run("tree", iso);
        Assert.Equal(0, tree.Code);
        Assert.Equal("/\n├── A_DIRECTORY\n│   ├── ANOTHER_FILE\n│   └── A_FILE\n├── LOST_FOUND\n└── PASSWORDS.TXT\n\n2 directories, 3 files\n", tree.Out.ReplaceLineEndings("\n"));
        var sub = CliHarness.Run("tree", iso + ":/A_DIRECTORY");
        Assert.EndsWith("0 directories, 2 files\n", sub.Out.ReplaceLineEndings("\n"));
        var one = CliHarness.Run("ls", "-l", iso + ":/PASSWORDS.TXT");
        Assert.Matches(@"^-r--r--r-- 1 0 0 116 Jul 2\d  2021 /PASSWORDS.TXT\n$", one.Out.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void TreeShowsLinksAndCounts()
    {
        string iso = RockRidgeIso(out _, depth: 2);
        var (code, output, _) = CliHarness.Run("tree", iso + ":/dir");
        Assert.Equal(0, code);
        Assert.Equal("/dir\n├── link-up -> ../random.bin\n└── sub\n    └── inner.txt\n\n1 directory, 2 files\n", output.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void CatWritesTheBytes()
    {
        string iso = RockRidgeIso(out string src);
        var (code, bytes, err) = RunBinary("cat", iso + ":/random.bin");
        Assert.True(code == 0, err);
        Assert.Equal(File.ReadAllBytes(Path.Join(src, "random.bin")), bytes);
        var holes = RunBinary("cat", iso + ":holes.bin");
        Assert.Equal(File.ReadAllBytes(Path.Join(src, "holes.bin")), holes.Out);
        CliHarness.AssertOneLineError(CliHarness.Run("cat", iso + ":/dir"));
        CliHarness.AssertOneLineError(CliHarness.Run("cat", iso + ":/nope"));
    }

    [Fact]
    public void GetCopiesFilesAndTreesAndRefusesToOverwrite()
    {
        string iso = RockRidgeIso(out string src);
        string outDir = _dir.File("out");
        Directory.CreateDirectory(outDir);
        Assert.Equal(0, CliHarness.Run("get", iso + ":/dir", outDir).Code);
        AssertSame(HostSnapshot(Path.Join(src, "dir")), HostSnapshot(Path.Join(outDir, "dir")));
        Assert.Equal(0, CliHarness.Run("get", iso + ":/readme.txt", Path.Join(outDir, "renamed.txt")).Code);
        Assert.Equal(File.ReadAllBytes(Path.Join(src, "readme.txt")), File.ReadAllBytes(Path.Join(outDir, "renamed.txt")));
        Assert.Equal(File.GetLastWriteTimeUtc(Path.Join(src, "readme.txt")), File.GetLastWriteTimeUtc(Path.Join(outDir, "renamed.txt")));
        string refused = CliHarness.AssertOneLineError(CliHarness.Run("get", iso + ":/readme.txt", Path.Join(outDir, "renamed.txt")));
        Assert.Contains("--force", refused);
        Assert.Equal(0, CliHarness.Run("get", "--force", iso + ":/random.bin", Path.Join(outDir, "renamed.txt")).Code);
        Assert.Equal(File.ReadAllBytes(Path.Join(src, "random.bin")), File.ReadAllBytes(Path.Join(outDir, "renamed.txt")));
        string all = _dir.File("all");
        Assert.Equal(0, CliHarness.Run("get", iso, all).Code); // the root: DEST becomes the tree
        AssertSame(HostSnapshot(src), HostSnapshot(all));
    }

    [Fact]
    public void ImageNamesMayContainColons()
    {
        string iso = RockRidgeIso(out _);
        string odd = _dir.File("a:b.iso");
        File.Copy(iso, odd);
        Assert.Equal(CliHarness.Run("ls", iso).Out, CliHarness.Run("ls", odd).Out);
        Assert.Equal("inner.txt\n", CliHarness.Run("ls", odd + ":/dir/sub").Out.ReplaceLineEndings("\n"));
        Assert.Equal("inner.txt\n", CliHarness.Run("ls", odd + ":dir/sub").Out.ReplaceLineEndings("\n"));
        string missing = CliHarness.AssertOneLineError(CliHarness.Run("ls", _dir.File("nope.iso") + ":/x"));
        Assert.Contains("nope.iso", missing);
    }

    [Fact]
    public void NamesSessionAndErrors()
    {
        string src = MakeSource(_dir, symlinks: false, depth: 2);
        string iso = _dir.File("rj.iso");
        PeerTools.RunOk("genisoimage", "-quiet", "-R", "-J", "-o", iso, src);
        Assert.Contains("readme.txt", CliHarness.Run("ls", iso).Out);
        Assert.Contains("README.TXT", CliHarness.Run("ls", "--names", "iso", iso).Out);
        Assert.Contains("readme.txt", CliHarness.Run("ls", "--names", "joliet", iso).Out);
        CliHarness.AssertOneLineError(CliHarness.Run("ls", "--names", "bogus", iso));
        Assert.Contains("session", CliHarness.AssertOneLineError(CliHarness.Run("ls", "--session", "2", iso)));
        Assert.Contains("No such file", CliHarness.AssertOneLineError(CliHarness.Run("ls", iso + ":/missing")));
        string notIso = CliHarness.SparseRaw(_dir, "blank.raw", 1 << 20);
        Assert.Contains("No known file system", CliHarness.AssertOneLineError(CliHarness.Run("ls", notIso)));
    }

    [Fact]
    public void FsInfoReportsTheVolume()
    {
        string iso = TestData.Real("iso9660.raw");
        var (code, output, _) = CliHarness.Run("fsinfo", "--output", "json", iso);
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal("iso9660", doc.RootElement.GetProperty("file-system").GetString());
        Assert.Equal("CDROM", doc.RootElement.GetProperty("volume-id").GetString());
        Assert.Equal(179, doc.RootElement.GetProperty("volume-space-size").GetInt32());
        Assert.Equal("iso", doc.RootElement.GetProperty("names").GetString());
        var human = CliHarness.Run("fsinfo", iso);
        Assert.Contains("volume id: CDROM", human.Out);
    }

    [Fact]
    public void IsoInsideQcow2ListsTheSame()
    {
        string iso = RockRidgeIso(out _);
        string qcow = _dir.File("rr.qcow2");
        PeerTools.RunOk("qemu-img", "convert", "-f", "raw", "-O", "qcow2", iso, qcow);
        Assert.Equal(CliHarness.Run("ls", "-l", "-R", iso).Out, CliHarness.Run("ls", "-l", "-R", qcow).Out);
        Assert.Equal(CliHarness.Run("tree", iso).Out, CliHarness.Run("tree", qcow).Out);
    }
}
