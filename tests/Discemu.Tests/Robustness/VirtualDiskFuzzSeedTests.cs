using Discemu.Formats;
using Discemu.Formats.Vdi;
using Discemu.Formats.Vhd;
using Discemu.Fuzz;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Robustness;

/// <summary>The VHD and VDI fuzz seeds really parse (seeds rejected up front would leave the fuzzer exploring only the magic checks).</summary>
public sealed class VirtualDiskFuzzSeedTests
{
    [Fact]
    public void VhdAndVdiSeedsParse()
    {
        var seeds = FuzzSeeds.All().ToList();
        foreach (var (_, name, data) in seeds.Where(s => s.Target == "vhd-footer")) VhdFooter.Read(data, name);
        foreach (var (_, name, data) in seeds.Where(s => s.Target == "vhd")) VhdDynamicHeader.Read(data, name);
        foreach (var (_, name, data) in seeds.Where(s => s.Target == "vdi")) VdiHeader.Read(data, name);
        Assert.Equal(3, seeds.Count(s => s.Target == "vhd-footer"));
        Assert.Equal(2, seeds.Count(s => s.Target == "vhd"));
        Assert.Equal(3, seeds.Count(s => s.Target == "vdi"));
        var locators = VhdDynamicHeader.Read(seeds.First(s => s.Target == "vhd" && s.Name == "differencing").Data, null).Locators;
        Assert.Equal(VhdConstants.PlatformW2ru, locators[0].PlatformCode);
    }

    [Theory]
    [InlineData("vhd-dynamic", "vpc")]
    [InlineData("vhd-fixed", "vpc")]
    [InlineData("vdi-dynamic", "vdi")]
    public void WholeImageSeedsOpenAsTheirFormat(string name, string format)
    {
        using var dir = new TempDir();
        string path = dir.File("seed.img");
        File.WriteAllBytes(path, FuzzSeeds.All().First(s => s.Target == "image" && s.Name == name).Data);
        using var image = ImageOpener.Default.Open(path);
        Assert.Equal(format, image.Format.Name);
        Assert.True(FuzzTargets.Exercise(image, 1 << 20) > 0);
    }
}
