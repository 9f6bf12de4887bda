using Discemu.Block;
using Discemu.FileSystems;
using Discemu.FileSystems.Iso9660;
using Discemu.Fuzz;

namespace Discemu.Tests.FileSystems;

/// <summary>The file system registry: explicit registration, detection by content, names and aliases.</summary>
public sealed class FileSystemRegistryTests
{
    [Fact]
    public void DefaultKnowsIso9660ByNameAndAlias()
    {
        Assert.Same(IsoFileSystemType.Instance, FileSystemRegistry.Default.Find("iso9660"));
        Assert.Same(IsoFileSystemType.Instance, FileSystemRegistry.Default.Find("ISO"));
        Assert.Same(Discemu.FileSystems.Fat.FatFileSystemType.Instance, FileSystemRegistry.Default.TryFind("vfat"));
        Assert.Null(FileSystemRegistry.Default.TryFind("ntfs"));
        Assert.Throws<BadArgumentException>(() => FileSystemRegistry.Default.Find("nosuch"));
        Assert.Throws<ArgumentException>(() => new FileSystemRegistry(IsoFileSystemType.Instance, IsoFileSystemType.Instance));
    }

    [Fact]
    public void DetectsByContent()
    {
        using var iso = new MemoryDevice(IsoSeeds.Plain().Build());
        Assert.Same(IsoFileSystemType.Instance, FileSystemRegistry.Default.Detect(iso));
        Assert.Equal(100, IsoFileSystemType.Instance.Probe(iso));
        using var blank = new MemoryDevice(1 << 20);
        Assert.Null(FileSystemRegistry.Default.Detect(blank));
        Assert.Throws<UnsupportedFeatureException>(() => FileSystemRegistry.Default.Open(blank));
        using var tiny = new MemoryDevice(100);
        Assert.Equal(0, IsoFileSystemType.Instance.Probe(tiny));
        Assert.Throws<CorruptImageException>(() => FileSystemRegistry.Default.Open(tiny, new FileSystemOpenOptions { Type = "iso9660" }));
    }

    [Fact]
    public void UdfBridgeScoresLowerSoAUdfDriverCanWin()
    {
        var bytes = IsoSeeds.Plain().Build();
        // A volume recognition sequence naming NSR02 right after the ISO descriptors (what a UDF bridge disc has).
        var nsr = bytes.AsSpan(18 * 2048, 7);
        nsr[0] = 0; "NSR02"u8.CopyTo(nsr[1..]); nsr[6] = 1;
        using var device = new MemoryDevice(bytes);
        Assert.Equal(80, IsoFileSystemType.Instance.Probe(device));
    }

    [Fact]
    public void OpenHonoursTheNamedType()
    {
        using var iso = new MemoryDevice(IsoSeeds.Plain().Build());
        using var fs = FileSystemRegistry.Default.Open(iso, new FileSystemOpenOptions { Type = "iso9660", DisplayPath = "x.iso" });
        Assert.Equal("iso9660", fs.Type.Name);
        Assert.Equal("x.iso", fs.DisplayPath);
        Assert.Equal("HANDMADE", fs.Label);
        Assert.Throws<BadArgumentException>(() => FileSystemRegistry.Default.Open(iso, new FileSystemOpenOptions { Type = "ext4" }));
    }
}
