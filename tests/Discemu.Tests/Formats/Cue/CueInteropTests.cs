using System.Text.RegularExpressions;
using Discemu.Formats;
using Discemu.Formats.Cue;
using Discemu.Tests.Cli;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Formats.Cue;

/// <summary>Interop with bchunk (extraction byte for byte), cd-info (the track list) and chdman (the ECC).</summary>
public sealed partial class CueInteropTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("MODE1/2352")]
    [InlineData("MODE2/2352")]
    public void ExtractedTracksAreByteIdenticalToBchunks(string mode)
    {
        PeerTools.Require("bchunk");
        var iso = CueTestKit.MakeIso(_dir);
        string cue = CueTestKit.SingleBin(_dir, iso, out _, out _, mode);
        string theirs = Path.Join(_dir.PathName, "bchunk");
        Directory.CreateDirectory(theirs);
        PeerTools.RunOk("bchunk", "-w", _dir.File("disc.bin"), cue, Path.Join(theirs, "track"));
        string ours = Path.Join(_dir.PathName, "ours");
        var (code, _, err) = CliHarness.Run("tracks", cue, "--extract", ours);
        Assert.True(code == 0, err);
        string[] names = ["track01.iso", "track02.wav", "track03.wav"];
        Assert.Equal(names, Directory.GetFiles(theirs).Select(Path.GetFileName).Order());
        Assert.Equal(names, Directory.GetFiles(ours).Select(Path.GetFileName).Order());
        foreach (var name in names)
            Assert.True(File.ReadAllBytes(Path.Join(theirs, name)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Join(ours, name))), name);
        Assert.Equal(iso, File.ReadAllBytes(Path.Join(ours, "track01.iso")));
    }

    [Fact]
    public void MotorolaAudioMatchesBchunkWithSwapping()
    {
        PeerTools.Require("bchunk");
        var pcm = CueTestKit.Audio(30, 11);
        File.WriteAllBytes(_dir.File("m.bin"), CueTestKit.Swap(pcm));
        string cue = _dir.File("m.cue");
        File.WriteAllText(cue, "FILE \"m.bin\" MOTOROLA\n  TRACK 01 AUDIO\n    INDEX 01 00:00:00\n  TRACK 02 AUDIO\n    INDEX 01 00:00:12\n");
        PeerTools.RunOk("bchunk", "-w", "-s", _dir.File("m.bin"), cue, _dir.File("b"));
        using var cd = (CueImage)ImageOpener.Default.Open(cue);
        foreach (var t in cd.Tracks)
        {
            using var ms = new MemoryStream();
            cd.ExtractTrack(t, ms);
            Assert.Equal(File.ReadAllBytes(_dir.File($"b{t.Number:00}.wav")), ms.ToArray());
        }
    }

    [GeneratedRegex(@"^\s*(\d+): (\d\d:\d\d:\d\d)\s+(\d+) (data|audio|leadout)", RegexOptions.Multiline)]
    private static partial Regex CdInfoTrack();

    [Fact]
    public void TrackListMatchesCdInfo()
    {
        PeerTools.Require("cd-info");
        var iso = CueTestKit.MakeIso(_dir);
        string cue = CueTestKit.SingleBin(_dir, iso, out _, out _);
        var output = PeerTools.RunOk("cd-info", "--no-header", "--no-device-info", "-q", "--cue-file", cue);
        var theirs = CdInfoTrack().Matches(output).Select(m => (int.Parse(m.Groups[1].Value), m.Groups[2].Value, long.Parse(m.Groups[3].Value), m.Groups[4].Value)).ToList();
        using var cd = (CueImage)ImageOpener.Default.Open(cue);
        var last = cd.Tracks[^1];
        var ours = cd.Tracks.Select(t => (t.Number, Msf.FormatLba(t.Start), t.Start, t.IsData ? "data" : "audio"))
            .Append((170, Msf.FormatLba(last.Start + last.Length), last.Start + last.Length, "leadout")).ToList();
        Assert.Equal(theirs, ours);
    }

    [Fact]
    public void ChdmanRecognisesTheEncodersEccAsValid()
    {
        // chdman's CD codecs drop the sync, header-derived and ECC bytes of every Mode 1 sector whose ECC its own
        // generator reproduces, so a track of random data shrinks by about 12% only when the ECC is right.
        PeerTools.Require("chdman");
        var rng = new Random(12);
        var user = new byte[300 * 2048];
        rng.NextBytes(user);
        var good = CdSectorEncoder.Mode1Image(user);
        var bad = (byte[])good.Clone();
        for (int s = 0; s < 300; s++) bad[s * 2352 + 2300] ^= 0xFF;
        long Size(string name, byte[] bin)
        {
            File.WriteAllBytes(_dir.File(name + ".bin"), bin);
            File.WriteAllText(_dir.File(name + ".cue"), $"FILE \"{name}.bin\" BINARY\n  TRACK 01 MODE1/2352\n    INDEX 01 00:00:00\n");
            PeerTools.RunOk("chdman", "createcd", "-i", _dir.File(name + ".cue"), "-o", _dir.File(name + ".chd"), "-f");
            return new FileInfo(_dir.File(name + ".chd")).Length;
        }
        long goodSize = Size("good", good), badSize = Size("bad", bad);
        Assert.True(goodSize < good.Length * 0.92, $"valid ECC: {goodSize} of {good.Length}");
        Assert.True(badSize > good.Length * 0.97, $"broken ECC: {badSize} of {good.Length}");
        // And chdman's extraction (which regenerates what it dropped) gives back our sectors.
        PeerTools.RunOk("chdman", "extractcd", "-i", _dir.File("good.chd"), "-o", _dir.File("back.cue"), "-ob", _dir.File("back.bin"), "-f");
        Assert.Equal(good, File.ReadAllBytes(_dir.File("back.bin")));
    }
}
