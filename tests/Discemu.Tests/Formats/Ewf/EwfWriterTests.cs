using Discemu.Formats;
using Discemu.Formats.Ewf;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Formats.Ewf;

/// <summary>The writer's API contract and the created-image path used by convert.</summary>
public sealed class EwfWriterTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(512)]
    [InlineData(1 << 20)]
    public void AnyAppendSizeGivesTheSameMedia(int piece)
    {
        var media = EwfTestMedia.Mixed(300 * 1024, seed: piece);
        string path = _dir.File($"p{piece}.E01");
        EwfTestMedia.WriteSet(path, media, new EwfWriterOptions { MediaSize = 0, Compression = EwfCompression.Fast, SectorsPerChunk = 16 }, piece);
        using var image = EwfImage.Open(path);
        Assert.Equal(media, EwfTestMedia.ReadAll(image));
    }

    [Fact]
    public void UsesTheHashesTheCallerGives()
    {
        var media = EwfTestMedia.Mixed(64 * 1024);
        byte[] md5 = Enumerable.Range(1, 16).Select(i => (byte)i).ToArray();
        string path = _dir.File("given.E01");
        using (var w = EwfWriter.Create(path, new EwfWriterOptions { MediaSize = media.Length, ComputeHashes = false }))
        {
            w.Append(media);
            var stored = w.Complete(new EwfHashes(md5, null));
            Assert.Equal(md5, stored.Md5);
            Assert.Null(stored.Sha1);
        }
        using var image = EwfImage.Open(path);
        Assert.Equal(md5, image.StoredMd5);
        Assert.Null(image.StoredSha1);
    }

    [Fact]
    public void AddsTheE01ExtensionAndNamesLaterSegments()
    {
        var media = EwfTestMedia.Mixed(3 * 1024 * 1024, seed: 9);
        for (int i = 0; i < media.Length; i++) media[i] ^= (byte)(i * 13);
        string path = _dir.File("evidence");
        using (var w = EwfWriter.Create(path, new EwfWriterOptions { MediaSize = media.Length, SegmentSize = 1 << 20 }))
        {
            w.Append(media);
            w.Complete();
            Assert.Equal([_dir.File("evidence.E01"), _dir.File("evidence.E02"), _dir.File("evidence.E03"), _dir.File("evidence.E04")], w.SegmentPaths);
        }
        using var image = EwfImage.Open(_dir.File("evidence.E03"));
        Assert.Equal(media, EwfTestMedia.ReadAll(image));
    }

    [Fact]
    public void RefusesMisuse()
    {
        Assert.Throws<BadArgumentException>(() => EwfWriter.Create(_dir.File("a.E01"), new EwfWriterOptions { MediaSize = 1000 }));
        Assert.Throws<BadArgumentException>(() => EwfWriter.Create(_dir.File("a.E01"), new EwfWriterOptions { MediaSize = 4096, SectorsPerChunk = 48 }));
        Assert.Throws<BadArgumentException>(() => EwfWriter.Create(_dir.File("a.E01"), new EwfWriterOptions { MediaSize = 4096, SegmentSize = 4096 }));
        using var w = EwfWriter.Create(_dir.File("b.E01"), new EwfWriterOptions { MediaSize = 4096 });
        Assert.Throws<InvalidOperationException>(() => w.Append(new byte[4097]));
        w.Append(new byte[1024]);
        Assert.Throws<InvalidOperationException>(() => w.Complete());
        Assert.Throws<ArgumentOutOfRangeException>(() => w.AddError(4000, 200));
        w.Append(new byte[3072]);
        w.Complete();
        Assert.Throws<InvalidOperationException>(() => w.Append(new byte[1]));
    }

    [Fact]
    public void AnUncompletedSetIsRefusedByReaders()
    {
        string path = _dir.File("partial.E01");
        using (var w = EwfWriter.Create(path, new EwfWriterOptions { MediaSize = 1 << 20 }))
            w.Append(new byte[100_000]);
        var e = Assert.Throws<CorruptImageException>(() => EwfImage.Open(path));
        Assert.Contains("incomplete", e.Message);
    }

    [Fact]
    public void EmptyMediaMakesAValidSet()
    {
        string path = _dir.File("empty.E01");
        using (var w = EwfWriter.Create(path, new EwfWriterOptions { MediaSize = 0 })) w.Complete();
        using var image = EwfImage.Open(path);
        Assert.Equal(0, image.Length);
        Assert.Equal("d41d8cd98f00b204e9800998ecf8427e", EwfTestMedia.Hex(image.StoredMd5!));
    }

    [Fact]
    public void CreatedImageFillsGapsWithZerosAndRefusesOutOfOrderWrites()
    {
        var opts = CreateOptions.Parse("compression=best,chunk_size=4k,case_number=X1,examiner=Me,notes=a,,b");
        string path = _dir.File("c.E01");
        var expected = new byte[256 * 1024];
        using (var image = EwfFormat.Instance.Create(new ImageCreateRequest(path, expected.Length, opts, ImageOpener.Default)))
        {
            var data = EwfTestMedia.Mixed(8192, seed: 2);
            image.Write(4096, data);
            data.CopyTo(expected, 4096);
            image.WriteZeroes(20000, 10000);
            image.Write(100_000, data.AsSpan(0, 1000));
            data.AsSpan(0, 1000).CopyTo(expected.AsSpan(100_000));
            var e = Assert.Throws<NotSupportedException>(() => image.Write(0, new byte[512]));
            Assert.Contains("sequentially", e.Message);
            Assert.Throws<NotSupportedException>(() => image.Read(0, new byte[512]));
        }
        // The out-of-order write failed, so closing left the set unfinished rather than completing it with zeros.
        Assert.Throws<CorruptImageException>(() => EwfImage.Open(path));
        using (var image = EwfFormat.Instance.Create(new ImageCreateRequest(path, expected.Length, CreateOptions.Parse("compression=best,chunk_size=4k,case_number=X1,examiner=Me,notes=a,,b"), ImageOpener.Default)))
        {
            var data = EwfTestMedia.Mixed(8192, seed: 2);
            image.Write(4096, data);
            image.WriteZeroes(20000, 10000);
            image.Write(100_000, data.AsSpan(0, 1000));
        }
        using var reopened = EwfImage.Open(path);
        Assert.Equal(expected, EwfTestMedia.ReadAll(reopened));
        Assert.Equal(4096, reopened.ChunkSize);
        Assert.Equal("best", reopened.Compression);
        Assert.Equal("X1", reopened.CaseInfo.CaseNumber);
        Assert.Equal("a,b", reopened.CaseInfo.Notes);
        Assert.Equal(EwfTestMedia.Md5(expected), EwfTestMedia.Hex(reopened.StoredMd5!));
    }

    [Fact]
    public void UnknownCreateOptionsAreRefused()
    {
        var e = Assert.Throws<BadArgumentException>(() => EwfFormat.Instance.Create(new ImageCreateRequest(_dir.File("x.E01"), 4096, CreateOptions.Parse("cluster_size=64k"), ImageOpener.Default)));
        Assert.Contains("cluster_size", e.Message);
        Assert.Throws<BadArgumentException>(() => EwfFormat.Instance.Create(new ImageCreateRequest(_dir.File("x.E01"), 4096, CreateOptions.Parse("compression=max"), ImageOpener.Default)));
    }

    [Theory]
    [InlineData("x.E01", 1, "x.E01")]
    [InlineData("x.E01", 99, "x.E99")]
    [InlineData("x.E01", 100, "x.EAA")]
    [InlineData("x.E01", 101, "x.EAB")]
    [InlineData("x.E01", 775, "x.EZZ")]
    [InlineData("x.E01", 776, "x.FAA")]
    [InlineData("x.e01", 100, "x.eaa")]
    [InlineData("x.s01", 127, "x.sbb")]
    [InlineData("x.Ex01", 100, "x.ExAA")]
    [InlineData("x.Ex01", 776, "x.EyAA")]
    public void SegmentNamesFollowTheScheme(string first, int number, string expected)
    {
        Assert.Equal(expected, EwfSegmentNames.For(first, number));
        Assert.Equal(first, EwfSegmentNames.FirstOf(expected));
    }
}
