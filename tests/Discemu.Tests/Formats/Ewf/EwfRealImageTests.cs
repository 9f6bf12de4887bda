using System.Security.Cryptography;
using Discemu.Formats;
using Discemu.Formats.Ewf;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Formats.Ewf;

/// <summary>The E01 sets written by ewfacquire 20140812 in ../shared/testdata/real.</summary>
public sealed class EwfRealImageTests
{
    private const string ContentSha256 = "a6c2f0e39afe6c6ab432ca5465349fcefe8dc944398e97b2d957d3f89dbb5d80";
    private const string StoredMd5 = "196066add11fb71c4c49cf1bb50d6d24";

    [Theory]
    [InlineData("ext2.E01", 1)]
    [InlineData("ext2.split.E01", 2)]
    [InlineData("ext2.split.E02", 2)]
    public void ReadsTheContentAndTheStoredHash(string name, int segments)
    {
        using var image = ImageOpener.Default.Open(TestData.Real(name));
        var ewf = Assert.IsType<EwfImage>(image);
        Assert.Equal("ewf", image.Format.Name);
        Assert.Equal(4194304, image.Length);
        Assert.Equal(segments, ewf.SegmentFiles.Count);
        var content = EwfTestMedia.ReadAll(image);
        Assert.Equal(ContentSha256, Convert.ToHexStringLower(SHA256.HashData(content)));
        Assert.Equal(StoredMd5, EwfTestMedia.Hex(ewf.StoredMd5!));
        Assert.Equal(StoredMd5, EwfTestMedia.Md5(content));
        Assert.Equal(0, ewf.Check(CheckRepair.None).ExitCode);
    }

    [Fact]
    public void ShowsTheCaseMetadata()
    {
        using var image = EwfImage.Open(TestData.Real("ext2.E01"));
        var c = image.CaseInfo;
        Assert.Equal("case", c.CaseNumber);
        Assert.Equal("description", c.Description);
        Assert.Equal("examiner", c.ExaminerName);
        Assert.Equal("evidence", c.EvidenceNumber);
        Assert.Equal("notes", c.Notes);
        Assert.Equal("Linux", c.AcquisitionSystem);
        Assert.Equal("20140812", c.SoftwareVersion);
        Assert.Equal("2021-07-22T15:33:18Z", c.AcquisitionDate);
        Assert.Equal("best", image.Compression);
        Assert.Equal(512, image.BytesPerSector);
        Assert.Equal(32768, image.ChunkSize);
        var specific = image.FormatSpecific.ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal("case", specific["case-number"]);
        Assert.Equal(StoredMd5, specific["md5"]);
        Assert.Equal(1, specific["segment-count"]);
    }

    [Fact]
    public void ConcurrentReadsAgreeWithASequentialRead()
    {
        using var image = EwfImage.Open(TestData.Real("ext2.split.E01"));
        var expected = EwfTestMedia.ReadAll(image);
        Parallel.For(0, 8, t =>
        {
            var rng = new Random(t);
            var buffer = new byte[100_000];
            for (int i = 0; i < 200; i++)
            {
                int length = rng.Next(1, buffer.Length);
                long offset = rng.NextInt64(0, image.Length - length);
                image.Read(offset, buffer.AsSpan(0, length));
                Assert.True(buffer.AsSpan(0, length).SequenceEqual(expected.AsSpan((int)offset, length)), $"read at {offset}+{length}");
            }
        });
    }

    [Fact]
    public void IsReadOnly()
    {
        using var image = EwfImage.Open(TestData.Real("ext2.E01"));
        Assert.False(image.CanWrite);
        Assert.Throws<NotSupportedException>(() => image.Write(0, new byte[512]));
        Assert.Throws<UnsupportedFeatureException>(() => ImageOpener.Default.Open(TestData.Real("ext2.E01"), new ImageOpenOptions { Writable = true }));
    }
}
