using Discemu.Block;

namespace Discemu.Tests.Conformance;

public abstract partial class DeviceConformanceTests
{
    [Fact]
    public void FreshDeviceHasItsLengthAndReadsItsInitialContents()
    {
        var dev = NewDevice();
        Assert.Equal(DefaultLength, dev.Length);
        Assert.True(dev.CanWrite);
        var model = new DeviceModel(ExpectedInitialContents(dev.Length));
        model.AssertMatches(dev, 0, dev.Length, "never-written device");
        // Odd-sized reads at odd places too (drivers often split reads by unit).
        var rng = new Random(5);
        for (int i = 0; i < 50; i++)
        {
            long len = rng.Next(1, 100_000);
            long off = rng.NextInt64(0, dev.Length - len + 1);
            model.AssertMatches(dev, off, len, $"never-written read {off}+{len}");
        }
    }

    [Fact]
    public void RoundTripsAtUnalignedOffsetsAndAcrossBoundaries()
    {
        var dev = NewDevice();
        var model = new DeviceModel(ExpectedInitialContents(dev.Length));
        int[] lengths = [1, 3, 511, 512, 513, 4095, 4097, 65535, 65537, 200_001];
        long[] generic = [0, 512, 4096, 65536, 1 << 20, 2 << 20, dev.Length];
        int seed = 0;
        foreach (long b in generic.Concat(Boundaries(dev.Length)).Where(b => b >= 0 && b <= dev.Length).Distinct())
        {
            foreach (int len in lengths)
            {
                foreach (long delta in new long[] { -len / 2 - 1, -1, 0, 1 })
                {
                    long off = Math.Clamp(b + delta, 0, Math.Max(0, dev.Length - len));
                    if (off + len > dev.Length) continue;
                    Write(dev, model, off, Pattern(len, ++seed));
                    // Check the write and a margin around it, so a spill over either edge is caught.
                    long lo = Math.Max(0, off - 4097), hi = Math.Min(dev.Length, off + len + 4097);
                    model.AssertMatches(dev, lo, hi - lo, $"after writing {len} bytes at {off} (boundary {b})");
                }
            }
        }
        model.AssertMatches(dev, 0, dev.Length, "whole device after boundary writes");
    }

    [Fact]
    public void LargeUnalignedWriteSpanningManyUnitsRoundTrips()
    {
        var dev = NewDevice();
        var model = new DeviceModel(ExpectedInitialContents(dev.Length));
        long off = 4096 * 3 + 17;
        var data = Pattern((int)Math.Min(dev.Length - off - 3, (2 << 20) + 4099), 77);
        Write(dev, model, off, data);
        model.AssertMatches(dev, 0, dev.Length, "after a large unaligned write");
        // Read it back in pieces whose edges never line up with the write's.
        var back = new byte[data.Length];
        for (int pos = 0; pos < back.Length;)
        {
            int n = Math.Min(back.Length - pos, 70_001);
            dev.Read(off + pos, back.AsSpan(pos, n));
            pos += n;
        }
        Assert.True(data.AsSpan().SequenceEqual(back), "piecewise read differs from the write");
    }

    [Fact]
    public void WritingTheLastByteAndFirstByteWorks()
    {
        var dev = NewDevice();
        var model = new DeviceModel(ExpectedInitialContents(dev.Length));
        Write(dev, model, dev.Length - 1, [0xA5]);
        Write(dev, model, 0, [0x5A]);
        model.AssertMatches(dev, 0, Math.Min(dev.Length, 8192), "head");
        model.AssertMatches(dev, dev.Length - 8192, 8192, "tail");
        // Zero-length operations at the very end are legal no-ops.
        dev.Read(dev.Length, Span<byte>.Empty);
        dev.Write(dev.Length, ReadOnlySpan<byte>.Empty);
        dev.WriteZeroes(dev.Length, 0);
        dev.Discard(dev.Length, 0);
        model.AssertMatches(dev, dev.Length - 8192, 8192, "tail after empty operations");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void WriteZeroesReadsZerosAndKeepsNeighbours(bool mayUnmap)
    {
        var dev = NewDevice();
        var model = new DeviceModel(ExpectedInitialContents(dev.Length));
        Write(dev, model, 0, Pattern((int)dev.Length, 11));
        // Unaligned on both ends, covering several whole units, plus one tiny range and one at the end.
        (long Off, long Len)[] ranges = [(Granularity / 2 + 7, Granularity * 5L + 1001), (3 * Granularity + 100, 3), (dev.Length - Granularity - 5, Granularity + 5)];
        foreach (var (off, len) in ranges)
        {
            dev.WriteZeroes(off, len, mayUnmap);
            model.Zero(off, len);
            model.AssertMatches(dev, Math.Max(0, off - Granularity), Math.Min(dev.Length, off + len + Granularity) - Math.Max(0, off - Granularity), $"write-zeroes {off}+{len} mayUnmap={mayUnmap}");
            if (mayUnmap && Expects(DeviceExpectations.WriteZeroesReportsZero))
                foreach (var (u, n) in WholeUnits(off, len))
                    Assert.True(dev.GetStatus(u, n).IsZero, $"unit {u}+{n} inside write-zeroes {off}+{len} is not reported zero: {dev.GetStatus(u, n)}");
        }
        model.AssertMatches(dev, 0, dev.Length, "whole device after write-zeroes");
        AssertStatusConsistent(dev, model, "after write-zeroes");
    }

    [Fact]
    public void DiscardKeepsNeighboursAndKeepsItsPromises()
    {
        var dev = NewDevice();
        var model = new DeviceModel(ExpectedInitialContents(dev.Length));
        Write(dev, model, 0, Pattern((int)dev.Length, 12));
        long off = Granularity + 333, len = Granularity * 6L;
        dev.Discard(off, len);
        Forget(model, off, len);
        model.AssertMatches(dev, 0, dev.Length, $"after discard {off}+{len}");
        foreach (var (u, n) in WholeUnits(off, len))
        {
            if (Expects(DeviceExpectations.DiscardDeallocates))
                Assert.True(dev.GetStatus(u, n).IsZero, $"discarded unit {u}+{n} is still reported allocated: {dev.GetStatus(u, n)}");
        }
        AssertStatusConsistent(dev, model, "after discard");
        // Writing over a discarded range works normally.
        Write(dev, model, off + 10, Pattern(Granularity * 2, 13));
        model.AssertMatches(dev, 0, dev.Length, "after rewriting a discarded range");
    }

    /// <summary>Applies a discard to the model: whole units become zeros when promised, everything else unknown.</summary>
    internal void Forget(DeviceModel model, long off, long len)
    {
        model.Forget(off, len);
        if (Expects(DeviceExpectations.DiscardZeroes))
            foreach (var (u, n) in WholeUnits(off, len)) model.Zero(u, n);
    }

    [Fact]
    public void FlushKeepsDataAndDataSurvivesReopen()
    {
        var dev = NewDevice();
        var model = new DeviceModel(ExpectedInitialContents(dev.Length));
        Write(dev, model, 1234, Pattern(300_000, 21));
        dev.WriteZeroes(100_000, 5000);
        model.Zero(100_000, 5000);
        dev.Flush();
        dev.Flush();
        model.AssertMatches(dev, 0, dev.Length, "after flush");
        dev.Dispose();
        var again = Reopen(Dir, writable: true);
        if (again is null) return; // nothing persists: flushing without losing data is all there is to check
        using var _ = again;
        Assert.Equal(model.Length, again.Length);
        model.AssertMatches(again, 0, again.Length, "after reopen");
    }

    [Fact]
    public void ReadOnlyDeviceRefusesWritesAndStillReads()
    {
        var dev = NewDevice();
        var model = new DeviceModel(ExpectedInitialContents(dev.Length));
        Write(dev, model, 4096 + 1, Pattern(70_000, 31));
        dev.Flush();
        var ro = ReopenOrSkip(dev, writable: false);
        Assert.False(ro.CanWrite);
        Assert.Equal(0, (int)(ro.Capabilities & (DeviceCapabilities.Write | DeviceCapabilities.Resize)));
        Assert.Throws<NotSupportedException>(() => ro.Write(0, new byte[1]));
        Assert.Throws<NotSupportedException>(() => ro.WriteZeroes(0, 512));
        Assert.Throws<NotSupportedException>(() => ro.Discard(0, 512));
        Assert.Throws<NotSupportedException>(() => ro.Resize(ro.Length + 512));
        ro.Flush(); // a no-op, not an error
        model.AssertMatches(ro, 0, ro.Length, "read-only reopen");
        AssertStatusConsistent(ro, model, "read-only reopen");
    }

    [Fact]
    public void OutOfRangeAndNegativeArgumentsThrow()
    {
        var dev = NewDevice();
        long len = dev.Length;
        var one = new byte[1];
        var two = new byte[2];
        Assert.Throws<ArgumentOutOfRangeException>(() => dev.Read(-1, one));
        Assert.Throws<ArgumentOutOfRangeException>(() => dev.Read(len, one));
        Assert.Throws<ArgumentOutOfRangeException>(() => dev.Read(len - 1, two));
        Assert.Throws<ArgumentOutOfRangeException>(() => dev.Read(long.MaxValue, one));
        Assert.Throws<ArgumentOutOfRangeException>(() => dev.Read(long.MinValue, one));
        Assert.Throws<ArgumentOutOfRangeException>(() => dev.Write(-1, one));
        Assert.Throws<ArgumentOutOfRangeException>(() => dev.Write(len, one));
        Assert.Throws<ArgumentOutOfRangeException>(() => dev.Write(len - 1, two));
        Assert.Throws<ArgumentOutOfRangeException>(() => dev.Write(long.MaxValue, one));
        Assert.Throws<ArgumentOutOfRangeException>(() => dev.WriteZeroes(-1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => dev.WriteZeroes(0, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => dev.WriteZeroes(0, len + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => dev.WriteZeroes(1, long.MaxValue));
        Assert.Throws<ArgumentOutOfRangeException>(() => dev.Discard(-1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => dev.Discard(0, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => dev.Discard(len, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => dev.Discard(long.MaxValue, long.MaxValue));
        Assert.Throws<ArgumentOutOfRangeException>(() => dev.GetStatus(0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => dev.GetStatus(0, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => dev.GetStatus(-1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => dev.GetStatus(len, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => dev.GetStatus(0, len + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => dev.GetStatus(1, long.MaxValue));
        Assert.Throws<ArgumentOutOfRangeException>(() => dev.Resize(-1));
        // The failed calls changed nothing.
        Assert.Equal(len, dev.Length);
        new DeviceModel(ExpectedInitialContents(len)).AssertMatches(dev, 0, len, "after rejected calls");
    }

    [Fact]
    public void ResizeGrowsWithZerosAndShrinksOrIsRefused()
    {
        var dev = NewDevice();
        if ((dev.Capabilities & DeviceCapabilities.Resize) == 0)
        {
            Assert.Throws<NotSupportedException>(() => dev.Resize(dev.Length + LengthAlignment));
            Assert.Equal(DefaultLength, dev.Length);
            return;
        }
        var model = new DeviceModel(ExpectedInitialContents(dev.Length));
        Write(dev, model, 0, Pattern((int)dev.Length, 41));
        long shrunk = Align(dev.Length / 2 + 777);
        dev.Resize(shrunk);
        model.Resize(shrunk);
        Assert.Equal(shrunk, dev.Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => dev.Read(shrunk, new byte[1]));
        model.AssertMatches(dev, 0, shrunk, "after shrinking");
        long grown = Align(DefaultLength + 100_000);
        dev.Resize(grown);
        model.Resize(grown);
        Assert.Equal(grown, dev.Length);
        model.AssertMatches(dev, 0, grown, "after growing again (the cut part must read as zeros)");
        Write(dev, model, grown - 5000, Pattern(5000, 42));
        model.AssertMatches(dev, grown - 10000, 10000, "writing the grown tail");
        AssertStatusConsistent(dev, model, "after resizing");
    }

    [Fact]
    public void DisposedDeviceThrowsObjectDisposed()
    {
        var dev = NewDevice();
        dev.Dispose();
        dev.Dispose(); // twice is fine
        Assert.Throws<ObjectDisposedException>(() => dev.Read(0, new byte[1]));
        Assert.Throws<ObjectDisposedException>(() => dev.Write(0, new byte[1]));
        Assert.Throws<ObjectDisposedException>(() => dev.WriteZeroes(0, 1));
        Assert.Throws<ObjectDisposedException>(() => dev.Discard(0, 1));
        Assert.Throws<ObjectDisposedException>(() => dev.GetStatus(0, 1));
        Assert.Throws<ObjectDisposedException>(() => dev.Flush());
        Assert.Throws<ObjectDisposedException>(() => dev.Resize(LengthAlignment));
    }
}
