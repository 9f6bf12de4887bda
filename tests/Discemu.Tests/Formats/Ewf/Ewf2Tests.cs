using Discemu.Formats;
using Discemu.Formats.Ewf;
using Discemu.Fuzz;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Formats.Ewf;

/// <summary>
/// EWF2 (Ex01) reading, on sets built from the specification by <see cref="Ewf2Builder"/>: no tool
/// on this machine writes Ex01 (ewfacquire 20140813 falls back to EnCase 6 for encase7-v2).
/// </summary>
public sealed class Ewf2Tests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(true, 0)]
    [InlineData(false, 0)]
    [InlineData(true, 7)]
    [InlineData(false, 5)]
    public void ReadsTheMediaMetadataAndHashes(bool compress, int chunksPerSegment)
    {
        var media = EwfTestMedia.Mixed(40 * 32768 + 3 * 512, seed: 2);
        string path = _dir.File("img.Ex01");
        var paths = Ewf2Builder.Write(path, media, new Ewf2Builder.Options
        {
            Compress = compress,
            ChunksPerSegment = chunksPerSegment,
            Errors = [(10, 4), (1000, 1)],
        });
        using var image = ImageOpener.Default.Open(paths[^1]);
        var ewf = Assert.IsType<EwfImage>(image);
        Assert.Equal(2, ewf.FormatVersion);
        Assert.Equal(paths, ewf.SegmentFiles);
        Assert.Equal(media.Length, image.Length);
        Assert.Equal(media, EwfTestMedia.ReadAll(image));
        Assert.Equal(EwfTestMedia.Md5(media), EwfTestMedia.Hex(ewf.StoredMd5!));
        Assert.Equal(EwfTestMedia.Sha1(media), EwfTestMedia.Hex(ewf.StoredSha1!));
        Assert.Equal("CASE-2", ewf.CaseInfo.CaseNumber);
        Assert.Equal("Examiner Two", ewf.CaseInfo.ExaminerName);
        Assert.Equal("EWF2 test image", ewf.CaseInfo.Description);
        Assert.Equal("EV-9", ewf.CaseInfo.EvidenceNumber);
        Assert.Equal("Model X", ewf.CaseInfo.Model);
        Assert.Equal("2023-11-14T22:13:20Z", ewf.CaseInfo.AcquisitionDate);
        Assert.Equal([new EwfErrorRange(10, 4), new EwfErrorRange(1000, 1)], ewf.AcquisitionErrors);
        Assert.Equal(0, ewf.Check(CheckRepair.None).ExitCode);
    }

    [Fact]
    public void ConvertsToRawThroughTheCli()
    {
        var media = EwfTestMedia.Mixed(10 * 32768, seed: 4);
        string path = _dir.File("c.Ex01");
        Ewf2Builder.Write(path, media);
        var r = Cli.CliHarness.Run("convert", "-O", "raw", path, _dir.File("out.raw"));
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(media, File.ReadAllBytes(_dir.File("out.raw")));
        var v = Cli.CliHarness.Run("verify", path);
        Assert.True(v.Code == 0, v.Out + v.Err);
        Assert.Contains("md5", v.Out);
        Assert.Contains("sha1", v.Out);
    }

    [Fact]
    public void ADamagedChunkIsReportedByCheckAndFailsReads()
    {
        var media = EwfTestMedia.Mixed(8 * 32768, seed: 6);
        string path = _dir.File("d.Ex01");
        Ewf2Builder.Write(path, media, new Ewf2Builder.Options { Compress = false });
        var bytes = File.ReadAllBytes(path);
        bytes[4096] ^= 0xff; // inside the first chunk's data
        File.WriteAllBytes(path, bytes);
        using var image = EwfImage.Open(path);
        var result = image.Check(CheckRepair.None);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(result.Messages, m => m.Contains("chunk 0", StringComparison.Ordinal));
        Assert.Throws<CorruptImageException>(() => image.Read(0, new byte[512]));
    }
}
