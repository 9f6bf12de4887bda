using System.Security.Cryptography;
using Discemu.Formats.Ewf;
using Discemu.Tests.Formats.Ewf;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Cli;

public sealed class VerifyCommandTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void VerifiesTheStoredMd5OfARealE01()
    {
        var r = CliHarness.Run("verify", TestData.Real("ext2.split.E01"));
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("md5     computed 196066add11fb71c4c49cf1bb50d6d24  stored (image) 196066add11fb71c4c49cf1bb50d6d24  OK", r.Out);
    }

    [Fact]
    public void ReportsAMismatchWhenTheMediaChanged()
    {
        var media = EwfTestMedia.Mixed(256 * 1024);
        string path = _dir.File("m.E01");
        EwfTestMedia.WriteSet(path, media, new EwfWriterOptions { MediaSize = 0 });
        // Flip a byte of the stored MD5 in the hash and digest sections (fixing their checksums, else they would be unreadable).
        var bytes = File.ReadAllBytes(path);
        foreach (var (name, covered) in new[] { ("hash", 32), ("digest", 76) })
        {
            int at = IndexOf(bytes, System.Text.Encoding.ASCII.GetBytes(name)) + 76;
            bytes[at] ^= 1;
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at + covered), Adler32.Compute(bytes.AsSpan(at, covered)));
        }
        File.WriteAllBytes(path, bytes);
        var r = CliHarness.Run("verify", path);
        Assert.Equal(1, r.Code);
        Assert.Contains("md5", r.Out);
        Assert.Contains("MISMATCH", r.Out);
        Assert.Contains("sha1", r.Out); // the digest section still holds the right SHA-1
        Assert.Contains("OK", r.Out);
    }

    private static int IndexOf(byte[] haystack, byte[] needle)
    {
        for (int i = haystack.Length - needle.Length; i >= 0; i--)
            if (haystack.AsSpan(i, needle.Length).SequenceEqual(needle) && haystack[i + needle.Length] == 0) return i;
        throw new InvalidOperationException("not found");
    }

    [Fact]
    public void UsesTheHashLogBesideARawImage()
    {
        var media = EwfTestMedia.Mixed(300 * 1024);
        string raw = EwfTestMedia.WriteFile(_dir.File("disk.raw"), media);
        string log = "{\"tool\":\"discemu\",\"hashes\":{\"md5\":\"" + EwfTestMedia.Md5(media) + "\",\"sha256\":\"" + Convert.ToHexStringLower(SHA256.HashData(media))
            + "\",\"sha512\":\"" + Convert.ToHexStringLower(SHA512.HashData(media)) + "\"}}";
        File.WriteAllText(raw + ".log.json", log);
        var r = CliHarness.Run("verify", raw, "--output", "json");
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("\"verified\": true", r.Out);
        Assert.Contains("\"algorithm\": \"sha512\"", r.Out);
    }

    [Fact]
    public void ExplicitLogWithAWrongHashFails()
    {
        var media = EwfTestMedia.Mixed(64 * 1024);
        string raw = EwfTestMedia.WriteFile(_dir.File("d.img"), media);
        File.WriteAllText(_dir.File("other.json"), """{"hashes":{"sha1":"0000000000000000000000000000000000000000"}}""");
        var r = CliHarness.Run("verify", "--log", _dir.File("other.json"), raw);
        Assert.Equal(1, r.Code);
        Assert.Contains("MISMATCH", r.Out);
        Assert.Contains("FAILED", r.Out);
    }

    [Fact]
    public void NothingToVerifyExitsTwo()
    {
        string raw = EwfTestMedia.WriteFile(_dir.File("plain.img"), new byte[4096]);
        var r = CliHarness.Run("verify", raw);
        string line = CliHarness.AssertOneLineError(r, 2);
        Assert.Contains("nothing to verify", line);
    }

    [Fact]
    public void ABrokenLogIsAOneLineError()
    {
        string raw = EwfTestMedia.WriteFile(_dir.File("b.img"), new byte[4096]);
        File.WriteAllText(raw + ".log.json", "{ not json");
        CliHarness.AssertOneLineError(CliHarness.Run("verify", raw));
        File.WriteAllText(raw + ".log.json", """{"hashes":{"md5":"abc"}}""");
        CliHarness.AssertOneLineError(CliHarness.Run("verify", raw));
    }

    [Fact]
    public void InfoShowsEwfCaseMetadata()
    {
        var r = CliHarness.Run("info", TestData.Real("ext2.E01"));
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("file format: ewf", r.Out);
        Assert.Contains("case number: case", r.Out);
        Assert.Contains("examiner: examiner", r.Out);
        Assert.Contains("md5: 196066add11fb71c4c49cf1bb50d6d24", r.Out);
        var c = CliHarness.Run("check", TestData.Real("ext2.split.E02"));
        Assert.True(c.Code == 0, c.Out + c.Err);
        Assert.Contains("No errors were found", c.Out);
    }
}
