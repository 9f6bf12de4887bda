using Discemu.Formats;

namespace Discemu.Tests.Formats;

public sealed class DiskImageTests
{
    [Theory]
    [InlineData("/a/b/top.qcow2", "base.qcow2", "/a/b/base.qcow2")]
    [InlineData("/a/b/top.qcow2", "../base.qcow2", "/a/base.qcow2")]
    [InlineData("/a/b/top.qcow2", "c/./base.qcow2", "/a/b/c/base.qcow2")]
    [InlineData("/a/b/top.qcow2", "/abs/base.qcow2", "/abs/base.qcow2")]
    public void RelativeNamesResolveAgainstTheImageFolder(string image, string stored, string expected)
        => Assert.Equal(expected, Path.GetFullPath(DiskImage.ResolveRelative(image, stored)));

    [Fact]
    public void AbsoluteNamesAndUrlsAreKeptAsStored()
    {
        Assert.Equal("/abs/base.qcow2", DiskImage.ResolveRelative("/a/top.qcow2", "/abs/base.qcow2"));
        Assert.Equal("nbd://host:10809/export", DiskImage.ResolveRelative("/a/top.qcow2", "nbd://host:10809/export"));
    }

    [Fact]
    public void RelativeImagePathIsResolvedFromTheCurrentFolder()
    {
        string expected = Path.Combine(Directory.GetCurrentDirectory(), "dir", "base.img");
        Assert.Equal(expected, Path.GetFullPath(DiskImage.ResolveRelative(Path.Combine("dir", "top.img"), "base.img")));
        Assert.Equal(Path.Combine(Directory.GetCurrentDirectory(), "base.img"), Path.GetFullPath(DiskImage.ResolveRelative("top.img", "base.img")));
    }
}
