using System.Buffers.Binary;
using Discemu.Formats.Qcow2;

namespace Discemu.Tests.Formats.Qcow2;

public sealed class Qcow2LayoutTests
{
    [Fact]
    public void StandardEntriesDecode()
    {
        var layout = new Qcow2Layout(16, extendedL2: false, refcountOrder: 4, version: 3);
        Assert.Equal(Qcow2ClusterKind.Unallocated, layout.StandardKind(0));
        Assert.Equal(Qcow2ClusterKind.Normal, layout.StandardKind(0x8000_0000_0005_0000UL));
        Assert.Equal(0x50000, Qcow2Layout.HostOffset(0x8000_0000_0005_0000UL));
        Assert.True(Qcow2Layout.IsCopied(0x8000_0000_0005_0000UL));
        Assert.Equal(Qcow2ClusterKind.Zero, layout.StandardKind(1));
        Assert.Equal(Qcow2ClusterKind.Zero, layout.StandardKind(0x8000_0000_0005_0001UL));
        Assert.Equal(Qcow2ClusterKind.Compressed, layout.StandardKind(0x4000_0000_0001_2345UL));
        Assert.Equal(8192, layout.L2Entries);
        Assert.Equal(512L << 20, layout.L2Coverage);
        Assert.Equal(32768, layout.RefcountBlockEntries);
    }

    [Fact]
    public void ExtendedEntriesDecodePerSubcluster()
    {
        var layout = new Qcow2Layout(16, extendedL2: true, refcountOrder: 4, version: 3);
        Assert.Equal(4096, layout.L2Entries);
        Assert.Equal(2048, layout.SubclusterSize);
        ulong entry = 0x8000_0000_0007_0000UL;
        ulong bitmap = (1UL << 0) | (1UL << 5) | (1UL << (32 + 1));
        Assert.Equal(Qcow2ClusterKind.Normal, Qcow2Layout.ExtendedKind(entry, bitmap, 0));
        Assert.Equal(Qcow2ClusterKind.Zero, Qcow2Layout.ExtendedKind(entry, bitmap, 1));
        Assert.Equal(Qcow2ClusterKind.Unallocated, Qcow2Layout.ExtendedKind(entry, bitmap, 2));
        Assert.Equal(Qcow2ClusterKind.Normal, Qcow2Layout.ExtendedKind(entry, bitmap, 5));
        Assert.Equal(Qcow2ClusterKind.Compressed, Qcow2Layout.ExtendedKind(0x4000_0000_0000_1000UL, 0, 3));
        // Bit 0 of an extended entry is not a zero flag.
        Assert.Equal(Qcow2ClusterKind.Normal, layout.StandardKind(entry | 1));
    }

    [Theory]
    [InlineData(9)]
    [InlineData(12)]
    [InlineData(16)]
    [InlineData(21)]
    public void CompressedDescriptorsRoundTrip(int clusterBits)
    {
        var layout = new Qcow2Layout(clusterBits, false, 4, 3);
        Assert.Equal(62 - (clusterBits - 8), layout.CompressedOffsetBits);
        var rnd = new Random(clusterBits);
        for (int i = 0; i < 200; i++)
        {
            long host = rnd.NextInt64(1, 1L << Math.Min(40, layout.CompressedOffsetBits));
            int maxLength = layout.MaxCompressedSectors * 512 - (int)(host & 511);
            int length = rnd.Next(1, Math.Min(maxLength, layout.ClusterSize) + 1);
            ulong e = layout.EncodeCompressed(host, length);
            Assert.Equal(Qcow2ClusterKind.Compressed, layout.StandardKind(e));
            Assert.Equal(host, layout.CompressedOffset(e));
            Assert.True(layout.CompressedLength(e) >= length);
            Assert.True(layout.CompressedLength(e) - length < 512);
            var (first, last) = layout.CompressedClusters(e);
            Assert.Equal((host & ~511L) >> clusterBits, first);
            Assert.Equal((host + layout.CompressedLength(e) - 1) >> clusterBits, last);
        }
    }

    [Fact]
    public void CompressedDescriptorMatchesSpecBitLayout()
    {
        // 64 KiB clusters: offset in bits 0..53, additional sectors in bits 54..61.
        var layout = new Qcow2Layout(16, false, 4, 3);
        ulong e = layout.EncodeCompressed(0x12345 * 512 + 100, 1000);
        Assert.Equal(0x4000_0000_0000_0000UL | (2UL << 54) | (0x12345UL * 512 + 100), e);
        Assert.Equal(3, layout.CompressedSectors(e));
        Assert.Throws<ArgumentOutOfRangeException>(() => layout.EncodeCompressed(512, layout.MaxCompressedSectors * 512 + 1));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    public void RefcountEntriesRoundTripInEveryWidth(int order)
    {
        var layout = new Qcow2Layout(9, false, order, 3);
        var block = new byte[512];
        var expected = new ulong[layout.RefcountBlockEntries];
        var rnd = new Random(order);
        for (int i = 0; i < expected.Length; i++)
        {
            expected[i] = layout.MaxRefcount == ulong.MaxValue ? (ulong)rnd.NextInt64() : (ulong)rnd.NextInt64((long)Math.Min(layout.MaxRefcount, long.MaxValue - 1) + 1);
            layout.SetRefcount(block, i, expected[i]);
        }
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], layout.GetRefcount(block, i));
        if (order < 6) Assert.Throws<ArgumentOutOfRangeException>(() => layout.SetRefcount(block, 0, layout.MaxRefcount + 1));
    }

    [Fact]
    public void SubByteRefcountsStartAtTheLeastSignificantBit()
    {
        var layout = new Qcow2Layout(9, false, 0, 3);
        var block = new byte[512];
        layout.SetRefcount(block, 0, 1);
        layout.SetRefcount(block, 9, 1);
        Assert.Equal(0x01, block[0]);
        Assert.Equal(0x02, block[1]);
        var two = new Qcow2Layout(9, false, 1, 3);
        Array.Clear(block);
        two.SetRefcount(block, 1, 3);
        Assert.Equal(0x0C, block[0]);
        var sixteen = new Qcow2Layout(9, false, 4, 3);
        sixteen.SetRefcount(block, 2, 0x1234);
        Assert.Equal(0x1234, BinaryPrimitives.ReadUInt16BigEndian(block.AsSpan(4)));
    }

    [Fact]
    public void HeaderRoundTripsThroughWrite()
    {
        var h = new Qcow2Header
        {
            Version = 3, ClusterBits = 16, Size = 1L << 30, L1Size = 2, L1TableOffset = 0x30000,
            RefcountTableOffset = 0x10000, RefcountTableClusters = 1, RefcountOrder = 5, HeaderLength = 112,
            IncompatibleFeatures = 1UL << 3, CompressionType = 1, CompatibleFeatures = 1,
        };
        var buffer = new byte[512];
        h.Write(buffer);
        var back = Qcow2Header.Read(buffer, null);
        Assert.Equal(h, back);
        var v2 = h with { Version = 2, HeaderLength = 72, RefcountOrder = 4, IncompatibleFeatures = 0, CompressionType = 0, CompatibleFeatures = 0 };
        Array.Clear(buffer);
        v2.Write(buffer);
        Assert.Equal(v2, Qcow2Header.Read(buffer, null));
        Assert.True(buffer.AsSpan(72).IndexOfAnyExcept((byte)0) < 0);
    }

    [Fact]
    public void L1SizeCoversTheDisk()
    {
        var layout = new Qcow2Layout(16, false, 4, 3);
        Assert.Equal(0, layout.L1EntriesFor(0));
        Assert.Equal(1, layout.L1EntriesFor(1));
        Assert.Equal(1, layout.L1EntriesFor(512L << 20));
        Assert.Equal(2, layout.L1EntriesFor((512L << 20) + 512));
    }
}
