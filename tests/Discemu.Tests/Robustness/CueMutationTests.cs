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
}
