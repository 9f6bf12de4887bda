using Discemu.Tests.Infrastructure;
using static Discemu.Tests.FileSystems.Iso9660.IsoTestKit;
using static Discemu.Tests.FileSystems.Iso9660.Authoring.IsoAuthorKit;

namespace Discemu.Tests.Cli;

/// <summary><c>discemu mkiso</c>: options, graft points, SOURCE_DATE_EPOCH, -O qcow2, boot options in order, errors.</summary>
public sealed class MkisoCommandTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void WritesRawAndQcow2WithTheSameContent()
    {
        string src = MakeSource(_dir, depth: 3);
        string iso = _dir.File("out.iso"), qcow = _dir.File("out.qcow2");
        // Only mkiso reads it, and this class's tests run one at a time.
        Environment.SetEnvironmentVariable("SOURCE_DATE_EPOCH", "1700000000");
        try
        {
            Both(src, iso, qcow);
        }
        finally
        {
            Environment.SetEnvironmentVariable("SOURCE_DATE_EPOCH", null);
        }
    }

    [Fact]
    public void GptAndEfiPartitionShowInPart()
    {
        string src = MakeSource(_dir, depth: 1);
        string esp = _dir.File("esp.img");
        File.WriteAllBytes(esp, new byte[300_000]);
        string iso = _dir.File("gpt.iso");
        var r = CliHarness.Run("mkiso", "-o", iso, "--gpt", "--efi-partition", esp, src);
        Assert.True(r.Code == 0, r.Err);
        r = CliHarness.Run("part", iso);
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("gpt", r.Out, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("EFI System", r.Out);
        r = CliHarness.Run("mkiso", "-o", _dir.File("bad.iso"), "--efi-partition", _dir.File("missing.img"), src);
        Assert.NotEqual(0, r.Code);
        Assert.False(File.Exists(_dir.File("bad.iso")));
    }

    private static void Both(string src, string iso, string qcow)
    {
        var r = CliHarness.Run("mkiso", "-o", iso, "-V", "CLIVOL", "-publisher", "Me", "-m", "*.bin", src, "/extra/readme=" + Path.Join(src, "readme.txt"));
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("Wrote", r.Out);
        r = CliHarness.Run("mkiso", "-O", "qcow2", "-o", qcow, "-V", "CLIVOL", "-publisher", "Me", "-m", "*.bin", src, "/extra/readme=" + Path.Join(src, "readme.txt"));
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("QFI", System.Text.Encoding.ASCII.GetString(File.ReadAllBytes(qcow).AsSpan(0, 3)));
        var (raw, rawFs) = Open(iso);
        var (q, qFs) = Open(qcow);
        using (raw)
        using (rawFs)
        using (q)
        using (qFs)
        {
            Assert.Equal("qcow2", q.Format.Name);
            Assert.Equal(OurLsdl(rawFs), OurLsdl(qFs));
            Assert.Contains("-rw-r--r-- 12000 /extra/readme", OurLsdl(rawFs));
            Assert.DoesNotContain(OurLsdl(rawFs), l => l.StartsWith('-') && l.EndsWith(".bin", StringComparison.Ordinal));
            Assert.Contains(OurLsdl(rawFs), l => l.StartsWith('-') && l.EndsWith("readme.txt", StringComparison.Ordinal));
            Assert.Equal("CLIVOL", rawFs.Info.Single(i => i.Key == "volume-id").Value);
            Assert.Equal(raw.Length, q.Length);
        }
        Assert.Equal(CliHarness.Sha256(iso), Sha256OfDevice(qcow), ignoreCase: true); // the same bytes
    }

    private static string Sha256OfDevice(string path)
    {
        using var image = Discemu.Formats.ImageOpener.Default.Open(path);
        return Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(ReadAll(image))).ToLowerInvariant();
    }

    [Fact]
    public void BootOptionsAreReadInOrder()
    {
        var entries = Discemu.FileSystems.Iso9660.Authoring.IsoBootArguments.Parse(
            ["mkiso", "-o", "-b", "-b", "isolinux.bin", "-no-emul-boot", "-boot-load-size", "4", "-boot-info-table",
             "-eltorito-alt-boot", "-e", "efi.img", "-no-emul-boot", "-eltorito-alt-boot", "-b", "fd.img", "-eltorito-alt-boot", "-b", "hd.img", "-hard-disk-boot", "src"]);
        Assert.Equal(4, entries.Count);
        Assert.Equal(("isolinux.bin", false, 4, true), (entries[0].ImagePath, entries[0].Efi, entries[0].LoadSize, entries[0].BootInfoTable));
        Assert.Equal(Discemu.FileSystems.Iso9660.Authoring.IsoBootEmulation.NoEmulation, entries[0].Emulation);
        Assert.True(entries[1].Efi);
        Assert.Equal(Discemu.FileSystems.Iso9660.Authoring.IsoBootEmulation.Floppy, entries[2].Emulation);
        Assert.Equal(Discemu.FileSystems.Iso9660.Authoring.IsoBootEmulation.HardDisk, entries[3].Emulation);
        Assert.Throws<BadArgumentException>(() => Discemu.FileSystems.Iso9660.Authoring.IsoBootArguments.Parse(["-b", "a", "-b", "b"]));
        Assert.Throws<BadArgumentException>(() => Discemu.FileSystems.Iso9660.Authoring.IsoBootArguments.Parse(["-boot-info-table"]));
    }

    [Fact]
    public void ErrorsAreOneLine()
    {
        string src = MakeSource(_dir, symlinks: false, depth: 1);
        string iso = _dir.File("bad.iso");
        Assert.Contains("does not exist", CliHarness.AssertOneLineError(CliHarness.Run("mkiso", "-o", iso, _dir.File("nope"))));
        Assert.Contains("Name clash", CliHarness.AssertOneLineError(CliHarness.Run("mkiso", "-o", iso, src, "/readme.txt=" + Path.Join(src, "run.sh"))));
        Assert.Contains("floppy", CliHarness.AssertOneLineError(CliHarness.Run("mkiso", "-o", iso, "-b", "readme.txt", src)));
        Assert.Contains("output", CliHarness.AssertOneLineError(CliHarness.Run("mkiso", src)));
        Assert.False(File.Exists(iso));
    }
}
