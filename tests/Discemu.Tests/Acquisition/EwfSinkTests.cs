using System.Security.Cryptography;
using Discemu.Formats;
using Discemu.Tests.Cli;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Acquisition;

/// <summary><c>acquire</c> into E01: the set passes ewfverify, stores the hashes and case metadata, and reads back as the source.</summary>
public sealed class EwfSinkTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void AcquireToE01PassesEwfverifyWithCaseMetadata()
    {
        PeerTools.Require("ewfverify");
        string src = _dir.File("src.bin");
        var data = new byte[5 << 20];
        new Random(7).NextBytes(data.AsSpan(0, 3 << 20));
        File.WriteAllBytes(src, data);
        string dest = _dir.File("out.E01");
        var r = CliHarness.Run("acquire", "--hash", "md5,sha1,sha256", "--case", "C42", "--examiner", "Ann", "-o", "compression=fast,segment_size=2M", src, dest);
        Assert.True(r.Code == 0, r.Err);
        Assert.True(File.Exists(_dir.File("out.E02")), "a 2 MiB segment size must split the set");
        var verify = PeerTools.RunOk("ewfverify", "-q", dest);
        Assert.Contains("SUCCESS", verify);
        var info = PeerTools.RunOk("ewfinfo", dest);
        Assert.Contains("C42", info);
        Assert.Contains("Ann", info);
        Assert.Contains(Convert.ToHexStringLower(MD5.HashData(data)), info);
        using (var image = ImageOpener.Default.Open(dest))
        {
            Assert.Equal("ewf", image.Format.Name);
            var back = new byte[data.Length];
            image.Read(0, back);
            Assert.Equal(data, back);
        }
        Assert.Equal(0, CliHarness.Run("verify", dest).Code);
    }
}
