using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Cli;

public sealed class MapCommandTests
{
    // qemu-img 7.x has no "compressed" field.
    private static string Normalize(string json, bool peerHasCompressed)
    {
        return peerHasCompressed ? json : json.Replace(", \"compressed\": false", "", StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("--start-offset 100000 --max-length 2000000")]
    [InlineData("--start-offset 1228800")]
    public void JsonMatchesQemuImg(string rangeArgs)
    {
        var range = rangeArgs.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        PeerTools.Require("qemu-img");
        using var dir = new TempDir();
        string path = CliHarness.SparseRaw(dir, "a.raw", 4 << 20, (0, 4096), (65536, 4096), (1228800, 12288));
        var ours = CliHarness.Run(["map", "--output", "json", .. range, path]);
        Assert.Equal(0, ours.Code);
        string peer = PeerTools.RunOk("qemu-img", ["map", "--output=json", "-f", "raw", .. range, path]);
        bool peerHasCompressed = peer.Contains("\"compressed\"", StringComparison.Ordinal);
        Assert.Equal(Normalize(peer, peerHasCompressed), Normalize(ours.Out, peerHasCompressed));
    }

    [Fact]
    public void HumanMatchesQemuImg()
    {
        PeerTools.Require("qemu-img");
        using var dir = new TempDir();
        string path = CliHarness.SparseRaw(dir, "a.raw", 4 << 20, (65536, 4096), (69632, 4096), (2 << 20, 512 << 10));
        var ours = CliHarness.Run("map", path);
        Assert.Equal(0, ours.Code);
        Assert.Equal(PeerTools.RunOk("qemu-img", "map", "-f", "raw", path), ours.Out);
        Assert.Contains("0x10000         0x2000          0x10000         ", ours.Out);
    }

    [Fact]
    public void BadOffsetIsOneLineError()
    {
        using var dir = new TempDir();
        string path = CliHarness.SparseRaw(dir, "a.raw", 4096);
        CliHarness.AssertOneLineError(CliHarness.Run("map", "--start-offset", "abc", path));
    }
}
