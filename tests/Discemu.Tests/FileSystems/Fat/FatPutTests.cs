using Discemu.Tests.Cli;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.FileSystems.Fat;

/// <summary>
/// <c>put -r</c> (a reader thread lists and reads ahead, the writer creates files in one operation each): the tree
/// lands whole and in order, again over itself (replacing files), and a full disk part-way through a tree stops
/// cleanly, leaving fsck.fat clean and every file that was copied intact.
/// </summary>
public sealed class FatPutTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A tree with more files than one hand-over batch, a symbolic link, files on both sides of the read-ahead limit.</summary>
    private string ManyFiles(int count)
    {
        string src = _dir.File("many");
        for (int i = 0; i < count; i++)
        {
            string dir = Path.Join(src, $"dir {i % 7}", i % 3 == 0 ? "sub" : "");
            Directory.CreateDirectory(dir);
            int size = i % 50 == 0 ? 70_000 + i : 1 + i * 37 % 5000;
            File.WriteAllBytes(Path.Join(dir, $"file number {i:D4}.dat"), Enumerable.Range(0, size).Select(k => (byte)(k * 31 + i)).ToArray());
        }
        File.CreateSymbolicLink(Path.Join(src, "link to dir 0"), Path.Join(src, "dir 0"));
        return src;
    }

    [Fact]
    public void TreeLandsWholeAndAgainOverItself()
    {
        string image = FatTestKit.MkFs(_dir, 32);
        string src = ManyFiles(300);
        var host = HostWithoutLink(src);
        for (int round = 0; round < 2; round++)
        {
            var r = CliHarness.Run("put", "-r", src, image + ":/");
            Assert.True(r.Code == 0, r.Err);
            var ours = CheckedWalk(image, "/many");
            Assert.Equal(host.Keys, ours.Keys);
            foreach (var (path, h) in host)
            {
                if (h.Dir) continue;
                Assert.True(h.Data!.AsSpan().SequenceEqual(ours[path].Data), $"content of {path} (round {round})");
                Assert.Equal(h.Modified.AddTicks(-(h.Modified.Ticks % (2 * TimeSpan.TicksPerSecond))), ours[path].Modified!.Value.UtcDateTime);
            }
        }
    }

    [Fact]
    public void NamesEqualButForCaseReplaceTheEarlierCopy()
    {
        string image = FatTestKit.MkFs(_dir, 16);
        string src = _dir.File("case");
        Directory.CreateDirectory(src);
        File.WriteAllText(Path.Join(src, "Same Name.txt"), "first\n");
        File.WriteAllText(Path.Join(src, "same name.TXT"), "second, longer\n");
        var r = CliHarness.Run("put", "-r", src, image + ":/");
        Assert.True(r.Code == 0, r.Err);
        var only = Assert.Single(CheckedWalk(image, "/case"));
        Assert.Equal("second, longer\n"u8.ToArray(), only.Value.Data);
    }

    [Fact]
    public void DiskFullPartWayThroughATreeKeepsWhatWasCopied()
    {
        string image = FatTestKit.MkFs(_dir, 12, sectors: 2000);
        string src = ManyFiles(300);
        var r = CliHarness.Run("put", "-r", src, image + ":/");
        Assert.NotEqual(0, r.Code);
        Assert.Contains("space", CliHarness.AssertOneLineError(r), StringComparison.OrdinalIgnoreCase);
        var host = HostWithoutLink(src);
        var ours = CheckedWalk(image, "/many");
        Assert.NotEmpty(ours);
        foreach (var (path, o) in ours)
        {
            Assert.True(host.ContainsKey(path), path);
            if (!o.Dir) Assert.True(host[path].Data!.AsSpan().SequenceEqual(o.Data), $"content of {path}");
        }
    }

    /// <summary>Checks the image with fsck.fat, then lists what it holds under <paramref name="under"/>.</summary>
    private static SortedDictionary<string, (bool Dir, byte[]? Data, DateTimeOffset? Modified)> CheckedWalk(string image, string under)
    {
        FatTestKit.AssertFsckClean(image);
        var (device, fs) = FatTestKit.Open(image);
        using (device)
        using (fs)
            return FatTestKit.Walk(fs, under);
    }

    /// <summary>The host tree as put copies it: the symbolic link (and anything seen through it) left out.</summary>
    private static SortedDictionary<string, (bool Dir, byte[]? Data, DateTime Modified)> HostWithoutLink(string src)
    {
        var host = FatTestKit.Host(src);
        foreach (var key in host.Keys.Where(k => k.StartsWith("/link to dir 0", StringComparison.Ordinal)).ToList()) host.Remove(key);
        return host;
    }
}
