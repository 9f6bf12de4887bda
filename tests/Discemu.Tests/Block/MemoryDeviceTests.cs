using Discemu.Block;

namespace Discemu.Tests.Block;

public sealed class MemoryDeviceTests
{
    [Fact]
    public void UnwrittenDeviceIsOneHole()
    {
        using var dev = new MemoryDevice(1L << 40);
        var st = dev.GetStatus(0, dev.Length);
        Assert.Equal(dev.Length, st.Length);
        Assert.True(st.IsZero);
        Assert.Equal(0, dev.AllocatedBytes);
    }

    [Fact]
    public void WriteThenReadAcrossChunks()
    {
        using var dev = new MemoryDevice(1 << 20);
        var data = new byte[200_000];
        new Random(1).NextBytes(data);
        dev.Write(12345, data);
        var back = new byte[data.Length];
        dev.Read(12345, back);
        Assert.Equal(data, back);
        Assert.True(dev.GetStatus(12345, 10).HasData);
    }
}
