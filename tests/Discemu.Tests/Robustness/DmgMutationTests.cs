using Discemu.Formats;
using Discemu.Formats.Dmg;
using Discemu.Tests.Formats.Dmg;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Robustness;

/// <summary>
/// Damaged DMG images must open and read, or fail with a typed error — never crash, hang or allocate without
/// bound. Mutations favour the koly trailer, the XML property list or resource fork (the block tables) and
/// the first bytes of every stored chunk (codec headers).
/// </summary>
public sealed class DmgMutationTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string> Configs => ["zlib-xml", "every-codec", "resource-fork", "lzfse-v2", "lzfse-mixed", "adc-ignore"];

    private static byte[] Seed(string config)
    {
        var disk = new byte[256 << 10];
        var rng = new Random(config.Length);
        rng.NextBytes(disk.AsSpan(0, 40_000));
        var text = System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, 20000).Select(i => $"text {i % 91} ")));
        text.AsSpan(0, 100_000).CopyTo(disk.AsSpan(60_000));
        rng.NextBytes(disk.AsSpan((256 << 10) - 5000));
        var codecs = Enum.GetValues<ChunkCodec>();
        var builder = config switch
        {
            "zlib-xml" => new DmgBuilder { ChunkSectors = 64 },
            "every-codec" => new DmgBuilder { ChunkSectors = 32, Codec = i => codecs[i % codecs.Length], Partitions = [("a", 0, 100), ("b", 100, 412)] },
            "resource-fork" => new DmgBuilder { ChunkSectors = 64, Xml = false, ResourceFork = true, Codec = i => i % 2 == 0 ? ChunkCodec.Raw : ChunkCodec.Zlib },
            "lzfse-v2" => new DmgBuilder { ChunkSectors = 128, Codec = _ => ChunkCodec.Lzfse, LzfseBlocks = LzfseBlocks.FseV2 },
            "lzfse-mixed" => new DmgBuilder { ChunkSectors = 256, Codec = _ => ChunkCodec.Lzfse, LzfseBlocks = LzfseBlocks.Mixed },
            "adc-ignore" => new DmgBuilder { ChunkSectors = 64, Codec = _ => ChunkCodec.Adc, IgnoreForZeros = true },
            _ => throw new ArgumentException(config),
        };
        return builder.Build(disk);
    }

    /// <summary>The trailer, the metadata (plist or resource fork) and the first 64 bytes of each stored chunk.</summary>
    private static List<(long Offset, long Length)> HotRanges(string path, long fileLength)
    {
        using var image = (DmgImage)ImageOpener.Default.Open(path);
        var hot = new List<(long, long)> { (fileLength - 512, 512) };
        if (image.Trailer.PlistLength > 0) hot.Add((image.Trailer.PlistOffset, image.Trailer.PlistLength));
        if (image.Trailer.ResourceForkLength > 0) hot.Add((image.Trailer.ResourceForkOffset, image.Trailer.ResourceForkLength));
        foreach (var c in image.Chunks)
            if (c.DataLength > 0) hot.Add((c.DataOffset, Math.Min(64, c.DataLength)));
        return hot;
    }

    [Theory]
    [MemberData(nameof(Configs))]
    public void MutatedDmgImagesFailTypedNeverCrash(string config)
    {
        var seed = Seed(config);
        string pristine = _dir.File("pristine.dmg");
        File.WriteAllBytes(pristine, seed);
        MutationHarness.AssertPristineOpens(pristine, "dmg");
        MutationHarness.Run(_dir, $"dmg-{config}", seed, MutationHarness.Iterations(40), "case.dmg", HotRanges(pristine, seed.Length));
    }

    [Fact]
    public void MutatedRealDmgImageFailsTypedNeverCrashes()
    {
        string path = TestData.Real("hfsplus_zlib.dmg");
        MutationHarness.AssertPristineOpens(path, "dmg");
        var seed = File.ReadAllBytes(path);
        MutationHarness.Run(_dir, "dmg-real", seed, MutationHarness.Iterations(40), "case.dmg", HotRanges(path, seed.Length));
    }
}
