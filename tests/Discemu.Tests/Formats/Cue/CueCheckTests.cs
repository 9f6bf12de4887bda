using Discemu.Formats;
using Discemu.Formats.Cue;
using Discemu.Tests.Cli;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Formats.Cue;

/// <summary>The EDC/ECC check of raw data sectors: clean images pass, each damaged sector is named by LBA and MSF.</summary>
public sealed class CueCheckTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void EdcMatchesTheCrcCatalogueCheckValue()
    {
        // CRC-32/CD-ROM-EDC: width 32, poly 0x8001801B, reflected, init 0, xorout 0, check("123456789") = 0x6EC2EDC4.
        Assert.Equal(0x6EC2EDC4u, CdSector.Edc("123456789"u8));
        Assert.Equal(0x6EC2EDC4u, CdSectorEncoder.Edc("123456789"u8));
    }

    [Fact]
    public void EncodedSectorsAreValidAndEveryByteMatters()
    {
        var rng = new Random(4);
        var user = new byte[2048];
        rng.NextBytes(user);
        var sector = CdSectorEncoder.Mode1(user, 1234);
        Assert.True(CdSector.EccValid(sector));
        Assert.Equal(CdSector.Edc(sector.AsSpan(0, 2064)), BitConverter.ToUInt32(sector, 2064));
        foreach (int at in new[] { 12, 15, 16, 1000, 2063, 2064, 2075, 2076, 2247, 2248, 2351 })
        {
            var bad = (byte[])sector.Clone();
            bad[at] ^= 0x40;
            Assert.False(CdSector.EccValid(bad), $"byte {at}");
        }
    }

    [Theory]
    [InlineData("MODE1/2352")]
    [InlineData("MODE2/2352")]
    public void CheckReportsExactlyTheDamagedSectors(string mode)
    {
        var iso = CueTestKit.MakeIso(_dir);
        string cue = CueTestKit.SingleBin(_dir, iso, out _, out _, mode);
        using (var clean = (CueImage)ImageOpener.Default.Open(cue))
        {
            var ok = clean.Check(CheckRepair.None);
            Assert.Equal(0, ok.ExitCode);
            Assert.Contains(ok.Messages, m => m.Contains($"Checked {iso.Length / 2048} raw data sectors: 0 damaged", StringComparison.Ordinal));
        }
        var (code, _, _) = CliHarness.Run("check", cue);
        Assert.Equal(0, code);

        string bin = _dir.File("disc.bin");
        using (var fs = new FileStream(bin, FileMode.Open))
        {
            foreach (var (sector, at) in new[] { (20L, 700), (21L, 2300), (33L, 5) })
            {
                fs.Position = sector * 2352 + at;
                int b = fs.ReadByte();
                fs.Position = sector * 2352 + at;
                fs.WriteByte((byte)(b ^ 0x01));
            }
        }
        using (var damaged = (CueImage)ImageOpener.Default.Open(cue))
        {
            var r = damaged.Check(CheckRepair.None);
            Assert.Equal(3, r.Corruptions);
            Assert.Equal(2, r.ExitCode);
            var errors = r.Messages.Where(m => m.StartsWith("ERROR", StringComparison.Ordinal)).ToList();
            Assert.Equal(3, errors.Count);
            Assert.StartsWith("ERROR sector LBA 20 (MSF 00:02:20), track 1:", errors[0], StringComparison.Ordinal);
            Assert.Contains("EDC mismatch", errors[0], StringComparison.Ordinal);
            Assert.StartsWith("ERROR sector LBA 21 (MSF 00:02:21)", errors[1], StringComparison.Ordinal);
            Assert.Contains("ECC mismatch", errors[1], StringComparison.Ordinal);
            Assert.Contains("sync", errors[2], StringComparison.Ordinal);
        }
        var (dcode, dout, derr) = CliHarness.Run("check", cue);
        Assert.Equal(2, dcode);
        Assert.Contains("3 errors were found on the image.", dout, StringComparison.Ordinal);
        Assert.Contains("LBA 33 (MSF 00:02:33)", derr, StringComparison.Ordinal);
    }

    [Fact]
    public void Form2SectorsCheckTheirEdcOnlyWhenPresent()
    {
        var rng = new Random(8);
        var sectors = new List<byte[]>();
        for (int i = 0; i < 6; i++)
        {
            var user = new byte[2324];
            rng.NextBytes(user);
            sectors.Add(CdSectorEncoder.Form2(user, i, edc: i % 2 == 0));
        }
        var form1 = new byte[2048];
        rng.NextBytes(form1);
        sectors.Add(CdSectorEncoder.Form1(form1, 6));
        sectors[4][1000] ^= 0x80; // EDC present: damage detected
        sectors[5][1000] ^= 0x80; // no EDC: cannot be detected
        File.WriteAllBytes(_dir.File("xa.bin"), sectors.SelectMany(s => s).ToArray());
        string cue = _dir.File("xa.cue");
        File.WriteAllText(cue, "FILE \"xa.bin\" BINARY\n  TRACK 01 MODE2/2352\n    INDEX 01 00:00:00\n");
        using var cd = (CueImage)ImageOpener.Default.Open(cue);
        var r = cd.Check(CheckRepair.None);
        Assert.Equal(1, r.Corruptions);
        Assert.Contains(r.Messages, m => m.StartsWith("ERROR sector LBA 4 (MSF 00:02:04), track 1: EDC mismatch (Form 2)", StringComparison.Ordinal));
    }

    [Fact]
    public void CookedTracksHaveNothingToCheck()
    {
        var iso = CueTestKit.MakeIso(_dir);
        string cue = CueTestKit.SingleBin(_dir, iso, out _, out _, "MODE1/2048");
        using var cd = (CueImage)ImageOpener.Default.Open(cue);
        var r = cd.Check(CheckRepair.None);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("Checked 0 raw data sectors: 0 damaged.", r.Messages);
    }
}
