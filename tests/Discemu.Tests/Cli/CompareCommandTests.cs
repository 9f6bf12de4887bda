using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Cli;

public sealed class CompareCommandTests
{
    private static void Poke(string path, long offset, byte value)
    {
        using var fs = new FileStream(path, FileMode.Open);
        fs.Position = offset;
        fs.WriteByte(value);
    }

    [Fact]
    public void IdenticalAndMismatchExitCodes()
    {
        using var dir = new TempDir();
        string a = CliHarness.SparseRaw(dir, "a.raw", 2 << 20, (65536, 4096));
        string b = dir.File("b.raw");
        File.Copy(a, b);
        var same = CliHarness.Run("compare", a, b);
        Assert.Equal((0, "Images are identical.\n"), (same.Code, same.Out.ReplaceLineEndings("\n")));
        Poke(b, 80_000, 7);
        var diff = CliHarness.Run("compare", a, b);
        Assert.Equal((1, "Content mismatch at offset 79872!\n"), (diff.Code, diff.Out.ReplaceLineEndings("\n")));
    }

    [Fact]
    public void ErrorExitIsTwo()
    {
        using var dir = new TempDir();
        string a = CliHarness.SparseRaw(dir, "a.raw", 4096);
        CliHarness.AssertOneLineError(CliHarness.Run("compare", a, dir.File("missing.raw")), expectedCode: 2);
    }

    [Fact]
    public void MatchesQemuImgOnSizeAndStrictCases()
    {
        PeerTools.Require("qemu-img");
        using var dir = new TempDir();
        string a = CliHarness.SparseRaw(dir, "a.raw", 4 << 20, (65536, 4096), (1228800, 12288));
        string longer = dir.File("longer.raw");
        File.Copy(a, longer);
        using (var fs = new FileStream(longer, FileMode.Open)) fs.SetLength(5 << 20);
        string dirty = dir.File("dirty.raw");
        File.Copy(longer, dirty);
        Poke(dirty, 4_200_000, 9);
        string changed = dir.File("changed.raw");
        File.Copy(a, changed);
        Poke(changed, 1229400, 1);
        Poke(changed, 70_000, 0); // writes an allocated zero into a hole: same content, different allocation
        foreach (var args in new[]
        {
            new[] { a, longer }, [longer, a], [a, dirty], [dirty, a], [a, changed], ["-s", a, longer], ["-s", a, a],
        })
        {
            var ours = CliHarness.Run(["compare", .. args]);
            var (peerCode, peerOut, _) = PeerTools.Run("qemu-img", ["compare", "-f", "raw", "-F", "raw", .. args]);
            Assert.Equal(peerCode, ours.Code);
            Assert.Equal(peerOut, ours.Out);
        }
    }
}
