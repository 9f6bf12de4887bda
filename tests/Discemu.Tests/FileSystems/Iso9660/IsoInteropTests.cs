using Discemu.FileSystems;
using Discemu.Operations;
using Discemu.Tests.Infrastructure;
using static Discemu.Tests.FileSystems.Iso9660.IsoTestKit;

namespace Discemu.Tests.FileSystems.Iso9660;

/// <summary>
/// Images made by genisoimage and xorriso from a source tree read back as that tree: names, sizes, contents,
/// times, Rock Ridge modes and symbolic links; listings agree with isoinfo's.
/// </summary>
public sealed class IsoInteropTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Make(string tool, string src, params string[] flags)
    {
        string iso = _dir.File($"{tool}-{Guid.NewGuid():N}.iso");
        if (tool == "genisoimage") PeerTools.RunOk("genisoimage", ["-quiet", .. flags, "-o", iso, src]);
        else PeerTools.RunOk("xorriso", ["-as", "mkisofs", .. flags, "-o", iso, src]);
        return iso;
    }

    public static TheoryData<string> Tools => ["genisoimage", "xorriso"];

    [Theory]
    [MemberData(nameof(Tools))]
    public void RockRidgeTreeIsTheSourceTree(string tool)
    {
        string src = MakeSource(_dir);
        string iso = Make(tool, src, "-R", "-J", "-joliet-long");
        var (image, fs) = Open(iso);
        using (image)
        using (fs)
        {
            Assert.Equal("rr", fs.Info.Single(i => i.Key == "names").Value);
            // genisoimage relocates the directories below depth 8 into rr_moved; the tree still reads unchanged.
            AssertSame(HostSnapshot(src), FsSnapshot(fs, skip: p => p == "/rr_moved"));
            if (tool == "genisoimage") Assert.Empty(fs.ListDirectory(fs.Lookup("/rr_moved")));
        }
        if (tool == "genisoimage")
            Assert.Contains(Isoinfo(iso), l => l.Directory == "/" && l.Name == "RR_MOVED"); // relocation did happen
    }

    [Theory]
    [MemberData(nameof(Tools))]
    public void RockRidgeListingAgreesWithIsoinfo(string tool)
    {
        string src = MakeSource(_dir, depth: 5);
        PeerTools.RunOk("chown", "1234:5678", Path.Join(src, "readme.txt"));
        string iso = Make(tool, src, "-R");
        var (image, fs) = Open(iso);
        using (image)
        using (fs)
        {
            var ours = new List<string>();
            void Walk(FileSystemEntry d, string path)
            {
                foreach (var e in fs.ListDirectory(d))
                {
                    long size = e.Kind == FileSystemEntryKind.Symlink ? 0 : e.Size; // isoinfo shows a link's recorded size, 0
                    ours.Add($"{path} {ModeString(e)} {e.Links} {size} {e.Name} {e.SymlinkTarget}");
                    if (e.IsDirectory) Walk(e, path + e.Name + "/");
                }
            }
            Walk(fs.Root, "/");
            var theirs = Isoinfo(iso, "-R").Select(l => $"{l.Directory} {l.Mode} {l.Links} {l.Size} {l.Name} {l.Link}");
            Assert.Equal(theirs.Order(StringComparer.Ordinal), ours.Order(StringComparer.Ordinal));
            // isoinfo misprints owners other than 0 (1234:5678 shows as 2322:13056); xorriso reads them right.
            string lsl = PeerTools.RunOk("xorriso", "-indev", iso, "-lsl", "/readme.txt");
            Assert.Matches(@"\s1234\s+5678\s", lsl);
            Assert.Equal(1234u, fs.Lookup("/readme.txt").Uid);
            Assert.Equal(5678u, fs.Lookup("/readme.txt").Gid);
            Assert.Equal(0u, fs.Lookup("/random.bin").Uid);
        }
    }

    [Theory]
    [MemberData(nameof(Tools))]
    public void JolietTreeHasTheSourceNamesAndContents(string tool)
    {
        string src = MakeSource(_dir, symlinks: false, depth: 5);
        string iso = Make(tool, src, "-J", "-joliet-long");
        // xorriso always adds Rock Ridge, which would win: ask for the Joliet names.
        var (image, fs) = Open(iso, names: tool == "xorriso" ? "joliet" : null);
        using (image)
        using (fs)
        {
            Assert.Equal("joliet", fs.Info.Single(i => i.Key == "names").Value);
            Assert.Equal(3, fs.Info.Single(i => i.Key == "joliet-level").Value); // both write the UCS-2 level 3 escape, %/E
            AssertSame(HostSnapshot(src, modes: false), FsSnapshot(fs, modes: false));
            // isoinfo (built without iconv) mangles non-ASCII Joliet names: compare the ASCII ones with it.
            var ours = Names(fs, fs.Root, "/").Where(n => System.Text.Ascii.IsValid(n));
            var theirs = Isoinfo(iso, "-J").Select(l => $"{l.Directory}{l.Name} {l.Size}").Where(n => !n.Contains('\uFFFD'));
            Assert.Equal(theirs.Order(StringComparer.Ordinal), ours.Order(StringComparer.Ordinal));
            Assert.Equal(fs.Lookup("/readme.txt").Identity, fs.Lookup("/README.TXT").Identity); // Joliet lookups ignore case
        }
    }

    [Theory]
    [InlineData("1")]
    [InlineData("2")]
    [InlineData("3")]
    [InlineData("4")]
    public void IsoLevelNamesSizesAndContentsAgreeWithIsoinfo(string level)
    {
        string src = MakeSource(_dir, symlinks: false, depth: 5);
        string iso = Make("genisoimage", src, "-iso-level", level);
        var (image, fs) = Open(iso);
        using (image)
        using (fs)
        {
            Assert.Equal("iso", fs.Info.Single(i => i.Key == "names").Value);
            Assert.Equal(level == "4", fs.Info.Single(i => i.Key == "iso9660-1999").Value);
            var listing = Isoinfo(iso);
            var ours = Names(fs, fs.Root, "/");
            var theirs = listing.Select(l => $"{l.Directory}{Strip(l.Name, level != "4")} {l.Size}");
            Assert.Equal(theirs.Order(StringComparer.Ordinal), ours.Order(StringComparer.Ordinal));
            foreach (var l in listing.Where(l => l.Mode[0] == '-'))
            {
                string expected = Hash(PeerToolsBytes("isoinfo", "-i", iso, "-x", l.Directory + l.Name));
                using var content = fs.OpenFile(fs.Lookup(l.Directory + l.Name));
                Assert.Equal(expected, Hash(ReadAll(content)));
            }
        }
    }

    [Theory]
    [MemberData(nameof(Tools))]
    public void RationalizedRockRidgeModesAgreeWithIsoinfo(string tool)
    {
        string src = MakeSource(_dir, depth: 3);
        string iso = Make(tool, src, "-r");
        var (image, fs) = Open(iso);
        using (image)
        using (fs)
        {
            var modes = Isoinfo(iso, "-R").ToDictionary(l => l.Directory + l.Name, l => l.Mode);
            foreach (var item in FsSnapshot(fs, times: false).Where(i => i.Kind != 'l'))
                Assert.Equal(modes[item.Path], ModeString(fs.Lookup(item.Path)));
            Assert.Equal(0x16Du, fs.Lookup("/closed").Mode & 0xFFF); // -r makes directories 0555 whatever the source said
        }
    }

    [Theory]
    [MemberData(nameof(Tools))]
    public void ExtractingTheRootReproducesTheSourceTree(string tool)
    {
        string src = MakeSource(_dir);
        string iso = Make(tool, src, "-R");
        string output = _dir.File("out");
        var (image, fs) = Open(iso);
        using (image)
        using (fs)
        {
            var result = new FileExtractor(fs, new FileExtractOptions()).Extract(fs.Root, output);
            Assert.Equal(0, result.Skipped);
        }
        if (tool == "genisoimage") Directory.Delete(Path.Join(output, "rr_moved"));
        AssertSame(HostSnapshot(src), HostSnapshot(output));
        // The sparse file stays sparse.
        Assert.True(new FileInfo(Path.Join(output, "holes.bin")).Length == 1 << 20);
    }

    private static List<string> Names(FileSystem fs, FileSystemEntry dir, string path)
    {
        var list = new List<string>();
        foreach (var e in fs.ListDirectory(dir))
        {
            list.Add($"{path}{e.Name} {e.Size}");
            if (e.IsDirectory) list.AddRange(Names(fs, e, path + e.Name + "/"));
        }
        return list;
    }

    private static string Strip(string isoName, bool dot) => Discemu.FileSystems.Iso9660.IsoText.StripVersion(isoName, dot);

    private static byte[] PeerToolsBytes(string tool, params string[] args)
    {
        var psi = new System.Diagnostics.ProcessStartInfo(PeerTools.Require(tool)) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(psi)!;
        using var ms = new MemoryStream();
        p.StandardOutput.BaseStream.CopyTo(ms);
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
        return ms.ToArray();
    }
}
