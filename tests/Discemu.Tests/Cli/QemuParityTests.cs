using System.Globalization;
using System.Text.RegularExpressions;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Cli;

/// <summary>Output details that scripts written for qemu-img rely on, compared with qemu-img 7.2 itself.</summary>
public sealed partial class QemuParityTests
{
    [GeneratedRegex(@"^(    \((\d+\.\d\d)/100%\)\r)+\n$")]
    private static partial Regex ProgressPattern();

    [Fact]
    public void CreateQcow2PrintsTheDefaultsQemuImgPrints()
    {
        using var dir = new TempDir();
        string path = dir.File("d.qcow2");
        var (code, stdout, stderr) = CliHarness.Run("create", "-f", "qcow2", path, "1G");
        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        Assert.Equal(
            $"Formatting '{path}', fmt=qcow2 cluster_size=65536 extended_l2=off compression_type=zlib size=1073741824 lazy_refcounts=off refcount_bits=16\n",
            stdout.ReplaceLineEndings("\n"));
    }

    [Theory]
    [InlineData("qcow2", "")]
    [InlineData("qcow2", "cluster_size=4k")]
    [InlineData("qcow2", "lazy_refcounts=on,refcount_bits=8")]
    [InlineData("qcow2", "compression_type=zstd")]
    [InlineData("qcow2", "extended_l2=on")]
    [InlineData("qcow2", "preallocation=metadata")]
    [InlineData("qcow2", "compat=0.10")]
    [InlineData("qcow2", "cluster_size=2M,compat=1.1,preallocation=off")]
    [InlineData("qcow2", "backing")]
    [InlineData("raw", "")]
    [InlineData("raw", "preallocation=falloc")]
    [InlineData("raw", "preallocation=off")]
    public void CreateFormattingLineMatchesQemuImg(string format, string options)
    {
        PeerTools.Require("qemu-img");
        using var dir = new TempDir();
        var extra = new List<string>();
        string size = "1G";
        if (options == "backing")
        {
            string backing = dir.File("base.raw");
            File.WriteAllBytes(backing, new byte[1 << 20]);
            extra.AddRange(["-b", backing, "-F", "raw"]);
            size = "2M";
        }
        else if (options.Length > 0) extra.AddRange(["-o", options]);

        string theirs = dir.File("q." + format), ours = dir.File("d." + format);
        string expected = PeerTools.RunOk("qemu-img", ["create", "-f", format, .. extra, theirs, size]);
        var (code, stdout, stderr) = CliHarness.Run(["create", "-f", format, .. extra, ours, size]);
        Assert.True(code == 0, stderr);
        Assert.Equal(expected.Replace(theirs, ours, StringComparison.Ordinal).ReplaceLineEndings("\n"), stdout.ReplaceLineEndings("\n"));
    }

    [Theory]
    [InlineData("raw")]
    public void ConvertCompressedToAFormatWithoutCompressionFailsBeforeCreatingTheTarget(string format)
    {
        using var dir = new TempDir();
        string src = CliHarness.SparseRaw(dir, "s.raw", 1 << 20, (0, 65536));
        string ours = dir.File("d.out"), theirs = dir.File("q.out");
        string line = CliHarness.AssertOneLineError(CliHarness.Run("convert", "-c", "-f", "raw", "-O", format, src, ours));
        Assert.Equal("discemu: Compression not supported for this file format", line);
        Assert.False(File.Exists(ours), "the refused convert left a target file behind");

        if (PeerTools.Find("qemu-img") is null) return;
        var (code, stdout, stderr) = PeerTools.Run("qemu-img", ["convert", "-c", "-f", "raw", "-O", format, src, theirs]);
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Equal(line["discemu: ".Length..], stderr.Trim()["qemu-img: ".Length..]);
        Assert.False(File.Exists(theirs));
    }

    [Fact]
    public void ConvertProgressWithoutATerminalIsQemuImgsLinesOnStdout()
    {
        PeerTools.Require("qemu-img");
        using var dir = new TempDir();
        string src = CliHarness.SparseRaw(dir, "s.raw", 48L << 20, (0, 4 << 20), (9L << 20, 6 << 20), (30L << 20, 5 << 20), (47L << 20, 1 << 20));
        var (code, stdout, stderr) = CliHarness.Run("convert", "-p", "-f", "raw", "-O", "qcow2", src, dir.File("d.qcow2"));
        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        AssertQemuProgress(stdout);

        // qemu-img's own output has the same shape (the steps between depend on how each tool splits the copy).
        var theirs = PeerTools.RunOk("qemu-img", "convert", "-p", "-f", "raw", "-O", "qcow2", src, dir.File("q.qcow2"));
        AssertQemuProgress(theirs);
        Assert.Equal(theirs[..16], stdout[..16]);
        Assert.Equal(theirs[^37..], stdout[^37..]);
    }

    [Fact]
    public void QuietSilencesProgress()
    {
        using var dir = new TempDir();
        string src = CliHarness.SparseRaw(dir, "s.raw", 4L << 20, (0, 1 << 20));
        var (code, stdout, stderr) = CliHarness.Run("convert", "-p", "-q", "-f", "raw", "-O", "qcow2", src, dir.File("d.qcow2"));
        Assert.Equal(0, code);
        Assert.Equal("", stdout);
        Assert.Equal("", stderr);
    }

    /// <summary>"    (0.00/100%)\r", rising steps, "    (100.00/100%)\r" twice, then a newline.</summary>
    private static void AssertQemuProgress(string output)
    {
        var match = ProgressPattern().Match(output);
        Assert.True(match.Success, $"not qemu-img's progress form: {output.Replace("\r", "\\r", StringComparison.Ordinal)}");
        var values = match.Groups[2].Captures.Select(c => double.Parse(c.Value, CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(0, values[0]);
        Assert.Equal([100.0, 100.0], values[^2..]);
        for (int i = 1; i < values.Count; i++) Assert.True(values[i] >= values[i - 1], "progress went backwards");
        Assert.True(values.Count >= 4, "no progress between start and end");
    }

    [Theory]
    [InlineData("human")]
    [InlineData("json")]
    public void InfoBackingChainNamesTheMissingFileLikeQemuImg(string output)
    {
        using var dir = new TempDir();
        string baseFile = dir.File("base.raw"), mid = dir.File("mid.qcow2"), top = dir.File("top.qcow2");
        Assert.Equal(0, CliHarness.Run("create", "-q", "-f", "raw", baseFile, "1M").Code);
        Assert.Equal(0, CliHarness.Run("create", "-q", "-f", "qcow2", "-b", "base.raw", "-F", "raw", mid).Code);
        Assert.Equal(0, CliHarness.Run("create", "-q", "-f", "qcow2", "-b", "mid.qcow2", "-F", "qcow2", top).Code);
        File.Delete(baseFile);

        string line = CliHarness.AssertOneLineError(CliHarness.Run("info", "--backing-chain", "--output", output, top));
        Assert.Equal($"discemu: Could not open '{baseFile}': Could not open '{baseFile}': No such file or directory", line);
        // Without --backing-chain the backing file is not opened.
        Assert.Equal(0, CliHarness.Run("info", "--output", output, top).Code);

        if (PeerTools.Find("qemu-img") is null) return;
        var (code, stdout, stderr) = PeerTools.Run("qemu-img", ["info", "--backing-chain", "--output", output, top]);
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Equal(line["discemu: ".Length..], stderr.Trim()["qemu-img: ".Length..]);
    }

    [Fact]
    public void InfoBackingChainStillShowsEveryLayer()
    {
        using var dir = new TempDir();
        string baseFile = dir.File("base.raw"), top = dir.File("top.qcow2");
        Assert.Equal(0, CliHarness.Run("create", "-q", "-f", "raw", baseFile, "1M").Code);
        Assert.Equal(0, CliHarness.Run("create", "-q", "-f", "qcow2", "-b", "base.raw", "-F", "raw", top).Code);
        var (code, stdout, stderr) = CliHarness.Run("info", "--backing-chain", top);
        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        Assert.Contains($"image: {top}\n", stdout.ReplaceLineEndings("\n"));
        Assert.Contains($"\n\nimage: {baseFile}\nfile format: raw\n", stdout.ReplaceLineEndings("\n"));
    }
}
