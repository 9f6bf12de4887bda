using Discemu.Block;
using Discemu.Operations;

namespace Discemu.Tests.Operations;

public sealed class ImageMapperTests
{
    [Fact]
    public void MergesRunsAndClipsToTheRange()
    {
        using var dev = new MemoryDevice(1 << 20);
        dev.Write(0, new byte[3 * 65536]);
        dev.Write(5 * 65536, new byte[10]);
        var all = ImageMapper.Map(dev).ToList();
        Assert.Equal(
        [
            new MapEntry(0, 3 * 65536, 0, true, false, true, false, null),
            new MapEntry(3 * 65536, 2 * 65536, 0, false, true, false, false, null),
            new MapEntry(5 * 65536, 65536, 0, true, false, true, false, null),
            new MapEntry(6 * 65536, 10 * 65536, 0, false, true, false, false, null),
        ], all);
        var part = ImageMapper.Map(dev, 100_000, 100_000).ToList();
        Assert.Equal(new MapEntry(100_000, 96_608, 0, true, false, true, false, null), part[0]);
        Assert.Equal(200_000, part[^1].Start + part[^1].Length);
    }

    [Fact]
    public void OverlayReportsDepth()
    {
        using var baseDev = new MemoryDevice(256 * 1024);
        baseDev.Write(0, new byte[65536]);
        using var overlay = new OverlayDevice(baseDev, owns: false);
        overlay.Write(65536, new byte[] { 1 });
        var map = ImageMapper.Map(overlay).ToList();
        Assert.Equal(1, map[0].Depth);
        Assert.Equal(0, map[1].Depth);
        Assert.True(map[1].Present);
    }
}
