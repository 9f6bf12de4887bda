using Discemu.Tests.Formats.Cue;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Robustness;

/// <summary>
/// Damaged CUE sheets (next to an intact BIN) and damaged bare .bin files must open, read and check, or fail with a
/// typed error — never crash, hang or allocate without bound. Mutations favour the whole sheet (it is all
/// metadata), and in a bare .bin the sync, header and subheader bytes of the first sectors.
/// </summary>
public sealed class CueMutationTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("MODE1/2352")]
    [InlineData("MODE2/2352")]
    [InlineData("MODE1/2048")]
    public void MutatedCueSheetsFailTypedNeverCrash(string mode)
    {
        var iso = CueTestKit.MakeIso(_dir);
        string cue = CueTestKit.SingleBin(_dir, iso, out _, out _, mode);
        MutationHarness.AssertPristineOpens(cue, "cue");
        var seed = File.ReadAllBytes(cue);
        // The mutated sheet sits next to the pristine disc.bin it names.
        MutationHarness.Run(_dir, $"cue-{mode.Replace('/', '-')}", seed, MutationHarness.Iterations(60), "case.cue", [(0, seed.Length)]);
    }

    [Fact]
    public void MutatedMultiFileSheetsFailTypedNeverCrash()
    {
        var iso = CueTestKit.MakeIso(_dir);
        string cue = CueTestKit.MultiFile(_dir, iso, out _, out _);
        MutationHarness.AssertPristineOpens(cue, "cue");
        var seed = File.ReadAllBytes(cue);
        MutationHarness.Run(_dir, "cue-multi", seed, MutationHarness.Iterations(60), "case.cue", [(0, seed.Length)]);
    }

    [Fact]
    public void MutatedWaveAndBareBinFilesFailTypedNeverCrash()
    {
        var iso = CueTestKit.MakeIso(_dir);
        var bin = CdSectorEncoder.Form1Image(iso);
        string pristine = _dir.File("pristine.bin");
        File.WriteAllBytes(pristine, bin);
        MutationHarness.AssertPristineOpens(pristine, "cue");
        var hot = Enumerable.Range(0, 20).Select(i => ((long)i * 2352, 24L)).ToList();
        MutationHarness.Run(_dir, "cue-bare-bin", bin, MutationHarness.Iterations(30), "case.bin", hot);

        // A WAVE file's RIFF chunks, under an intact sheet (the sheet is what gets opened).
        var wav = CueTestKit.Wave(CueTestKit.Audio(20, 1));
        string sheet = _dir.File("w.cue");
        File.WriteAllText(sheet, "FILE \"w.wav\" WAVE\n  TRACK 01 AUDIO\n    INDEX 01 00:00:00\n  TRACK 02 AUDIO\n    INDEX 01 00:00:10\n");
        File.WriteAllBytes(_dir.File("w.wav"), wav);
        using (var pristineWave = (Discemu.Formats.Cue.CueImage)Discemu.Formats.ImageOpener.Default.Open(sheet))
            Assert.Equal(2, pristineWave.Tracks.Count);
        for (int i = 0; i < MutationHarness.Iterations(30); i++)
        {
            var log = new List<string>();
            File.WriteAllBytes(_dir.File("w.wav"), new Mutator(new Random(7000 + i)).Mutate(wav, [(0, 80)], log));
            try
            {
                using var image = (Discemu.Formats.Cue.CueImage)Discemu.Formats.ImageOpener.Default.Open(sheet);
                foreach (var t in image.Tracks) image.ExtractTrack(t, Stream.Null);
            }
            catch (DiscemuException) { }
        }
    }

    /// <summary>
    /// Word-level mutations of CUE sheets (swap, drop or repeat lines; replace a word by a keyword, mode, number or
    /// time) through the fuzz target, whose layout invariants (tracks in disc order, inside their files, indexes
    /// ascending) turn a wrong layout into a failure, not only a crash.
    /// </summary>
    [Fact]
    public void WordMutatedSheetsKeepTheLayoutInvariants()
    {
        string[] words =
        [
            "FILE", "TRACK", "INDEX", "PREGAP", "POSTGAP", "REM", "FLAGS", "AUDIO", "MODE1/2048", "MODE1/2352", "MODE2/2336",
            "MODE2/2352", "BINARY", "MOTOROLA", "WAVE", "00", "01", "02", "99", "100", "00:00:00", "00:00:01", "00:02:00",
            "99:59:74", "999:59:74", "01:00:00", "\"a b.bin\"", "\"", "",
        ];
        var sheets = new[]
        {
            "FILE \"disc.bin\" BINARY\n  TRACK 01 MODE1/2352\n    INDEX 01 00:00:00\n  TRACK 02 AUDIO\n    INDEX 00 00:02:00\n    INDEX 01 00:04:00\n  TRACK 03 AUDIO\n    INDEX 01 00:09:00\n",
            "FILE a BINARY\nTRACK 01 MODE1/2048\nINDEX 01 00:00:00\nPOSTGAP 00:02:00\nFILE b MOTOROLA\nTRACK 02 MODE2/2336\nPREGAP 00:01:00\nINDEX 01 00:00:00\nINDEX 02 00:00:40\nTRACK 03 AUDIO\nINDEX 00 00:01:00\nINDEX 01 00:01:10\n",
        };
        var rng = new Random(20240602);
        for (int i = 0; i < MutationHarness.Iterations(3000); i++)
        {
            var lines = sheets[i % sheets.Length].Split('\n').ToList();
            for (int m = rng.Next(1, 4); m > 0 && lines.Count > 1; m--)
            {
                int a = rng.Next(lines.Count), b = rng.Next(lines.Count);
                switch (rng.Next(4))
                {
                    case 0: (lines[a], lines[b]) = (lines[b], lines[a]); break;
                    case 1: lines.RemoveAt(a); break;
                    case 2: lines.Insert(b, lines[a]); break;
                    default:
                        var w = lines[a].Split(' ');
                        w[rng.Next(w.Length)] = words[rng.Next(words.Length)];
                        lines[a] = string.Join(' ', w);
                        break;
                }
            }
            var text = System.Text.Encoding.UTF8.GetBytes(string.Join('\n', lines));
            try { Discemu.Fuzz.FuzzTargets.Run("cue-sheet", text); }
            catch (Exception e) { Assert.Fail($"case {i}: {e.GetType().Name}: {e.Message}\n{string.Join('\n', lines)}"); }
        }
    }
}
