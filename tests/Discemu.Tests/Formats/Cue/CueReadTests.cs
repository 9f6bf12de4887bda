using Discemu.Formats;
using Discemu.Formats.Cue;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Formats.Cue;

/// <summary>BIN/CUE images built from a genisoimage ISO: the data track reads back as the ISO, the tracks are laid out as the sheet says.</summary>
public sealed class CueReadTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static byte[] ReadAll(DiskImage image)
    {
        var all = new byte[image.Length];
        image.Read(0, all);
        return all;
    }

    [Theory]
    [InlineData("MODE1/2352")]
    [InlineData("MODE2/2352")]
    [InlineData("MODE1/2048")]
    public void DataTrackReadsAsTheIsoAndTracksAreLaidOut(string mode)
    {
        var iso = CueTestKit.MakeIso(_dir);
        string cue = CueTestKit.SingleBin(_dir, iso, out _, out _, mode);
        using var image = ImageOpener.Default.Open(cue);
        Assert.Equal("cue", image.Format.Name);
        var cd = Assert.IsType<CueImage>(image);
        Assert.Equal(iso.Length, image.Length);
        Assert.Equal(iso, ReadAll(image));
        // Unaligned reads across sector boundaries.
        var part = new byte[5000];
        image.Read(2048 * 17 + 100, part);
        Assert.Equal(iso.AsSpan(2048 * 17 + 100, 5000).ToArray(), part);

        long n = iso.Length / 2048;
        Assert.Equal([1, 2, 3], cd.Tracks.Select(t => t.Number));
        Assert.Equal(mode, cd.Tracks[0].ModeName);
        Assert.Equal((0L, n, 0L), (cd.Tracks[0].Start, cd.Tracks[0].Length, cd.Tracks[0].Pregap));
        Assert.Equal((n + 10, (long)CueTestKit.AudioSectors, 10L), (cd.Tracks[1].Start, cd.Tracks[1].Length, cd.Tracks[1].Pregap));
        Assert.Equal([new CueIndex(0, n), new CueIndex(1, n + 10)], cd.Tracks[1].Indexes);
        Assert.Equal((n + 10 + CueTestKit.AudioSectors, CueTestKit.AudioSectors / 2L), (cd.Tracks[2].Start, cd.Tracks[2].Length));
        Assert.Equal(1, cd.DataTrack!.Number);
    }

    [Fact]
    public void SeveralFilesWithPregapPostgapMotorolaAndWave()
    {
        var iso = CueTestKit.MakeIso(_dir);
        string cue = CueTestKit.MultiFile(_dir, iso, out var audio2, out var audio3);
        using var cd = Assert.IsType<CueImage>(ImageOpener.Default.Open(cue));
        Assert.Equal(iso, ReadAll(cd));
        long n = iso.Length / 2048;
        var t = cd.Tracks;
        Assert.Equal(3, cd.Sheet.Files.Count);
        Assert.Equal([CueFileType.Binary, CueFileType.Motorola, CueFileType.Wave], cd.Sheet.Files.Select(f => f.Type));
        Assert.Equal((0L, n, 150L), (t[0].Start, t[0].Length, t[0].Postgap));
        // Track 2: after track 1's POSTGAP and its own 2-second PREGAP (neither stored).
        Assert.Equal((n + 300, 40L, 150L, 150L), (t[1].Start, t[1].Length, t[1].Pregap, t[1].SilentPregap));
        // Track 3: INDEX 00 right after track 2, INDEX 01 five sectors later (stored in the WAVE file).
        Assert.Equal([new CueIndex(0, n + 340), new CueIndex(1, n + 345)], t[2].Indexes);
        Assert.Equal((n + 345, 40L, 5L), (t[2].Start, t[2].Length, t[2].Pregap));
        Assert.EndsWith("audio.bin", cd.FilePaths[1], StringComparison.Ordinal); // "AUDIO.BIN" found ignoring case

        using var wav2 = new MemoryStream();
        cd.ExtractTrack(t[1], wav2);
        Assert.Equal(44 + audio2.Length, wav2.Length);
        Assert.Equal(audio2, wav2.ToArray()[44..]); // MOTOROLA samples come out little-endian
        using var wav3 = new MemoryStream();
        cd.ExtractTrack(t[2], wav3);
        Assert.Equal(audio3, wav3.ToArray()[44..]);
        using var data = new MemoryStream();
        cd.ExtractTrack(t[0], data);
        Assert.Equal(iso, data.ToArray());
    }

    [Fact]
    public void Mode2HeaderlessSectorsReadAndCheck()
    {
        var iso = CueTestKit.MakeIso(_dir);
        var raw = CdSectorEncoder.Form1Image(iso);
        int n = raw.Length / 2352;
        var headerless = new byte[n * 2336];
        for (int i = 0; i < n; i++) raw.AsSpan(i * 2352 + 16, 2336).CopyTo(headerless.AsSpan(i * 2336));
        headerless[7 * 2336 + 100] ^= 1;
        File.WriteAllBytes(_dir.File("xa.bin"), headerless);
        string cue = _dir.File("xa.cue");
        File.WriteAllText(cue, "FILE \"xa.bin\" BINARY\n  TRACK 01 MODE2/2336\n    INDEX 01 00:00:00\n");
        using var cd = Assert.IsType<CueImage>(ImageOpener.Default.Open(cue));
        var expected = (byte[])iso.Clone();
        expected[7 * 2048 + 100 - 8] ^= 1;
        Assert.Equal(expected, ReadAll(cd));
        var r = cd.Check(CheckRepair.None);
        Assert.Equal(1, r.Corruptions);
        Assert.Contains(r.Messages, m => m.StartsWith("ERROR sector LBA 7 (MSF 00:02:07), track 1: EDC mismatch (Form 1)", StringComparison.Ordinal));
    }

    [Fact]
    public void ConcurrentReadsAgree()
    {
        var iso = CueTestKit.MakeIso(_dir);
        string cue = CueTestKit.SingleBin(_dir, iso, out _, out _, "MODE2/2352");
        using var cd = ImageOpener.Default.Open(cue);
        Parallel.For(0, 200, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            var rng = new Random(i);
            long offset = rng.NextInt64(iso.Length - 1);
            var buffer = new byte[(int)Math.Min(iso.Length - offset, rng.Next(1, 20000))];
            cd.Read(offset, buffer);
            Assert.True(iso.AsSpan((int)offset, buffer.Length).SequenceEqual(buffer));
        });
    }

    [Fact]
    public void BareBinOfRawSectorsOpensAsOneDataTrack()
    {
        var iso = CueTestKit.MakeIso(_dir);
        string bin = _dir.File("plain.bin");
        File.WriteAllBytes(bin, CdSectorEncoder.Form1Image(iso));
        using var cd = Assert.IsType<CueImage>(ImageOpener.Default.Open(bin));
        Assert.True(cd.IsBareBin);
        Assert.Equal(CdTrackMode.Mode2Raw, Assert.Single(cd.Tracks).Mode);
        Assert.Equal(iso, ReadAll(cd));
    }

    [Fact]
    public void MissingFileIsNamed()
    {
        string cue = _dir.File("lost.cue");
        File.WriteAllText(cue, "FILE \"gone.bin\" BINARY\n TRACK 01 MODE1/2352\n  INDEX 01 00:00:00\n");
        var e = Assert.Throws<ImageAccessException>(() => ImageOpener.Default.Open(cue));
        Assert.Contains("gone.bin", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("TRACK 01 AUDIO\n INDEX 01 00:00:00\n", "before any FILE")]
    [InlineData("FILE \"a.bin\" BINARY\n TRACK 01 AUDIO\n INDEX 01 00:60:00\n", "bad time")]
    [InlineData("FILE \"a.bin\" BINARY\n TRACK 01 AUDIO\n INDEX 00 00:00:00\n", "no INDEX 01")]
    [InlineData("FILE \"a.bin\" BINARY\n TRACK 02 AUDIO\n INDEX 01 00:00:00\n TRACK 02 AUDIO\n INDEX 01 00:00:01\n", "must increase")]
    [InlineData("FILE \"a.bin\" BINARY\n TRACK 01 AUDIO\n INDEX 01 00:00:09\n TRACK 02 AUDIO\n INDEX 01 00:00:01\n", "goes back")]
    [InlineData("FILE \"a.bin\" BINARY\n TRACK 01 AUDIO\n INDEX 01 00:00:00\n INDEX 03 00:00:01\n", "out of order")]
    [InlineData("FILE \"a.bin\" BINARY\n TRACK 01 AUDIO\n INDEX 01 00:00:00\n PREGAP 00:02:00\n", "PREGAP must come")]
    [InlineData("FILE \"a.bin\" BINARY\n TRACK 01 MODE3/2352\n INDEX 01 00:00:00\n", "unknown track mode")]
    [InlineData("FILE \"a.bin\" BINARY\nBOGUS 1\n", "unknown command")]
    [InlineData("FILE \"a.bin\" BINARY\n", "no TRACK")]
    [InlineData("FILE \"a.bin BINARY\n", "unterminated")]
    public void MalformedSheetsAreCorrupt(string sheet, string expected)
    {
        var e = Assert.Throws<CorruptImageException>(() => CueSheet.Parse(System.Text.Encoding.ASCII.GetBytes(sheet), "x.cue"));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("FILE \"a.mp3\" MP3\n TRACK 01 AUDIO\n INDEX 01 00:00:00\n")]
    [InlineData("FILE \"a.bin\" BINARY\n TRACK 01 CDG\n INDEX 01 00:00:00\n")]
    public void UnsupportedFeaturesAreSaidSo(string sheet)
        => Assert.Throws<UnsupportedFeatureException>(() => CueSheet.Parse(System.Text.Encoding.ASCII.GetBytes(sheet), "x.cue"));

    [Fact]
    public void IndexPastTheEndOfItsFileIsCorrupt()
    {
        var sheet = CueSheet.Parse("FILE a BINARY\nTRACK 01 MODE1/2352\nINDEX 01 00:00:00\nTRACK 02 AUDIO\nINDEX 01 00:01:00\n"u8, null);
        Assert.Throws<CorruptImageException>(() => sheet.Layout([2352L * 10], null));
        var tracks = sheet.Layout([2352L * 100], null);
        Assert.Equal((75L, 25L), (tracks[1].Start, tracks[1].Length));
    }

    [Fact]
    public void ProbeRecognisesSheetsAndRawSectorsOnly()
    {
        var f = CueFormat.Instance;
        Assert.Equal(100, f.Probe("REM GENRE Rock\r\nPERFORMER \"x\"\r\nFILE \"a.bin\" BINARY\r\n  TRACK 01 AUDIO\r\n"u8, 80));
        Assert.Equal(0, f.Probe("FILE \"a.bin\" BINARY\nhello world\n"u8, 30));
        Assert.Equal(0, f.Probe("#!/bin/sh\necho FILE TRACK\n"u8, 26));
        Assert.Equal(0, f.Probe(new byte[512], 512));
        var sector = CdSectorEncoder.Mode1(new byte[2048], 0);
        Assert.Equal(60, f.Probe(sector, 2352 * 4));
        Assert.Equal(0, f.Probe(sector, 2352 * 4 + 1));
    }
}
