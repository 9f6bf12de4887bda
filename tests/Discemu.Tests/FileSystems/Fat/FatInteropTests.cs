using Discemu.FileSystems;
using Discemu.Tests.Cli;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.FileSystems.Fat;

/// <summary>
/// Interop with dosfstools and mtools, every FAT type: what mkfs.fat + mcopy wrote lists and extracts identically
/// (names, content, times); what Discemu writes passes fsck.fat -n, and mcopy extracts it identically and mdir lists
/// the same names and sizes.
/// </summary>
public sealed class FatInteropTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<int> Types => [12, 16, 32];

    [Theory]
    [MemberData(nameof(Types))]
    public void ReadsWhatMtoolsWrote(int bits)
    {
        PeerTools.Require("mcopy");
        string image = FatTestKit.MkFs(_dir, bits);
        string src = FatTestKit.HostTree(_dir);
        PeerTools.RunOk("mcopy", ["-s", "-m", "-i", image, .. Directory.EnumerateFileSystemEntries(src).Order(StringComparer.Ordinal), "::/"]);
        var host = FatTestKit.Host(src);
        var (device, fs) = FatTestKit.Open(image);
        using (device)
        using (fs)
        {
            var ours = FatTestKit.Walk(fs);
            Assert.Equal(host.Keys, ours.Keys);
            foreach (var (path, h) in host)
            {
                var o = ours[path];
                Assert.Equal(h.Dir, o.Dir);
                if (h.Dir) continue;
                Assert.True(h.Data!.AsSpan().SequenceEqual(o.Data), $"content of {path}");
                // DOS times have 2-second resolution.
                Assert.Equal(new DateTimeOffset(h.Modified.AddSeconds(-(h.Modified.Second % 2)).AddTicks(-(h.Modified.Ticks % TimeSpan.TicksPerSecond)), TimeSpan.Zero), o.Modified);
            }
        }
        // The CLI sees the same: get extracts the tree byte for byte.
        string outDir = _dir.File("out");
        var r = CliHarness.Run("get", image + ":/", outDir);
        Assert.True(r.Code == 0, r.Err);
        var extracted = FatTestKit.Host(outDir);
        Assert.Equal(host.Keys, extracted.Keys);
        foreach (var (path, h) in host)
            if (!h.Dir) Assert.True(h.Data!.AsSpan().SequenceEqual(extracted[path].Data), $"extracted {path}");
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void OurEditsPassFsckAndMtoolsReadThem(int bits)
    {
        PeerTools.Require("mcopy");
        string image = FatTestKit.MkFs(_dir, bits);
        string src = FatTestKit.HostTree(_dir);
        Ok(CliHarness.Run("put", "-r", src, image + ":/"));
        Ok(CliHarness.Run("mkdir", "-p", image + ":/new/sub dir/third"));
        Ok(CliHarness.Run("put", Path.Join(src, "big.bin"), image + ":/new/sub dir/Copy Of Big.BIN"));
        Ok(CliHarness.Run("mv", image + ":/src/lower.txt", "/new/renamed lower.txt"));
        Ok(CliHarness.Run("mv", image + ":/src/deep/level 1", "/new"));
        Ok(CliHarness.Run("rm", image + ":/src/Mixed.Txt"));
        Ok(CliHarness.Run("rm", "-r", image + ":/new/sub dir/third"));
        Ok(CliHarness.Run("attrib", "+r", "+h", image + ":/src/README.TXT"));
        Ok(CliHarness.Run("label", image, "Disc Emu"));
        Assert.Equal("DISC EMU", CliHarness.Run("label", image).Out.Trim());
        FatTestKit.AssertFsckClean(image);

        // mcopy extracts exactly what we hold.
        string back = _dir.File("back");
        Directory.CreateDirectory(back);
        PeerTools.RunOk("mcopy", "-s", "-n", "-m", "-i", image, "::/*", back);
        var theirs = FatTestKit.Host(back);
        var (device, fs) = FatTestKit.Open(image);
        using (device)
        using (fs)
        {
            var ours = FatTestKit.Walk(fs);
            Assert.Equal(ours.Keys, theirs.Keys);
            foreach (var (path, o) in ours)
            {
                if (o.Dir) continue;
                Assert.True(o.Data!.AsSpan().SequenceEqual(theirs[path].Data), $"content of {path}");
                Assert.Equal(o.Modified!.Value.UtcDateTime, theirs[path].Modified);
            }
            // mdir -/ -a: every long name (or 8.3 name) and size we list.
            string mdir = PeerTools.RunOk("mdir", "-/", "-a", "-i", image, "::/");
            foreach (var (path, o) in ours)
            {
                string name = path[(path.LastIndexOf('/') + 1)..];
                // A name stored as 8.3 alone (case kept by the NT flags) is shown in the 8.3 columns: "lower    txt".
                int dot = name.IndexOf('.');
                string shown = Discemu.FileSystems.Fat.ShortNames.TryExact(name) is null ? name
                    : dot < 0 ? name : $"{name[..dot],-8} {name[(dot + 1)..]}";
                Assert.Contains(shown, mdir, StringComparison.Ordinal);
            }
            var readme = fs.Lookup("/src/README.TXT");
            Assert.True(readme.Attributes.HasFlag(FileAttributes.ReadOnly) && readme.Attributes.HasFlag(FileAttributes.Hidden));
            string flags = PeerTools.RunOk("mattrib", "-i", image, "::/src/README.TXT").Split("::")[0];
            Assert.Contains('R', flags);
            Assert.Contains('H', flags);
        }
        Assert.Contains("DISC EMU", PeerTools.RunOk("mlabel", "-s", "-i", image, "::"), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void DiskFullLeavesTheFileSystemConsistent(int bits)
    {
        string image = FatTestKit.MkFs(_dir, bits);
        string src = FatTestKit.HostTree(_dir);
        Ok(CliHarness.Run("put", "-r", src, image + ":/"));
        var before = Snapshot(image);
        // A host file larger than the free space: put fails with a one-line error and leaves nothing behind.
        string huge = _dir.File("huge.bin");
        using (var f = File.Create(huge)) f.SetLength(new FileInfo(image).Length);
        var r = CliHarness.Run("put", huge, image + ":/src/huge.bin");
        Assert.Contains("space", CliHarness.AssertOneLineError(r), StringComparison.OrdinalIgnoreCase);
        FatTestKit.AssertFsckClean(image);
        Assert.Equal(before, Snapshot(image));
        // Fill the disk with files until it is full; every file written before the failure is intact.
        var (device, fs) = FatTestKit.Open(image, writable: true);
        using (device)
        using (fs)
        {
            var w = (IWritableFileSystem)fs;
            var chunk = Enumerable.Range(0, 64 << 10).Select(i => (byte)(i % 253)).ToArray();
            int n = 0;
            Assert.Throws<DiskFullException>(void () =>
            {
                for (; ; n++)
                {
                    w.CreateFile($"/fill{n}.bin");
                    w.Write($"/fill{n}.bin", 0, chunk);
                }
            });
            Assert.True(w.FreeBytes < chunk.Length);
            if (fs.TryLookup($"/fill{n}.bin") is { } partial) w.Delete($"/fill{n}.bin");
            w.Flush();
        }
        FatTestKit.AssertFsckClean(image);
        var after = Snapshot(image);
        foreach (var (path, v) in before) Assert.Equal(v, after[path]);
    }

    private static SortedDictionary<string, string> Snapshot(string image)
    {
        var (device, fs) = FatTestKit.Open(image);
        using (device)
        using (fs)
            return new SortedDictionary<string, string>(FatTestKit.Walk(fs).ToDictionary(kv => kv.Key, kv => kv.Value.Data is null ? "dir" : Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(kv.Value.Data))), StringComparer.Ordinal);
    }

    private static void Ok((int Code, string Out, string Err) r) => Assert.True(r.Code == 0, r.Err);
}
