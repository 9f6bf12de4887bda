using Discemu.FileSystems;
using Discemu.FileSystems.Iso9660.Authoring;
using Discemu.Tests.Infrastructure;
using static Discemu.Tests.FileSystems.Iso9660.IsoTestKit;
using static Discemu.Tests.FileSystems.Iso9660.Authoring.IsoAuthorKit;

namespace Discemu.Tests.FileSystems.Iso9660.Authoring;

/// <summary>
/// Images we author read back as their source tree with our reader, and identically with xorriso -find, isoinfo -l -R / -J
/// and 7-Zip; xorriso -check_media finds nothing wrong.
/// </summary>
public sealed class IsoAuthorInteropTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Iso(IsoAuthorOptions options) => Author(_dir.File($"out-{Guid.NewGuid():N}.iso"), options);

    [Fact]
    public void RockRidgeTreeIsTheSourceTree()
    {
        string src = MakeSource(_dir);
        string iso = Iso(new IsoAuthorOptions { Sources = [src] });
        var (image, fs) = Open(iso);
        using (image)
        using (fs)
        {
            Assert.Equal("rr", fs.Info.Single(i => i.Key == "names").Value);
            AssertSame(HostSnapshot(src), FsSnapshot(fs));
            Assert.Equal(fs.Lookup("/readme.txt").Inode, fs.Lookup("/hard-link.txt").Inode);
        }
    }

    [Fact]
    public void PeersReadTheSameTree()
    {
        string src = MakeSource(_dir);
        PeerTools.RunOk("chown", "1234:5678", Path.Join(src, "readme.txt"));
        string iso = Iso(new IsoAuthorOptions { Sources = [src], VolumeId = "PEERS" });
        var (image, fs) = Open(iso);
        using (image)
        using (fs)
        {
            Assert.Equal(OurLsdl(fs), XorrisoLsdl(iso));
            // isoinfo -R: modes, links, sizes, names and link targets.
            var ours = new List<string>();
            void Walk(FileSystemEntry d, string path)
            {
                foreach (var e in fs.ListDirectory(d))
                {
                    long size = e.Kind == FileSystemEntryKind.Symlink ? 0 : e.Size;
                    ours.Add($"{path} {ModeString(e)} {e.Links} {size} {e.Name} {e.SymlinkTarget}");
                    if (e.IsDirectory) Walk(e, path + e.Name + "/");
                }
            }
            Walk(fs.Root, "/");
            var theirs = Isoinfo(iso, "-R").Select(l => $"{l.Directory} {l.Mode} {l.Links} {l.Size} {l.Name} {l.Link}");
            Assert.Equal(theirs.Order(StringComparer.Ordinal), ours.Order(StringComparer.Ordinal));
            Assert.Matches(@"\s1234\s+5678\s", PeerTools.RunOk("xorriso", "-indev", iso, "-lsl", "/readme.txt"));
        }
        // The Joliet tree: isoinfo -J and 7-Zip against our reader's Joliet view.
        var (jimage, jfs) = Open(iso, names: "joliet");
        using (jimage)
        using (jfs)
        {
            Assert.Equal(OurSevenZip(jfs), SevenZip(iso));
            var jolietNames = Isoinfo(iso, "-J").Select(l => l.Directory + l.Name).Order(StringComparer.Ordinal).ToList();
            var ourNames = new List<string>();
            void Walk(FileSystemEntry d, string path)
            {
                foreach (var e in jfs.ListDirectory(d))
                {
                    ourNames.Add(path + e.Name + (e.IsDirectory ? "" : ";1"));
                    if (e.IsDirectory) Walk(e, path + e.Name + "/");
                }
            }
            Walk(jfs.Root, "/");
            // isoinfo prints UCS-2 outside Latin-1 as '_'; compare the ASCII names exactly.
            Assert.Equal(ourNames.Where(n => n.All(char.IsAscii)).Order(StringComparer.Ordinal), jolietNames.Where(n => n.All(char.IsAscii)));
            Assert.Equal(ourNames.Count, jolietNames.Count);
        }
        string info = PeerTools.RunOk("isoinfo", "-d", "-i", iso);
        Assert.Contains("Volume id: PEERS", info);
        Assert.Contains("Joliet with UCS level 3 found", info);
        Assert.Contains("Rock Ridge signatures version 1 found", info);
        AssertCheckMediaGood(iso);
    }

    [Fact]
    public void SameInputsWithSourceDateEpochAreByteIdentical()
    {
        string src = MakeSource(_dir, depth: 3);
        File.WriteAllText(Path.Join(src, "new.txt"), "newer than the epoch\n"); // mtime now: clamped
        var epoch = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
        var options = new IsoAuthorOptions { Sources = [src], SourceDateEpoch = epoch };
        string a = Iso(options);
        Thread.Sleep(1100); // a clock-dependent field would now differ
        string b = Iso(options);
        Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
        var (image, fs) = Open(a);
        using (image)
        using (fs)
        {
            Assert.Equal(epoch, fs.Lookup("/new.txt").Modified);
            Assert.Equal(new DateTimeOffset(File.GetLastWriteTimeUtc(Path.Join(src, "readme.txt"))), fs.Lookup("/readme.txt").Modified); // older times are kept
            Assert.Contains(fs.Info, i => i.Key == "created" && Equals(i.Value, epoch.ToString("o")));
        }
    }

    [Fact]
    public void LevelOneNamesAndIdentifiers()
    {
        string src = MakeSource(_dir, symlinks: false, depth: 2);
        string iso = Iso(new IsoAuthorOptions
        {
            Sources = [src], Level = 1, VolumeId = "My_Vol", PublisherId = "Pub Lisher", PreparerId = "Prep", ApplicationId = "App", SystemId = "SYS",
            VolumeSetId = "SET",
        });
        var names = Isoinfo(iso).Select(l => l.Name).ToList();
        Assert.All(names, n => Assert.Matches(@"^[A-Z0-9_]{1,8}(\.[A-Z0-9_]{0,3};1)?$", n));
        Assert.Contains("README.TXT;1", names);
        Assert.Equal(names.Count, Isoinfo(iso, "-R").Count);
        string info = PeerTools.RunOk("isoinfo", "-d", "-i", iso);
        Assert.Contains("Volume id: MY_VOL", info);
        Assert.Contains("Publisher id: PUB LISHER", info);
        Assert.Contains("Data preparer id: PREP", info);
        Assert.Contains("Application id: APP", info);
        Assert.Contains("System id: SYS", info);
        Assert.Contains("Volume set id: SET", info);
        var (image, fs) = Open(iso);
        using (image)
        using (fs) AssertSame(HostSnapshot(src), FsSnapshot(fs)); // Rock Ridge keeps the real names
        AssertCheckMediaGood(iso);
    }

    [Fact]
    public void WithoutRockRidgeAndJoliet()
    {
        string src = MakeSource(_dir, symlinks: false, depth: 2);
        string iso = Iso(new IsoAuthorOptions { Sources = [src], RockRidge = false, Joliet = false, Level = 2 });
        string info = PeerTools.RunOk("isoinfo", "-d", "-i", iso);
        Assert.Contains("NO Joliet present", info);
        Assert.Contains("NO Rock Ridge present", info);
        var (image, fs) = Open(iso);
        using (image)
        using (fs)
        {
            Assert.Equal("iso", fs.Info.Single(i => i.Key == "names").Value);
            Assert.Equal(Isoinfo(iso).Count, OurLsdl(fs).Count);
            Assert.Equal(File.ReadAllText(Path.Join(src, "readme.txt")), System.Text.Encoding.ASCII.GetString(ReadAll(fs.OpenFile(fs.Lookup("/README.TXT")))));
        }
        AssertCheckMediaGood(iso);
    }

    [Fact]
    public void GraftPointsExclusionsAndHidden()
    {
        string src = MakeSource(_dir, depth: 2);
        string extra = _dir.File("extra.txt");
        File.WriteAllText(extra, "extra\n");
        string iso = Iso(new IsoAuthorOptions
        {
            Sources = [src, "/docs/more/extra.txt=" + extra, "/copy=" + Path.Join(src, "dir"), "/docs/=" + extra],
            Exclude = ["*.bin", Path.Join(src, "closed")],
            Hidden = ["secret.txt"],
        });
        var (image, fs) = Open(iso);
        using (image)
        using (fs)
        {
            var paths = OurLsdl(fs).Select(l => l.Split(' ', 3)[2]).ToList();
            Assert.DoesNotContain("/random.bin", paths);
            Assert.DoesNotContain("/holes.bin", paths);
            Assert.DoesNotContain("/closed", paths);
            Assert.Contains("/docs/more/extra.txt", paths);
            Assert.Contains("/docs/extra.txt", paths);
            Assert.Contains("/copy/sub/inner.txt", paths);
            Assert.Contains("/dir/sub/inner.txt", paths);
            Assert.True(fs.Lookup("/secret.txt").Attributes.HasFlag(FileAttributes.Hidden));
            Assert.False(fs.Lookup("/readme.txt").Attributes.HasFlag(FileAttributes.Hidden));
            Assert.Equal(OurLsdl(fs), XorrisoLsdl(iso));
        }
    }

    [Fact]
    public void BadInputIsATypedError()
    {
        string src = MakeSource(_dir, symlinks: false, depth: 1);
        Assert.Throws<BadArgumentException>(() => IsoAuthor.Plan(new IsoAuthorOptions { Sources = [_dir.File("missing")] }));
        Assert.Throws<BadArgumentException>(() => IsoAuthor.Plan(new IsoAuthorOptions { Sources = [] }));
        Assert.Throws<BadArgumentException>(() => IsoAuthor.Plan(new IsoAuthorOptions { Sources = [src, "/readme.txt=" + Path.Join(src, "run.sh")] }));
        Assert.Throws<BadArgumentException>(() => IsoAuthor.Plan(new IsoAuthorOptions { Sources = [src], Level = 5 }));
        Assert.Throws<BadArgumentException>(() => IsoAuthor.Plan(new IsoAuthorOptions { Sources = [src], Exclude = [""] }));
    }

    [Fact]
    public void NameClashesAfterMappingGetUniqueIdentifiers()
    {
        string src = _dir.File("clash");
        Directory.CreateDirectory(src);
        foreach (var n in new[] { "a-b.txt", "a_b.txt", "A+B.txt", "a b.TXT" }) File.WriteAllText(Path.Join(src, n), n);
        File.WriteAllText(Path.Join(src, new string('x', 80) + "1.txt"), "1");
        File.WriteAllText(Path.Join(src, new string('x', 80) + "2.txt"), "2");
        foreach (int level in new[] { 1, 3 })
        {
            string iso = Iso(new IsoAuthorOptions { Sources = [src], Level = level });
            var isoNames = Isoinfo(iso).Select(l => l.Name).ToList();
            Assert.Equal(6, isoNames.Distinct().Count());
            var (image, fs) = Open(iso);
            using (image)
            using (fs) AssertSame(HostSnapshot(src), FsSnapshot(fs));
            var (jimage, jfs) = Open(iso, names: "joliet");
            using (jimage)
            using (jfs) Assert.Equal(6, jfs.ListDirectory(jfs.Root).Select(e => e.Name).Distinct().Count());
        }
    }

    [Fact]
    public void LargeMergedDirectoryWithClashesKeepsEveryNameInAllThreeTrees()
    {
        // More entries than a large directory (2048), from two sources merging into one directory (two spilled runs):
        // names that clash after the 30-character ISO 9660 cut, names with characters Joliet replaces, names past
        // the Joliet limit that clash after its cut, non-ASCII names, and names Joliet keeps as they are.
        string a = _dir.File("big-a"), b = _dir.File("big-b"), all = _dir.File("big-all");
        foreach (var d in new[] { a, b, all }) Directory.CreateDirectory(d);
        var names = new List<string>();
        for (int i = 0; i < 1500; i++) names.Add($"gcloud_alpha_compute_instances_{i:D4}_create.1.gz");
        for (int i = 0; i < 400; i++) names.Add($"w*e:i?r;d{i}.txt");
        for (int i = 0; i < 300; i++) names.Add(new string('j', 70) + $"{i}.txt");
        for (int i = 0; i < 100; i++) names.Add($"ñandú-日本-{i}.txt");
        for (int i = 0; i < names.Count; i++)
        {
            File.WriteAllText(Path.Join(i % 2 == 0 ? a : b, names[i]), names[i]);
            File.WriteAllText(Path.Join(all, names[i]), names[i]);
        }
        string iso = Iso(new IsoAuthorOptions { Sources = [a, b] });
        var (image, fs) = Open(iso);
        using (image)
        using (fs)
        {
            AssertSame(HostSnapshot(all, times: false), FsSnapshot(fs, times: false));
            Assert.Equal(OurLsdl(fs), XorrisoLsdl(iso));
        }
        var isoNames = Isoinfo(iso).Select(l => l.Name).ToList();
        Assert.Equal(names.Count, isoNames.Count);
        Assert.Equal(names.Count, isoNames.Distinct().Count());
        var (jimage, jfs) = Open(iso, names: "joliet");
        using (jimage)
        using (jfs)
        {
            var joliet = jfs.ListDirectory(jfs.Root).Select(e => e.Name).ToHashSet(StringComparer.Ordinal);
            Assert.Equal(names.Count, joliet.Count);
            // Names Joliet allows, within its 64 characters, are kept as they are; the others are mapped.
            foreach (var n in names.Where(n => n.Length <= 62 && n.IndexOfAny(['*', ':', '?', ';']) < 0)) Assert.Contains(n, joliet);
            Assert.Contains("w_e_i_r_d7.txt", joliet);
            // The cut long names are unique and within the limit.
            Assert.All(joliet, n => Assert.True(n.Length <= 62, n));
        }
        AssertCheckMediaGood(iso);
    }
}
