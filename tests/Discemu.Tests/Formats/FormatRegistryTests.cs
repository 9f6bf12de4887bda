using Discemu.Formats;
using Discemu.Formats.Qcow2;
using Discemu.Formats.Raw;

namespace Discemu.Tests.Formats;

public sealed class FormatRegistryTests
{
    private sealed class Scored(string name, int score, params string[] extensions) : ImageFormat
    {
        public override string Name => name;
        public override string Description => name;
        public override IReadOnlyList<string> Extensions => extensions;
        public override int ProbeLength => 1000 + score;
        public override int Probe(ReadOnlySpan<byte> header, long fileLength) => score >= 0 ? score : throw new InvalidOperationException("broken probe");
        public override DiskImage Open(ImageOpenRequest request) => throw new NotSupportedException();
    }

    [Fact]
    public void DefaultListsTheBuiltInFormats()
    {
        Assert.Same(RawFormat.Instance, FormatRegistry.Default.Find("raw"));
        Assert.Same(Qcow2Format.Instance, FormatRegistry.Default.Find("QCOW2"));
        Assert.Null(FormatRegistry.Default.TryFind("nosuch"));
        var e = Assert.Throws<BadArgumentException>(() => FormatRegistry.Default.Find("nosuch"));
        Assert.Contains("nosuch", e.Message);
        Assert.Contains("qcow2", e.Message);
        Assert.True(RawFormat.Instance.CanCreate);
    }

    [Fact]
    public void DuplicateNamesAreRejected()
    {
        var r = new FormatRegistry(new Scored("a", 1));
        Assert.Throws<ArgumentException>(() => r.Register(new Scored("A", 2)));
        Assert.Throws<ArgumentException>(() => new FormatRegistry(new Scored("x", 1), new Scored("x", 1)));
        Assert.Throws<ArgumentNullException>(() => r.Register(null!));
    }

    [Fact]
    public void HighestScoreWinsThenExtensionThenOrder()
    {
        var r = new FormatRegistry(new Scored("low", 1), new Scored("mid1", 50), new Scored("mid2", 50, "m2"), new Scored("none", 0));
        Assert.Equal(("mid1", 50), Name(r.Probe([], 0)));
        Assert.Equal(("mid1", 50), Name(r.Probe([], 0, "disk.img")));
        Assert.Equal(("mid2", 50), Name(r.Probe([], 0, "/x/disk.M2")));
        Assert.Equal(("mid1", 50), Name(r.Probe([], 0, "disk.m2.bak")));
        Assert.Equal(1050, r.ProbeLength);
    }

    [Fact]
    public void ExtensionNeverBeatsAHigherScoreOrAZero()
    {
        var r = new FormatRegistry(new Scored("zero", 0, "img"), new Scored("raw-ish", 1, "bin"), new Scored("sure", 100));
        Assert.Equal(("sure", 100), Name(r.Probe([], 0, "a.img")));
        var r2 = new FormatRegistry(new Scored("zero", 0, "img"));
        Assert.Null(r2.Probe([], 0, "a.img"));
    }

    [Fact]
    public void ThrowingProbeCountsAsNoMatch()
    {
        var r = new FormatRegistry(new Scored("broken", -1), new Scored("ok", 1));
        Assert.Equal(("ok", 1), Name(r.Probe([], 0)));
        Assert.Null(new FormatRegistry(new Scored("broken", -1)).Probe([], 0));
    }

    [Fact]
    public void EmptyRegistryProbesNothing()
    {
        var r = new FormatRegistry();
        Assert.Empty(r.Formats);
        Assert.Equal(512, r.ProbeLength);
        Assert.Null(r.Probe([1, 2, 3], 3));
    }

    /// <summary>A format known only by a footer: "TAIL" in the last four bytes; answers to the alias "tl".</summary>
    private sealed class Footer : ImageFormat
    {
        public override string Name => "tail";
        public override string Description => "footer-identified";
        public override IReadOnlyList<string> Aliases => ["tl"];
        public override int TrailerProbeLength => 4;
        public override int Probe(ReadOnlySpan<byte> header, long fileLength) => 0;
        public override int Probe(ReadOnlySpan<byte> header, ReadOnlySpan<byte> trailer, long fileLength)
            => trailer.EndsWith("TAIL"u8) ? 100 : 0;
        public override DiskImage Open(ImageOpenRequest request) => throw new NotSupportedException();
    }

    [Fact]
    public void TrailerProbesSeeTheEndOfTheFile()
    {
        var r = new FormatRegistry(RawFormat.Instance, new Footer());
        Assert.Equal(4, r.TrailerProbeLength);
        Assert.Equal(("tail", 100), Name(r.Probe("head"u8, "TAIL"u8, 100)));
        Assert.Equal(("raw", 1), Name(r.Probe("head"u8, "nope"u8, 100)));
        Assert.Equal(("raw", 1), Name(r.Probe("TAIL"u8, 4)));   // the header-only overload passes no trailer

        using var dir = new Infrastructure.TempDir();
        string path = dir.File("disk.bin");
        var bytes = new byte[10_000];
        "TAIL"u8.CopyTo(bytes.AsSpan(bytes.Length - 4));
        File.WriteAllBytes(path, bytes);
        Assert.Equal("tail", new ImageOpener(r).Detect(path).Name);
        File.WriteAllBytes(path, "AIL"u8.ToArray());   // shorter than the trailer
        Assert.Equal("raw", new ImageOpener(r).Detect(path).Name);
    }

    [Fact]
    public void AliasesFindTheFormatButNamesWin()
    {
        var footer = new Footer();
        var r = new FormatRegistry(footer);
        Assert.Same(footer, r.Find("TL"));
        Assert.Throws<ArgumentException>(() => r.Register(new Scored("tail", 1)));
        Assert.Null(r.TryFind("ta"));
    }

    private static (string, int)? Name((ImageFormat Format, int Score)? r) => r is null ? null : (r.Value.Format.Name, r.Value.Score);
}
