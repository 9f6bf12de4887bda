using Discemu.Formats;
using Discemu.Formats.Ewf;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Formats.Ewf;

/// <summary>Sets written by <see cref="EwfWriter"/> checked with libewf's tools: ewfverify, ewfinfo, ewfexport.</summary>
public sealed class EwfWriterInteropTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string Line(string output, string label)
        => output.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith(label, StringComparison.Ordinal))?[label.Length..].Trim()
           ?? throw new Xunit.Sdk.XunitException($"'{label}' not in:\n{output}");

    [Theory]
    [InlineData(EwfCompression.None, 0L, 64)]
    [InlineData(EwfCompression.Fast, 0L, 64)]
    [InlineData(EwfCompression.Best, 0L, 64)]
    [InlineData(EwfCompression.None, 1L << 20, 64)]
    [InlineData(EwfCompression.Fast, 1L << 20, 16)]
    [InlineData(EwfCompression.Best, 1L << 20, 128)]
    public void EwfverifyAcceptsOurSetsAndReportsOurHashes(EwfCompression compression, long segmentSize, int sectorsPerChunk)
    {
        PeerTools.Require("ewfverify");
        var media = EwfTestMedia.Mixed(3 * 1024 * 1024 + 7 * 512);
        string path = _dir.File("set.E01");
        var options = new EwfWriterOptions
        {
            MediaSize = media.Length,
            Compression = compression,
            SectorsPerChunk = sectorsPerChunk,
            SegmentSize = segmentSize > 0 ? segmentSize : EwfWriterOptions.DefaultSegmentSize,
        };
        var hashes = EwfTestMedia.WriteSet(path, media, options, errors: [(70_000, 5000), (2_000_000, 512)]);
        Assert.Equal(EwfTestMedia.Md5(media), EwfTestMedia.Hex(hashes.Md5!));
        Assert.Equal(EwfTestMedia.Sha1(media), EwfTestMedia.Hex(hashes.Sha1!));
        int segments = Directory.GetFiles(_dir.PathName, "set.E*").Length;
        long total = Directory.GetFiles(_dir.PathName, "set.E*").Sum(f => new FileInfo(f).Length);
        if (segmentSize > 0) Assert.True(segments >= (total + segmentSize - 1) / segmentSize && (compression != EwfCompression.None || segments >= 3), $"{segments} segments");
        else Assert.Equal(1, segments);
        foreach (var f in Directory.GetFiles(_dir.PathName, "set.E*")) Assert.True(new FileInfo(f).Length <= options.SegmentSize);

        var output = PeerTools.RunOk("ewfverify", "-q", "-d", "sha1", path);
        Assert.Contains("ewfverify: SUCCESS", output);
        Assert.Equal(EwfTestMedia.Md5(media), Line(output, "MD5 hash stored in file:"));
        Assert.Equal(EwfTestMedia.Md5(media), Line(output, "MD5 hash calculated over data:"));
        Assert.Equal(EwfTestMedia.Sha1(media), Line(output, "SHA1 hash stored in file:"));

        using var image = EwfImage.Open(path);
        Assert.Equal(media, EwfTestMedia.ReadAll(image));
        Assert.Equal(0, image.Check(CheckRepair.None).ExitCode);
    }

    [Fact]
    public void EwfinfoShowsOurCaseMetadataAndErrorRanges()
    {
        PeerTools.Require("ewfinfo");
        var media = EwfTestMedia.Mixed(1024 * 1024);
        string path = _dir.File("case.E01");
        EwfTestMedia.WriteSet(path, media, new EwfWriterOptions
        {
            MediaSize = media.Length,
            Compression = EwfCompression.Fast,
            CaseNumber = "2024-117",
            Description = "USB stick from desk",
            ExaminerName = "J. Examiner",
            EvidenceNumber = "EV-0042",
            Notes = "seized at 10:42",
            SoftwareVersion = "9.9.9",
            OperatingSystem = "TestOS",
            MediaType = EwfMediaType.Removable,
            IsPhysical = false,
        }, errors: [(1024, 1024), (512 * 100, 512 * 3)]);
        var output = PeerTools.RunOk("ewfinfo", path);
        Assert.Equal("2024-117", Line(output, "Case number:"));
        Assert.Equal("USB stick from desk", Line(output, "Description:"));
        Assert.Equal("J. Examiner", Line(output, "Examiner name:"));
        Assert.Equal("EV-0042", Line(output, "Evidence number:"));
        Assert.Equal("seized at 10:42", Line(output, "Notes:"));
        Assert.Equal("TestOS", Line(output, "Operating system used:"));
        Assert.Equal("9.9.9", Line(output, "Software version used:"));
        Assert.Equal("EnCase 6", Line(output, "File format:"));
        Assert.Equal("removable disk", Line(output, "Media type:"));
        Assert.Equal("no", Line(output, "Is physical:"));
        Assert.Equal("good (fast) compression", Line(output, "Compression level:"));
        Assert.Equal("2048", Line(output, "Number of sectors:"));
        // ewfinfo lists each error2 range as "at sector(s): first - last number: count".
        Assert.Contains("sector(s): 2 - 3 number: 2", output);
        Assert.Contains("sector(s): 100 - 102 number: 3", output);
        using var image = EwfImage.Open(path);
        Assert.Equal([new EwfErrorRange(2, 2), new EwfErrorRange(100, 3)], image.AcquisitionErrors);
        Assert.Equal("2024-117", image.CaseInfo.CaseNumber);
    }

    [Theory]
    [InlineData("none")]
    [InlineData("fast")]
    [InlineData("best")]
    public void EwfexportOfAConvertedSetGivesTheSourceBytes(string compression)
    {
        PeerTools.Require("ewfexport");
        var media = EwfTestMedia.Mixed(2 * 1024 * 1024 + 4096, seed: 3);
        string src = EwfTestMedia.WriteFile(_dir.File("src.raw"), media);
        string dst = _dir.File("conv.E01");
        var result = Cli.CliHarness.Run("convert", "-O", "ewf", "-o", $"compression={compression},segment_size=1M,case_number=CN,examiner=EX", src, dst);
        Assert.True(result.Code == 0, result.Err);
        PeerTools.RunOk("ewfexport", "-u", "-q", "-f", "raw", "-t", _dir.File("out"), dst);
        Assert.Equal(media, File.ReadAllBytes(_dir.File("out.raw")));
        var info = PeerTools.RunOk("ewfinfo", dst);
        Assert.Equal("CN", Line(info, "Case number:"));
        Assert.Equal("EX", Line(info, "Examiner name:"));
    }
}
