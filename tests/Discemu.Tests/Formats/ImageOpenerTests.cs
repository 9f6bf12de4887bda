using Discemu.Formats;
using Discemu.Formats.Raw;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Formats;

public sealed class ImageOpenerTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly ImageOpener _opener = new(new FormatRegistry(RawFormat.Instance, FakeFormat.Instance));

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void MissingFileIsAnAccessErrorNamingThePath()
    {
        string path = _dir.File("absent.img");
        var e = Assert.Throws<ImageAccessException>(() => ImageOpener.Default.Open(path));
        Assert.Equal(path, e.ImagePath);
        Assert.Contains(path, e.Describe());
        e = Assert.Throws<ImageAccessException>(() => ImageOpener.Default.Open(path, new ImageOpenOptions { Format = "raw" }));
        Assert.Equal(path, e.ImagePath);
        Assert.Throws<ImageAccessException>(() => ImageOpener.Default.Detect(path));
    }

    [Fact]
    public void DirectoryIsAnAccessError()
    {
        var e = Assert.Throws<ImageAccessException>(() => ImageOpener.Default.Open(_dir.PathName));
        Assert.Equal(_dir.PathName, e.ImagePath);
    }

    [Fact]
    public void UnknownFormatNameIsABadArgument()
    {
        string path = _dir.File("x.img");
        File.WriteAllBytes(path, new byte[512]);
        var e = Assert.Throws<BadArgumentException>(() => ImageOpener.Default.Open(path, new ImageOpenOptions { Format = "nosuch" }));
        Assert.Contains("raw", e.Message);
    }

    [Fact]
    public void EmptyFileOpensAsAnEmptyRawDisk()
    {
        string path = _dir.File("empty.img");
        File.WriteAllBytes(path, []);
        using var image = ImageOpener.Default.Open(path);
        Assert.Equal("raw", image.Format.Name);
        Assert.Equal(0, image.Length);
    }

    [Fact]
    public void NoFormatClaimingTheFileIsUnsupported()
    {
        string path = _dir.File("x.img");
        File.WriteAllBytes(path, new byte[512]);
        var opener = new ImageOpener(new FormatRegistry(FakeFormat.Instance));
        var e = Assert.Throws<UnsupportedFeatureException>(() => opener.Open(path));
        Assert.Equal(path, e.ImagePath);
    }

    [Fact]
    public void BackingChainIsOpenedRelativeToTheImage()
    {
        Directory.CreateDirectory(_dir.File("sub"));
        FakeFormat.Make(_dir.File("base.raw"), [1, 2, 3]);
        FakeFormat.Make(_dir.File("sub/mid.fake"), [4], backing: "../base.raw", backingFormat: "raw");
        FakeFormat.Make(_dir.File("top.fake"), [5], backing: "sub/mid.fake");
        using var top = _opener.Open(_dir.File("top.fake"));
        Assert.Equal("fake", top.Format.Name);
        var mid = Assert.IsAssignableFrom<DiskImage>(top.Backing);
        Assert.Equal("fake", mid.Format.Name);
        var bottom = Assert.IsAssignableFrom<DiskImage>(mid.Backing);
        Assert.Equal("raw", bottom.Format.Name);
        Assert.False(bottom.CanWrite);
        Assert.Equal(Path.GetFullPath(_dir.File("sub/mid.fake")), Path.GetFullPath(top.FullBackingFileName!));
        // The raw "base" is the whole fake file, read as raw.
        Assert.Equal(515, bottom.Length);
        using var noChain = _opener.Open(_dir.File("top.fake"), new ImageOpenOptions { OpenBacking = false });
        Assert.Null(noChain.Backing);
        Assert.Equal("sub/mid.fake", noChain.BackingFileName);
    }

    [Fact]
    public void SelfReferenceIsALoop()
    {
        FakeFormat.Make(_dir.File("a.fake"), [1], backing: "a.fake");
        var e = Assert.Throws<CorruptImageException>(() => _opener.Open(_dir.File("a.fake")));
        Assert.Contains("loop", e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void LongerLoopsAreRefusedEvenThroughOtherSpellings()
    {
        Directory.CreateDirectory(_dir.File("d"));
        FakeFormat.Make(_dir.File("a.fake"), [1], backing: "d/b.fake");
        FakeFormat.Make(_dir.File("d/b.fake"), [2], backing: "./c.fake");
        FakeFormat.Make(_dir.File("d/c.fake"), [3], backing: "../d/../a.fake");
        var e = Assert.Throws<CorruptImageException>(() => _opener.Open(_dir.File("a.fake")));
        Assert.Contains("loop", e.Message, StringComparison.OrdinalIgnoreCase);
        // Opening from the middle of the loop is refused too.
        Assert.Throws<CorruptImageException>(() => _opener.Open(_dir.File("d/c.fake")));
    }

    [Fact]
    public void MissingBackingFileNamesThePathLookedFor()
    {
        FakeFormat.Make(_dir.File("top.fake"), [1], backing: "gone.img");
        var e = Assert.Throws<ImageAccessException>(() => _opener.Open(_dir.File("top.fake")));
        Assert.Contains(_dir.File("gone.img"), e.Message);
        Assert.Equal(_dir.File("top.fake"), e.ImagePath);
    }

    [Fact]
    public void UnknownStoredBackingFormatIsCorruption()
    {
        FakeFormat.Make(_dir.File("base.img"), [1]);
        FakeFormat.Make(_dir.File("top.fake"), [1], backing: "base.img", backingFormat: "martian");
        var e = Assert.Throws<CorruptImageException>(() => _opener.Open(_dir.File("top.fake")));
        Assert.Contains("martian", e.Message);
    }

    [Fact]
    public void ChainsDeeperThanTheLimitAreRefused()
    {
        int n = ImageOpener.MaxChainDepth + 1;
        FakeFormat.Make(_dir.File($"{n}.fake"), [1]);
        for (int i = n - 1; i >= 0; i--) FakeFormat.Make(_dir.File($"{i}.fake"), [1], backing: $"{i + 1}.fake");
        var e = Assert.Throws<CorruptImageException>(() => _opener.Open(_dir.File("0.fake")));
        Assert.Contains(ImageOpener.MaxChainDepth.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message);
        // Exactly at the limit is fine.
        using var ok = _opener.Open(_dir.File("1.fake"));
        int depth = 0;
        for (var img = ok; img.Backing is not null; img = img.Backing) depth++;
        Assert.Equal(ImageOpener.MaxChainDepth, depth);
    }
}
