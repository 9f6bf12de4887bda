using System.Text.RegularExpressions;
using Discemu.FileSystems.Iso9660;
using Discemu.Tests.Infrastructure;
using static Discemu.Tests.FileSystems.Iso9660.IsoTestKit;

namespace Discemu.Tests.FileSystems.Iso9660;

/// <summary>Multi-session images grown with xorriso -dev: the sessions xorriso -toc lists, the last by default, any by number.</summary>
public sealed class IsoSessionTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string ThreeSessions()
    {
        string iso = _dir.File("ms.iso");
        for (int i = 1; i <= 3; i++)
        {
            string src = _dir.File($"s{i}");
            Directory.CreateDirectory(src);
            File.WriteAllText(Path.Join(src, $"file{i}.txt"), $"session {i}\n");
            var args = new List<string> { "-dev", iso, "-map", src, $"/s{i}" };
            if (i == 3) args.AddRange(["-rm", "/s1/file1.txt", "--"]);
            args.Add("-commit");
            PeerTools.RunOk("xorriso", [.. args]);
        }
        return iso;
    }

    [Fact]
    public void SessionsAreTheOnesXorrisoListsAndTheLastIsOpenedByDefault()
    {
        string iso = ThreeSessions();
        string toc = PeerTools.RunOk("xorriso", "-indev", iso, "-toc");
        var theirs = Regex.Matches(toc, @"ISO session\s+:\s+(\d+)\s+,\s+(\d+)\s+,\s+(\d+)s").Select(m => $"{m.Groups[1].Value} {m.Groups[2].Value} {m.Groups[3].Value}").ToList();
        Assert.Equal(3, theirs.Count);
        var (image, fs) = Open(iso);
        using (image)
        using (fs)
        {
            var iso9660 = Assert.IsType<IsoFileSystem>(fs);
            Assert.Equal(theirs, iso9660.Sessions.Select(s => $"{s.Index} {s.StartBlock} {s.Blocks}"));
            Assert.Equal(3, iso9660.Session.Index);
            Assert.Equal(["/s1", "/s2", "/s2/file2.txt", "/s3", "/s3/file3.txt"], FsSnapshot(fs).Select(i => i.Path));
        }
    }

    [Theory]
    [InlineData(1, new[] { "/s1", "/s1/file1.txt" })]
    [InlineData(2, new[] { "/s1", "/s1/file1.txt", "/s2", "/s2/file2.txt" })]
    [InlineData(3, new[] { "/s1", "/s2", "/s2/file2.txt", "/s3", "/s3/file3.txt" })]
    public void AnySessionCanBeOpened(int session, string[] paths)
    {
        string iso = ThreeSessions();
        var (image, fs) = Open(iso, session: session);
        using (image)
        using (fs)
        {
            Assert.Equal(paths, FsSnapshot(fs).Select(i => i.Path));
            if (session < 3)
                using (var old = fs.OpenFile(fs.Lookup("/s1/file1.txt")))
                    Assert.Equal("session 1\n"u8.ToArray(), ReadAll(old));
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    public void MissingSessionIsABadArgument(int session)
    {
        string iso = ThreeSessions();
        var e = Assert.Throws<BadArgumentException>(() => Open(iso, session: session));
        Assert.Contains("3 sessions", e.Message);
    }

    [Fact]
    public void SingleSessionImageWithAnIsoFileInsideIsNotTakenForMultiSession()
    {
        // An ISO stored as a file whose content lands at block 32 looks like a second session's descriptors;
        // its root lies outside the "session", so it is not one.
        string inner = _dir.File("inner");
        Directory.CreateDirectory(inner);
        File.WriteAllText(Path.Join(inner, "a.txt"), "inner\n");
        string innerIso = _dir.File("inner.iso");
        PeerTools.RunOk("xorriso", "-as", "mkisofs", "-o", innerIso, inner);
        string outer = _dir.File("outer");
        Directory.CreateDirectory(outer);
        File.Copy(innerIso, Path.Join(outer, "inner.iso"));
        string iso = _dir.File("outer.iso");
        PeerTools.RunOk("xorriso", "-as", "mkisofs", "-o", iso, outer);
        var (image, fs) = Open(iso);
        using (image)
        using (fs)
        {
            Assert.Single(((IsoFileSystem)fs).Sessions);
            Assert.Equal(["/inner.iso"], FsSnapshot(fs).Select(i => i.Path));
        }
    }
}
