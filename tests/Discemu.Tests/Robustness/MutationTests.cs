using Discemu.Formats;
using Discemu.Fuzz;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Robustness;

/// <summary>
/// Damaged images must fail with a typed error (or open and read) — never crash, hang or allocate
/// without bound. Each seed image gets a bounded number of random mutations (DISCEMU_MUTATION_ITERATIONS
/// raises it; DISCEMU_MUTATION_SEED changes the random stream). A failing input is saved under
/// $TMPDIR/discemu-mutation-failures/ and its path is in the failure message.
/// </summary>
public sealed class MutationTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static int Iterations(int fallback) => MutationHarness.Iterations(fallback);

    /// <summary>The image bytes a qemu-img configuration produces from a 2 MiB source with data, zeros and text.</summary>
    public static TheoryData<string> Qcow2Configs => ["zlib", "zstd", "extended-l2", "cluster-512", "refcount-1", "refcount-64", "v2", "snapshots", "backing-chain"];

    private string MakeSource(string name, int seed)
    {
        var src = new byte[2 << 20];
        var rng = new Random(seed);
        rng.NextBytes(src.AsSpan(0, 300_000));
        var text = System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("compressible text ", 20_000)));
        text.AsSpan(0, 300_000).CopyTo(src.AsSpan(700_000));
        rng.NextBytes(src.AsSpan(1_900_000, 4097));
        string path = _dir.File(name);
        File.WriteAllBytes(path, src);
        return path;
    }

    private string MakeQcow2Seed(string config)
    {
        string src = MakeSource("src.raw", 1);
        string seed = _dir.File("seed.qcow2");
        void Convert(string output, params string[] extra) => PeerTools.RunOk("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", .. extra, src, output]);
        switch (config)
        {
            case "zlib": Convert(seed, "-c", "-o", "compression_type=zlib,cluster_size=4k"); break;
            case "zstd": Convert(seed, "-c", "-o", "compression_type=zstd"); break;
            case "extended-l2": Convert(seed, "-o", "extended_l2=on,cluster_size=32k"); break;
            case "cluster-512": Convert(seed, "-o", "cluster_size=512"); break;
            case "refcount-1": Convert(seed, "-o", "refcount_bits=1"); break;
            case "refcount-64": Convert(seed, "-o", "refcount_bits=64,cluster_size=4k"); break;
            case "v2": Convert(seed, "-o", "compat=0.10"); break;
            case "snapshots":
                Convert(seed, "-o", "cluster_size=4k");
                PeerTools.RunOk("qemu-img", "snapshot", "-c", "first", seed);
                PeerTools.RunOk("qemu-img", "snapshot", "-c", "second", seed);
                break;
            case "backing-chain":
                Convert(_dir.File("base.qcow2"));
                string src2 = MakeSource("src2.raw", 2);
                PeerTools.RunOk("qemu-img", "convert", "-f", "raw", "-O", "qcow2", "-B", "base.qcow2", "-F", "qcow2", src2, seed);
                break;
            default: throw new ArgumentException(config);
        }
        return seed;
    }

    [Fact]
    public void MutatedRawImagesOpenAndReadOrFailTyped()
    {
        string src = MakeSource("src.raw", 3);
        RunMutations("raw", File.ReadAllBytes(src)[..(1 << 20)], Iterations(30));
    }

    [Theory]
    [MemberData(nameof(Qcow2Configs))]
    public void MutatedQcow2ImagesFromQemuImgFailTypedNeverCrash(string config)
    {
        PeerTools.Require("qemu-img");
        string seed = MakeQcow2Seed(config);
        AssertPristineOpens(seed);
        RunMutations($"qcow2-{config}", File.ReadAllBytes(seed), Iterations(25));
    }

    [Theory]
    [InlineData("ext2.qcow2")]
    [InlineData("windows_volume.qcow2")]
    public void MutatedRealQcow2ImagesFailTypedNeverCrash(string name)
    {
        string path = TestData.Real(name);
        AssertPristineOpens(path);
        RunMutations($"real-{name}", File.ReadAllBytes(path), Iterations(20));
    }

    private static void AssertPristineOpens(string path) => MutationHarness.AssertPristineOpens(path, "qcow2");

    private void RunMutations(string label, byte[] seed, int iterations) => MutationHarness.Run(_dir, label, seed, iterations);
}
