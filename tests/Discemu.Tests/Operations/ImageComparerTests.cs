using Discemu.Block;
using Discemu.Operations;

namespace Discemu.Tests.Operations;

public sealed class ImageComparerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void HolesOnBothSidesAreNotRead()
    {
        using var a = new CountingDevice(new MemoryDevice(1L << 30));
        using var b = new CountingDevice(new MemoryDevice(1L << 30));
        a.Write(1 << 20, new byte[] { 5 });
        b.Write(1 << 20, new byte[] { 5 });
        var r = ImageComparer.Compare(a, b, cancellationToken: Ct);
        Assert.True(r.Identical);
        a.AssertNoHoleWasRead();
        b.AssertNoHoleWasRead();
        Assert.Equal(65536, a.BytesRead);
    }

    [Fact]
    public void MismatchOffsetIsRoundedToSectors()
    {
        using var a = new MemoryDevice(1 << 20);
        using var b = new MemoryDevice(1 << 20);
        b.Write(70_000, new byte[] { 1 });
        var r = ImageComparer.Compare(a, b, cancellationToken: Ct);
        Assert.Equal(CompareOutcome.ContentMismatch, r.Outcome);
        Assert.Equal(69_632, r.Offset);
        b.Write(70_000, new byte[] { 0 }); // allocated zero vs hole: same content
        Assert.True(ImageComparer.Compare(a, b, cancellationToken: Ct).Identical);
        Assert.Equal(CompareOutcome.StatusMismatch, ImageComparer.Compare(a, b, strict: true, cancellationToken: Ct).Outcome);
    }

    [Fact]
    public void LongerDeviceMustReadZerosPastTheEnd()
    {
        using var a = new MemoryDevice(1 << 20);
        using var b = new MemoryDevice(2 << 20);
        var r = ImageComparer.Compare(a, b, cancellationToken: Ct);
        Assert.True(r.Identical);
        Assert.True(r.SizesDiffer);
        Assert.Equal(CompareOutcome.SizeMismatch, ImageComparer.Compare(a, b, strict: true, cancellationToken: Ct).Outcome);
        b.Write((1 << 20) + 1000, new byte[] { 1 });
        var r2 = ImageComparer.Compare(b, a, cancellationToken: Ct);
        Assert.Equal(CompareOutcome.ContentMismatch, r2.Outcome);
        Assert.Equal((1 << 20) + 512, r2.Offset);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void ReportsTheFirstDifferenceLikeAByteScan(int seed)
    {
        // Several differences spread over many windows: the parallel scan must report the lowest one.
        var rng = new Random(seed);
        long length = 24L << 20;
        using var a = new MemoryDevice(length);
        using var b = new MemoryDevice(length + (seed % 2) * 3 * 65536);
        var chunk = new byte[65536];
        for (int i = 0; i < 60; i++)
        {
            rng.NextBytes(chunk);
            long at = rng.NextInt64(length / 65536) * 65536;
            a.Write(at, chunk);
            b.Write(at, chunk);
        }
        var diffs = Enumerable.Range(0, 3).Select(_ => rng.NextInt64(length)).ToList();
        foreach (var d in diffs)
        {
            var one = new byte[1];
            b.Read(d, one);
            one[0] ^= 0x5A;
            b.Write(d, one);
        }
        var r = ImageComparer.Compare(a, b, cancellationToken: Ct);
        Assert.Equal(CompareOutcome.ContentMismatch, r.Outcome);
        Assert.Equal(diffs.Min() / 512 * 512, r.Offset);
    }

    [Fact]
    public void ContentDifferenceBeforeAStatusDifferenceWinsInStrictMode()
    {
        using var a = new MemoryDevice(8 << 20);
        using var b = new MemoryDevice(8 << 20);
        a.Write(0, new byte[65536]);
        var data = new byte[65536];
        data[100] = 1;
        b.Write(0, data);
        b.Write(6 << 20, new byte[] { 0 }); // allocated zeros in b only, far later
        var r = ImageComparer.Compare(a, b, strict: true, cancellationToken: Ct);
        Assert.Equal(CompareOutcome.ContentMismatch, r.Outcome);
        Assert.Equal(0, r.Offset);
        b.Write(0, new byte[65536]);
        var s = ImageComparer.Compare(a, b, strict: true, cancellationToken: Ct);
        Assert.Equal(CompareOutcome.StatusMismatch, s.Outcome);
        Assert.Equal(6 << 20, s.Offset);
    }

    [Fact]
    public void ReadFailureSurfacesAsTheOriginalException()
    {
        using var a = new MemoryDevice(16 << 20);
        using var b = new ThrowingDevice(16 << 20);
        a.Write(0, new byte[16 << 20]);
        var e = Assert.Throws<CorruptImageException>(() => ImageComparer.Compare(a, b, cancellationToken: Ct));
        Assert.Equal("bad cluster", e.Message);
    }

    [Fact]
    public void CancellationStopsTheComparison()
    {
        using var a = new MemoryDevice(32 << 20);
        using var b = new MemoryDevice(32 << 20);
        a.Write(0, new byte[32 << 20]);
        b.Write(0, new byte[32 << 20]);
        using var cts = new CancellationTokenSource();
        Assert.ThrowsAny<OperationCanceledException>(() => ImageComparer.Compare(a, b, progress: (d, _) => { if (d > 0) cts.Cancel(); }, cancellationToken: cts.Token));
    }

    private sealed class ThrowingDevice(long length) : BlockDevice
    {
        public override long Length => length;

        public override DeviceCapabilities Capabilities => DeviceCapabilities.None;

        protected override void ReadCore(long offset, Span<byte> buffer)
        {
            if (offset + buffer.Length > 10 << 20) throw new CorruptImageException("bad cluster");
            buffer.Clear();
        }
    }
}
