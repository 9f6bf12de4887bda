using Discemu.Formats;
using Discemu.Formats.Qcow2;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Formats;

/// <summary>Every real image made by another tool is recognised by its content.</summary>
public sealed class ProbeTests
{
    /// <summary>Each real image and the format it really is; formats not registered yet must fall back to raw.</summary>
    public static TheoryData<string, string> RealImages => new()
    {
        { "ext2.qcow2", "qcow2" },
        { "windows_volume.qcow2", "qcow2" },
        { "ext2.vmdk", "vmdk" },
        { "ext2.vhd", "vpc" },
        { "image.vhd", "vpc" },
        { "image-differential.vhd", "vpc" },
        { "fat-differential.vhd", "vpc" },
        { "ext2.E01", "ewf" },
        { "ext2.split.E01", "ewf" },
        { "ext2.split.E02", "ewf" },
        { "ext2.splitraw.000", "raw" },
        { "ext2.splitraw.001", "raw" },
        { "bogus.001", "raw" },
        { "hfsplus_zlib.dmg", "dmg" },
        { "iso9660.raw", "raw" },
    };

    [Theory]
    [MemberData(nameof(RealImages))]
    public void RealImageIsDetectedByContent(string file, string format)
    {
        string path = TestData.Real(file);
        var registry = FormatRegistry.Default;
        string expected = registry.TryFind(format) is not null ? format : "raw";
        var bytes = File.ReadAllBytes(path);
        var header = bytes.AsSpan(0, Math.Min(bytes.Length, registry.ProbeLength));
        var trailer = bytes.AsSpan(Math.Max(0, bytes.Length - registry.TrailerProbeLength));
        Assert.Equal(expected, registry.Probe(header, trailer, bytes.Length, path)?.Format.Name);
        // The name must not matter: the same bytes under a neutral name probe the same.
        Assert.Equal(expected, registry.Probe(header, trailer, bytes.Length, "image")?.Format.Name);
        Assert.Equal(expected, ImageOpener.Default.Detect(path).Name);
        int qcow2 = Qcow2Format.Instance.Probe(header, bytes.Length);
        if (format == "qcow2") Assert.Equal(100, qcow2);
        else Assert.Equal(0, qcow2);
    }

    [Fact]
    public void EveryRealImageIsCovered()
    {
        string readme = TestData.Real("README.md");
        var listed = RealImages.Select(row => row.Data.Item1).ToHashSet();
        var files = Directory.GetFiles(Path.GetDirectoryName(readme)!)
            .Select(Path.GetFileName)
            .Where(n => n is not null && !n.StartsWith("README", StringComparison.Ordinal) && !n.StartsWith("LICENSE", StringComparison.Ordinal) && !n.StartsWith("AUTHORS", StringComparison.Ordinal));
        Assert.All(files, f => Assert.Contains(f!, listed));
    }

    [Fact]
    public void ProbesNeverThrowOnShortOrOddInput()
    {
        byte[][] inputs = [[], [0x51], [0x51, 0x46, 0x49, 0xFB], [0x51, 0x46, 0x49, 0xFB, 0, 0, 0], [0x51, 0x46, 0x49, 0xFB, 0, 0, 0, 9], new byte[512]];
        foreach (var f in FormatRegistry.Default.Formats)
            foreach (var input in inputs)
            {
                int score = f.Probe(input, input.Length);
                Assert.InRange(score, 0, 100);
                Assert.InRange(f.Probe(input, input, input.Length), 0, 100);
            }
        Assert.Equal(50, Qcow2Format.Instance.Probe([0x51, 0x46, 0x49, 0xFB, 0, 0, 0, 9], 8));
    }
}
