using System.Text.Json;
using Discemu.Block;
using Discemu.Formats;
using Discemu.Formats.Qcow2;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Formats.Qcow2;

/// <summary>qemu-img measure -O qcow2: our numbers must equal qemu-img's exactly.</summary>
public sealed class Qcow2MeasureTests
{
    private static readonly string[] Options =
    [
        "", "cluster_size=512", "cluster_size=4k", "cluster_size=2M", "refcount_bits=1", "refcount_bits=8",
        "refcount_bits=64,cluster_size=4k", "extended_l2=on", "extended_l2=on,cluster_size=16k", "compat=0.10",
        "preallocation=full", "preallocation=metadata", "compat=0.10,extended_l2=on", "lazy_refcounts=on,compression_type=zstd", "preallocation=falloc", "refcount_bits=2,cluster_size=1k",
    ];

    private static readonly long[] Sizes = [0, 1, 65535, 1 << 20, 1_000_000_000, 3L << 40];

    public static TheoryData<string> OptionSets => new(Options);

    [Theory]
    [MemberData(nameof(OptionSets))]
    public void SizeOnlyMatchesQemu(string options)
    {
        foreach (long size in Sizes)
        {
            var args = new List<string> { "measure", "-O", "qcow2", "--output=json", "--size", size.ToString(System.Globalization.CultureInfo.InvariantCulture) };
            if (options.Length > 0) { args.Add("-o"); args.Add(options); }
            var (code, stdout, _) = PeerTools.Run("qemu-img", args);
            if (code != 0)
            {
                Assert.Throws<BadArgumentException>(() => Qcow2Format.Instance.Measure(size, null, CreateOptions.Parse(options)));
                continue;
            }
            var expected = Parse(stdout);
            var ours = Qcow2Format.Instance.Measure(size, null, CreateOptions.Parse(options));
            Assert.True(expected == (ours.Required, ours.FullyAllocated), $"{options} size {size}: qemu {expected}, ours {(ours.Required, ours.FullyAllocated)}");
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("cluster_size=512")]
    [InlineData("cluster_size=2M")]
    [InlineData("refcount_bits=1")]
    [InlineData("extended_l2=on")]
    [InlineData("backing_file=base.img,backing_fmt=raw")]
    [InlineData("preallocation=full")]
    public void SparseRawSourceMatchesQemu(string options)
    {
        using var dir = new TempDir();
        string raw = dir.File("src.raw");
        using (var fs = new FileStream(raw, FileMode.Create))
        {
            fs.SetLength(10 * 1024 * 1024 + 1000);
            var rng = new Random(3);
            foreach (long at in new long[] { 70_000, 4_096_000, 8_192_000, 10 * 1024 * 1024 + 100 })
            {
                var data = new byte[at == 70_000 ? 1 : 12_288];
                rng.NextBytes(data);
                fs.Position = Math.Min(at, fs.Length - data.Length);
                fs.Write(data);
            }
            fs.Position = 9_000_000;
            fs.Write(new byte[4096]); // explicit zeros are data to the file system, and to qemu
        }
        var args = new List<string> { "measure", "-f", "raw", "-O", "qcow2", "--output=json" };
        if (options.Length > 0) { args.Add("-o"); args.Add(options); }
        args.Add(raw);
        var (code, stdout, stderr) = PeerTools.Run("qemu-img", args);
        Assert.True(code == 0, stderr);
        var expected = Parse(stdout);
        using var source = FileDevice.Open(raw, writable: false);
        var ours = Qcow2Format.Instance.Measure(0, source, CreateOptions.Parse(options));
        Assert.Equal(expected, (ours.Required, ours.FullyAllocated));
    }

    [Fact]
    public void EmptyAndHoleOnlySources()
    {
        using var dir = new TempDir();
        foreach (long length in new long[] { 0, 1000, 5 << 20 })
        {
            string raw = dir.File($"hole{length}.raw");
            using (var fs = new FileStream(raw, FileMode.Create)) fs.SetLength(length);
            var expected = Parse(PeerTools.RunOk("qemu-img", "measure", "-f", "raw", "-O", "qcow2", "--output=json", raw));
            using var source = FileDevice.Open(raw, writable: false);
            var ours = Qcow2Format.Instance.Measure(0, source, CreateOptions.Empty);
            Assert.Equal(expected, (ours.Required, ours.FullyAllocated));
        }
    }

    [Theory]
    [InlineData("foo=1")]
    [InlineData("cluster_size=3000")]
    [InlineData("refcount_bits=3")]
    [InlineData("compat=0.10,refcount_bits=8")]
    [InlineData("extended_l2=on,cluster_size=8k")]
    [InlineData("preallocation=bogus")]
    public void InvalidOptionsAreRejected(string options)
    {
        Assert.Throws<BadArgumentException>(() => Qcow2Format.Instance.Measure(1 << 20, null, CreateOptions.Parse(options)));
        var (code, _, _) = PeerTools.Run("qemu-img", ["measure", "-O", "qcow2", "-o", options, "--size", "1M"]);
        Assert.NotEqual(0, code);
    }

    private static (long Required, long FullyAllocated) Parse(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return (doc.RootElement.GetProperty("required").GetInt64(), doc.RootElement.GetProperty("fully-allocated").GetInt64());
    }
}
