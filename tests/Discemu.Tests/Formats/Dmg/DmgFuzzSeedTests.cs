using Discemu.Formats;
using Discemu.Formats.Dmg;
using Discemu.Fuzz;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Formats.Dmg;

/// <summary>The DMG fuzz seeds must really parse and decode, or the fuzzer explores nothing but rejections.</summary>
public sealed class DmgFuzzSeedTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void CodecSeedsDecodeToTheSampleText()
    {
        var expected = FuzzSeeds.DmgSampleText;
        foreach (var (target, name, data) in FuzzSeeds.All().Where(s => s.Target is "adc" or "lzvn" or "lzfse"))
        {
            var output = new byte[data[0] | data[1] << 8];
            var input = data[2..];
            int n = target switch
            {
                "adc" => Decode(() => AdcDecoder.Decode(input, output), output.Length),
                "lzvn" => LzvnDecoder.Decode(input, output, 0),
                _ => LzfseDecoder.Decode(input, output),
            };
            Assert.Equal(output.Length, n);
            if (name != "literal") Assert.True(expected.AsSpan().SequenceEqual(output), $"{target}/{name}");
        }
    }

    private static int Decode(Action decode, int length)
    {
        decode();
        return length;
    }

    [Fact]
    public void ImageSeedsOpenReadAndCheckClean()
    {
        foreach (var (_, name, data) in FuzzSeeds.All().Where(s => s.Target == "dmg"))
        {
            string path = _dir.File(name + ".dmg");
            File.WriteAllBytes(path, data);
            using var image = DmgRead.Open(path);
            var bytes = DmgRead.All(image);
            Assert.True(bytes.Length > 0);
            var check = ((ICheckableImage)image).Check(CheckRepair.None);
            Assert.True(check.ExitCode == 0, $"{name}: {string.Join("; ", check.Messages)}");
            if (name == "two-partitions")
            {
                Assert.Equal(15 * 512, image.Length);
                Assert.Equal(FuzzSeeds.DmgSampleText[0], bytes[0]);
                Assert.True(FuzzSeeds.DmgSampleText.AsSpan().SequenceEqual(bytes.AsSpan(14 * 512, 120)), "the LZFSE chunk");
                Assert.True(bytes.AsSpan(9 * 512, 5 * 512).ContainsAnyExcept((byte)0) == false, "zero and ignore chunks");
            }
        }
        foreach (var (_, name, data) in FuzzSeeds.All().Where(s => s.Target == "dmg-plist" && s.Name == "blkx"))
            Assert.Single(DmgPlist.ReadResources(data, name));
    }
}
