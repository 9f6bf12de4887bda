using System.Buffers.Binary;
using System.Text;
using Discemu.Formats;
using Discemu.Formats.Ewf;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Formats.Ewf;

/// <summary><c>check</c> on damaged sets: bad chunks, a damaged table that falls back to table2.</summary>
public sealed class EwfCheckTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private (string Path, byte[] Media) Write(EwfCompression compression)
    {
        var media = EwfTestMedia.Mixed(64 * 4096, seed: 8);
        string path = _dir.File("c.E01");
        EwfTestMedia.WriteSet(path, media, new EwfWriterOptions { MediaSize = 0, SectorsPerChunk = 8, Compression = compression });
        return (path, media);
    }

    private static int Section(byte[] file, string type)
    {
        var name = Encoding.ASCII.GetBytes(type);
        for (long off = 13; off + 76 <= file.Length;)
        {
            if (file.AsSpan((int)off, name.Length).SequenceEqual(name) && file[off + name.Length] == 0) return (int)off;
            long next = BinaryPrimitives.ReadInt64LittleEndian(file.AsSpan((int)off + 16));
            if (next <= off) break;
            off = next;
        }
        throw new InvalidOperationException($"no {type} section");
    }

    [Theory]
    [InlineData(EwfCompression.None)]
    [InlineData(EwfCompression.Best)]
    public void ADamagedChunkIsFoundByCheck(EwfCompression compression)
    {
        var (path, _) = Write(compression);
        var bytes = File.ReadAllBytes(path);
        int sectors = Section(bytes, "sectors");
        bytes[sectors + 76 + 3 * 4096 + 100] ^= 0x40; // inside the fourth stored chunk or so
        File.WriteAllBytes(path, bytes);
        using var image = EwfImage.Open(path);
        var result = image.Check(CheckRepair.None);
        Assert.Equal(2, result.ExitCode);
        Assert.Single(result.Messages);
        var r = Cli.CliHarness.Run("check", path);
        Assert.Equal(2, r.Code);
        Assert.Contains("ERROR chunk", r.Err);
    }

    [Fact]
    public void ADamagedTableFallsBackToTable2AndCheckSaysSo()
    {
        var (path, media) = Write(EwfCompression.Fast);
        var bytes = File.ReadAllBytes(path);
        int table = Section(bytes, "table");
        bytes[table + 76 + 24 + 8] ^= 0xff; // an entry: the entries checksum no longer matches
        File.WriteAllBytes(path, bytes);
        using var image = EwfImage.Open(path);
        Assert.Equal(media, EwfTestMedia.ReadAll(image));
        var result = image.Check(CheckRepair.None);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(result.Messages, m => m.Contains("table2", StringComparison.Ordinal));
    }

    [Fact]
    public void BothTablesDamagedIsCorrupt()
    {
        var (path, _) = Write(EwfCompression.Fast);
        var bytes = File.ReadAllBytes(path);
        bytes[Section(bytes, "table") + 76 + 24 + 8] ^= 0xff;
        bytes[Section(bytes, "table2") + 76 + 24 + 8] ^= 0xff;
        File.WriteAllBytes(path, bytes);
        Assert.Throws<CorruptImageException>(() => EwfImage.Open(path));
        Cli.CliHarness.AssertOneLineError(Cli.CliHarness.Run("info", path));
    }

    [Fact]
    public void ATruncatedSegmentIsCorrupt()
    {
        var (path, _) = Write(EwfCompression.None);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<CorruptImageException>(() => EwfImage.Open(path));
        Assert.Contains("truncated", e.Message);
    }
}
