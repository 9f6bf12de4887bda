using Discemu.Formats;
using Discemu.Partitions;
using Discemu.Partitions.Gpt;
using Discemu.Tests.Infrastructure;
using static Discemu.Tests.Partitions.PartitionTestKit;

namespace Discemu.Tests.Partitions;

public sealed class PartitionPathTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static Func<string, bool> Files(params string[] names) => names.Contains;

    [Theory]
    [InlineData("disk.img", "disk.img", null, null)]
    [InlineData("disk.img:2", "disk.img", 2, null)]
    [InlineData("disk.vmdk:2:/etc/fstab", "disk.vmdk", 2, "/etc/fstab")]
    [InlineData("disk.img:/boot/x:y", "disk.img", null, "/boot/x:y")]
    [InlineData("disk.img:12:/a:b/c", "disk.img", 12, "/a:b/c")]
    [InlineData("my:disk.img:3", "my:disk.img", 3, null)]             // ':' in the image name: the existing file wins
    [InlineData("a:2", "a:2", null, null)]                              // both "a" and "a:2" exist: the longest
    [InlineData("a:2:/x", "a:2", null, "/x")]
    [InlineData("a:3", "a", 3, null)]
    [InlineData("missing.img:4:/f", "missing.img", 4, "/f")]          // nothing exists: the first plausible split
    [InlineData("missing.img", "missing.img", null, null)]
    [InlineData("a:notanumber", "a", null, "/notanumber")]             // not a partition suffix: a path relative to the root
    [InlineData("b:notanumber", "b:notanumber", null, null)]           // ... but only after an existing image
    [InlineData(@"C:\images\disk.img:2", @"C:\images\disk.img", 2, null)] // a drive letter is not a split
    public void PathsSplitIntoImagePartitionAndInnerPath(string text, string image, int? partition, string? inner)
    {
        var p = PartitionPath.Parse(text, Files("disk.img", "disk.vmdk", "my:disk.img", "a", "a:2"));
        Assert.Equal(new PartitionPath(image, partition, inner), p);
    }

    [Fact]
    public void BadPartitionNumbersAreRefused()
    {
        Assert.Throws<BadArgumentException>(() => PartitionPath.Parse("disk.img:0", Files("disk.img")));
        Assert.Throws<BadArgumentException>(() => PartitionPath.Parse("", Files()));
        Assert.Equal(new PartitionPath("disk.img:1234567890", null, null), PartitionPath.Parse("disk.img:1234567890", Files("disk.img")));
        Assert.Equal("disk.img:2:/etc", new PartitionPath("disk.img", 2, "/etc").ToString());
    }

    [Fact]
    public void OpenGivesThePartitionsBytes()
    {
        string path = SparseFile(_dir, "with:colon.img", 32 * MiB);
        var data = new byte[4096];
        new Random(2).NextBytes(data);
        using (var image = ImageOpener.Default.Open(path, new ImageOpenOptions { Writable = true }))
        {
            var t = GptFormat.Instance.Create(image);
            t.Add(new PartitionSpec { Type = PartitionType.FromGuid(PartitionTypes.EfiSystem), Length = 4 * MiB });
            var p = t.Add(new PartitionSpec { Type = PartitionType.FromGuid(PartitionTypes.LinuxFilesystem), Length = 8 * MiB });
            image.Write(p.Start, data);
        }
        using (var opened = PartitionPath.Parse(path + ":2:/etc/hostname").Open())
        {
            Assert.Equal(2, opened.Partition!.Number);
            Assert.Equal("/etc/hostname", opened.InnerPath);
            Assert.Equal(8 * MiB, opened.Device.Length);
            var back = new byte[4096];
            opened.Device.Read(0, back);
            Assert.Equal(data, back);
            Assert.False(opened.Device.CanWrite);
        }
        using (var whole = PartitionPath.Parse(path).Open(options: new ImageOpenOptions { Writable = true }))
        {
            Assert.Null(whole.Table);
            Assert.Same(whole.Image, whole.Device);
            Assert.True(whole.Device.CanWrite);
        }
        Assert.Throws<BadArgumentException>(() => PartitionPath.Parse(path + ":3").Open());
        Assert.Throws<ImageAccessException>(() => PartitionPath.Parse(_dir.File("nope.img") + ":1").Open());
        string blank = SparseFile(_dir, "blank.img", MiB);
        Assert.Contains("no partition table", Assert.Throws<BadArgumentException>(() => PartitionPath.Parse(blank + ":1").Open()).Message);
    }
}
