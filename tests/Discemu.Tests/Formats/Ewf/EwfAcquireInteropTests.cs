using Discemu.Formats;
using Discemu.Formats.Ewf;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Formats.Ewf;

/// <summary>Sets written by ewfacquire in every format it offers read back identically to the source.</summary>
public sealed class EwfAcquireInteropTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string, string> Variants()
    {
        var data = new TheoryData<string, string>();
        string[] formats = ["ewf", "smart", "ftk", "encase2", "encase3", "encase4", "encase5", "encase6", "encase7", "linen5", "linen6", "linen7", "ewfx"];
        string[] levels = ["none", "fast", "best"];
        // Every format once (the compression levels rotate), and every level for the EnCase 6 and SMART layouts.
        var rows = new HashSet<(string, string)>();
        for (int i = 0; i < formats.Length; i++) rows.Add((formats[i], levels[i % 3]));
        foreach (var f in new[] { "encase6", "smart" })
            foreach (var c in levels) rows.Add((f, c));
        foreach (var (f, c) in rows) data.Add(f, c);
        return data;
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void ReadsWhatEwfacquireWrites(string format, string compression)
    {
        PeerTools.Require("ewfacquire");
        var media = EwfTestMedia.Mixed(1024 * 1024 + 3 * 512, seed: format.Length);
        string src = EwfTestMedia.WriteFile(_dir.File("src.raw"), media);
        PeerTools.RunOk("ewfacquire", "-u", "-q", "-f", format, "-c", compression, "-d", "sha1", "-C", "case-" + format, "-e", "examiner", "-t", _dir.File("acq"), src);
        string first = Directory.GetFiles(_dir.PathName, "acq.*").Single(f => f.EndsWith("01", StringComparison.Ordinal));
        using var image = ImageOpener.Default.Open(first);
        var ewf = Assert.IsType<EwfImage>(image);
        Assert.Equal(media.Length, image.Length);
        Assert.Equal(media, EwfTestMedia.ReadAll(image));
        Assert.Equal(EwfTestMedia.Md5(media), EwfTestMedia.Hex(ewf.StoredMd5!));
        if (ewf.StoredSha1 is { } sha1) Assert.Equal(EwfTestMedia.Sha1(media), EwfTestMedia.Hex(sha1));
        if (format is not ("ewf" or "smart" or "ewfx")) Assert.Equal("case-" + format, ewf.CaseInfo.CaseNumber);
        Assert.Equal(0, ewf.Check(CheckRepair.None).ExitCode);
    }

    [Theory]
    [InlineData("encase6", "none")]
    [InlineData("encase6", "best")]
    [InlineData("encase5", "fast")]
    [InlineData("smart", "fast")]
    public void ReadsSegmentedSetsFromAnySegment(string format, string compression)
    {
        PeerTools.Require("ewfacquire");
        var media = EwfTestMedia.Mixed(4 * 1024 * 1024, seed: 11);
        for (int i = 0; i < media.Length; i += 4096) media[i] ^= 0x5a; // make it compress less, so it spans segments
        string src = EwfTestMedia.WriteFile(_dir.File("src.raw"), media);
        PeerTools.RunOk("ewfacquire", "-u", "-q", "-f", format, "-c", compression, "-S", "1048576", "-t", _dir.File("seg"), src);
        var files = Directory.GetFiles(_dir.PathName, "seg.*").Order(StringComparer.Ordinal).ToList();
        Assert.True(files.Count >= 2, $"{files.Count} segments");
        using var image = ImageOpener.Default.Open(files[^1]);
        var ewf = Assert.IsType<EwfImage>(image);
        Assert.Equal(files.Count, ewf.SegmentFiles.Count);
        Assert.Equal(media, EwfTestMedia.ReadAll(image));
    }

    [Fact]
    public void AMissingSegmentIsNamedInTheError()
    {
        PeerTools.Require("ewfacquire");
        var media = EwfTestMedia.Mixed(3 * 1024 * 1024, seed: 5);
        string src = EwfTestMedia.WriteFile(_dir.File("src.raw"), media);
        PeerTools.RunOk("ewfacquire", "-u", "-q", "-c", "none", "-S", "1048576", "-t", _dir.File("gap"), src);
        File.Delete(_dir.File("gap.E02"));
        var e = Assert.Throws<ImageAccessException>(() => ImageOpener.Default.Open(_dir.File("gap.E01")));
        Assert.EndsWith("gap.E02", e.ImagePath);
        File.Delete(_dir.File("gap.E01"));
        var first = Assert.Throws<ImageAccessException>(() => ImageOpener.Default.Open(_dir.File("gap.E03")));
        Assert.EndsWith("gap.E01", first.ImagePath);
    }
}
