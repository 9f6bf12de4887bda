using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Cli;

public sealed class CreateCommandTests
{
    [Theory]
    [InlineData("4M", 4L << 20)]
    [InlineData("1536k", 1536L << 10)]
    [InlineData("1G", 1L << 30)]
    [InlineData("4096", 4096L)]
    public void CreatesRawOfTheGivenSize(string size, long bytes)
    {
        using var dir = new TempDir();
        string path = dir.File("a.raw");
        var (code, stdout, stderr) = CliHarness.Run("create", "-f", "raw", path, size);
        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        Assert.Equal($"Formatting '{path}', fmt=raw size={bytes}\n", stdout.ReplaceLineEndings("\n"));
        Assert.Equal(bytes, new FileInfo(path).Length);
    }

    [Fact]
    public void QuietPrintsNothing()
    {
        using var dir = new TempDir();
        var (code, stdout, _) = CliHarness.Run("create", "-q", "-f", "raw", dir.File("a.raw"), "1M");
        Assert.Equal(0, code);
        Assert.Equal("", stdout);
    }

    [Fact]
    public void OptionHelpListsFormatOptions()
    {
        var (code, stdout, _) = CliHarness.Run("create", "-f", "raw", "-o", "help");
        Assert.Equal(0, code);
        Assert.StartsWith("Supported raw options:", stdout);
        Assert.Contains("  preallocation=", stdout);
        Assert.Contains("  size=<size>", stdout);
    }

    [Theory]
    [InlineData("12Q", "Invalid size")]
    [InlineData("-5", "Invalid size")]
    public void BadSizeIsOneLineError(string size, string expected)
    {
        using var dir = new TempDir();
        var line = CliHarness.AssertOneLineError(CliHarness.Run("create", "-f", "raw", dir.File("a.raw"), size));
        Assert.Contains(expected, line);
    }

    [Fact]
    public void BadOptionKeyIsOneLineErrorWithoutFormattingLine()
    {
        using var dir = new TempDir();
        var result = CliHarness.Run("create", "-f", "raw", "-o", "bogus=1", dir.File("a.raw"), "1M");
        var line = CliHarness.AssertOneLineError(result);
        Assert.Contains("Invalid parameter 'bogus'", line);
        Assert.Equal("", result.Out);
    }

    [Fact]
    public void MissingSizeAndUnknownFormatAreErrors()
    {
        using var dir = new TempDir();
        Assert.Contains("needs a size", CliHarness.AssertOneLineError(CliHarness.Run("create", "-f", "raw", dir.File("a.raw"))));
        Assert.Contains("Unknown format 'foo'", CliHarness.AssertOneLineError(CliHarness.Run("create", "-f", "foo", dir.File("b.raw"), "1M")));
    }

    [Fact]
    public void RawRefusesBackingFile()
    {
        using var dir = new TempDir();
        string b = CliHarness.SparseRaw(dir, "b.raw", 1 << 20);
        CliHarness.AssertOneLineError(CliHarness.Run("create", "-f", "raw", "-b", b, "-F", "raw", dir.File("a.raw")));
    }

    [Fact]
    public void Qcow2WithBackingTakesBackingSizeAndMatchesQemu()
    {
        using var dir = new TempDir();
        PeerTools.Require("qemu-img");
        string b = CliHarness.SparseRaw(dir, "b.raw", 3 << 20, (0, 4096));
        string top = dir.File("top.qcow2");
        var (code, stdout, _) = CliHarness.Run("create", "-f", "qcow2", "-b", b, "-F", "raw", top);
        Assert.Equal(0, code);
        Assert.StartsWith($"Formatting '{top}', fmt=qcow2", stdout);
        Assert.Contains("size=3145728", stdout);
        Assert.Contains("\"virtual-size\": 3145728", PeerTools.RunOk("qemu-img", "info", "--output=json", top));
        PeerTools.RunOk("qemu-img", "check", top);
    }
}
