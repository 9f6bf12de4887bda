using System.Text.Json;
using Discemu.Tests.Cli;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Formats.Cue;

/// <summary>The CLI over BIN/CUE: info with the track list, convert to an ISO, the ISO 9660 file commands, tracks.</summary>
public sealed class CueCliTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void InfoConvertAndFileCommandsWork()
    {
        var iso = CueTestKit.MakeIso(_dir);
        string cue = CueTestKit.MultiFile(_dir, iso, out _, out _);
        var (code, stdout, err) = CliHarness.Run("info", cue);
        Assert.True(code == 0, err);
        Assert.Contains("file format: cue", stdout, StringComparison.Ordinal);
        Assert.Contains($"virtual size: ", stdout, StringComparison.Ordinal);
        Assert.Contains("mode: MODE1/2352", stdout, StringComparison.Ordinal);

        var (jcode, json, _) = CliHarness.Run("info", "--output=json", cue);
        Assert.Equal(0, jcode);
        var root = JsonDocument.Parse(json).RootElement;
        Assert.Equal(iso.Length, root.GetProperty("virtual-size").GetInt64());
        var tracks = root.GetProperty("format-specific").GetProperty("data").GetProperty("tracks").EnumerateArray().ToList();
        Assert.Equal(["MODE1/2352", "AUDIO", "AUDIO"], tracks.Select(t => t.GetProperty("mode").GetString()));
        Assert.Equal("track3.wav", tracks[2].GetProperty("file").GetString());
        Assert.Equal(2, tracks[2].GetProperty("indexes").GetArrayLength());

        string outIso = _dir.File("out.iso");
        Assert.Equal(0, CliHarness.Run("convert", "-O", "raw", cue, outIso).Code);
        Assert.Equal(iso, File.ReadAllBytes(outIso));

        var (lcode, ls, lerr) = CliHarness.Run("ls", cue + ":/");
        Assert.True(lcode == 0, lerr);
        Assert.Contains("hello.txt", ls, StringComparison.Ordinal);
        using var bytes = new MemoryStream();
        int ccode = Discemu.Cli.Cli.Run(["cat", cue + ":/hello.txt"], new StringWriter(), new StringWriter(), bytes);
        Assert.Equal(0, ccode);
        Assert.Equal("Hello from a CD track.\n"u8.ToArray(), bytes.ToArray());
    }

    [Fact]
    public void TracksListsAndExtractsChosenTracks()
    {
        var iso = CueTestKit.MakeIso(_dir);
        string cue = CueTestKit.MultiFile(_dir, iso, out var audio2, out _);
        var (code, list, _) = CliHarness.Run("tracks", cue);
        Assert.Equal(0, code);
        Assert.Contains("MODE1/2352", list, StringComparison.Ordinal);
        Assert.Contains("AUDIO.BIN", list, StringComparison.Ordinal);
        var (jcode, json, _) = CliHarness.Run("tracks", "--output", "json", cue);
        Assert.Equal(0, jcode);
        var root = JsonDocument.Parse(json).RootElement;
        Assert.Equal(1, root.GetProperty("data-track").GetInt32());
        Assert.Equal(3, root.GetProperty("tracks").GetArrayLength());

        string dir = _dir.File("out");
        var (xcode, _, xerr) = CliHarness.Run("tracks", cue, "-x", dir, "-t", "2", "--prefix", "song");
        Assert.True(xcode == 0, xerr);
        Assert.Equal(["song02.wav"], Directory.GetFiles(dir).Select(Path.GetFileName));
        Assert.Equal(audio2, File.ReadAllBytes(Path.Join(dir, "song02.wav"))[44..]);

        CliHarness.AssertOneLineError(CliHarness.Run("tracks", cue, "-x", dir, "-t", "9"));
        string raw = _dir.File("plain.img");
        File.WriteAllBytes(raw, new byte[4096]);
        CliHarness.AssertOneLineError(CliHarness.Run("tracks", raw));
    }
}
