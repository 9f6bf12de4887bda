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
}
