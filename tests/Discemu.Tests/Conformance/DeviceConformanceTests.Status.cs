using Discemu.Block;

namespace Discemu.Tests.Conformance;

public abstract partial class DeviceConformanceTests
{
    /// <summary>
    /// Walks the whole device with <see cref="BlockDevice.GetStatus"/> and checks the invariants:
    /// every answer is 1..maxLength bytes, the answers tile the device exactly, flags are coherent,
    /// and every range reported zero reads as zeros (and the model agrees).
    /// </summary>
    internal static void AssertStatusConsistent(BlockDevice dev, DeviceModel model, string context)
    {
        long pos = 0, calls = 0;
        var buffer = new byte[1 << 20];
        while (pos < dev.Length)
        {
            var st = dev.GetStatus(pos, dev.Length - pos);
            Assert.True(++calls <= dev.Length, $"{context}: GetStatus never reached the end");
            CheckOne(dev, model, pos, dev.Length - pos, st, buffer, context);
            pos += st.Length;
        }
        Assert.Equal(dev.Length, pos);
    }

    private static void CheckOne(BlockDevice dev, DeviceModel model, long pos, long max, BlockStatus st, byte[] buffer, string context)
    {
        Assert.True(st.Length >= 1 && st.Length <= max, $"{context}: status at {pos} has length {st.Length} for a query of {max}");
        Assert.True(st.Depth >= 0, $"{context}: negative depth at {pos}");
        Assert.True(st.HostOffset >= -1, $"{context}: host offset {st.HostOffset} at {pos}");
        Assert.False(st.IsZero && st.HasData, $"{context}: status {st} at {pos} claims both zero and data");
        if ((st.Flags & BlockStatusFlags.Compressed) != 0)
            Assert.True((st.Flags & BlockStatusFlags.Data) != 0, $"{context}: compressed range at {pos} without Data");
        if (!st.IsZero) return;
        for (long off = pos; off < pos + st.Length; off += buffer.Length)
        {
            int n = (int)Math.Min(buffer.Length, pos + st.Length - off);
            var span = buffer.AsSpan(0, n);
            dev.Read(off, span);
            int nz = span.IndexOfAnyExcept((byte)0);
            if (nz >= 0) Assert.Fail($"{context}: range {pos}+{st.Length} is reported zero ({st.Flags}) but byte {off + nz} reads 0x{span[nz]:x2}");
            long bad = model.FirstMismatch(off, span);
            if (bad >= 0) Assert.Fail($"{context}: range {pos}+{st.Length} is reported zero but the model holds 0x{model.Data[(int)bad]:x2} at {bad}");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void StatusTilesTheDeviceAndZeroRangesReadAsZeros(int defaultSeed)
    {
        foreach (int seed in Seeds(defaultSeed))
        {
            var dev = NewDevice();
            var model = new DeviceModel(ExpectedInitialContents(dev.Length));
            var rng = new Random(seed);
            var log = new List<string>();
            try
            {
                for (int i = 0; i < 40; i++) RandomOp(dev, model, rng, log, allowResize: false);
                AssertStatusConsistent(dev, model, "random layout");
                // Small queries from arbitrary offsets must obey the same rules.
                var buffer = new byte[1 << 20];
                for (int i = 0; i < 200; i++)
                {
                    long pos = rng.NextInt64(0, dev.Length);
                    long max = Math.Min(dev.Length - pos, rng.Next(1, 3 * Granularity + 2));
                    CheckOne(dev, model, pos, max, dev.GetStatus(pos, max), buffer, $"query {pos}+{max}");
                }
            }
            catch (Exception e) when (e is not Xunit.Sdk.SkipException)
            {
                throw new Xunit.Sdk.XunitException($"seed {seed} (rerun with DISCEMU_CONFORMANCE_SEED={seed}); last ops: {string.Join("; ", log.TakeLast(8))}\n{e.Message}", e);
            }
        }
    }

    [Fact]
    public void NeverWrittenRangesAreReportedAsHoles()
    {
        var dev = NewDevice();
        var model = new DeviceModel(ExpectedInitialContents(dev.Length));
        if (!Expects(DeviceExpectations.ReportsHoles))
        {
            AssertStatusConsistent(dev, model, "fresh device");
            return;
        }
        long pos = 0;
        while (pos < dev.Length)
        {
            var st = dev.GetStatus(pos, dev.Length - pos);
            Assert.True(st.IsZero, $"fresh device reports {st} at {pos}");
            Assert.False(st.HasData);
            pos += st.Length;
        }
        // Write a few small pieces; units no write came near (one unit of margin, for devices whose
        // units do not line up with the inner device's) must still be holes.
        long g = Granularity;
        long[] spots = [g * 3 + 5, g * 10, dev.Length - 100];
        foreach (long s in spots) Write(dev, model, s, Pattern(50, (int)s));
        for (long u = 0; u + g <= dev.Length; u += g)
        {
            bool near = spots.Any(s => s < u + 2 * g && s + 50 > u - g);
            var st = dev.GetStatus(u, g);
            if (!near) Assert.True(st.IsZero, $"untouched unit {u} reported {st} after writes elsewhere");
        }
        AssertStatusConsistent(dev, model, "after sparse writes");
    }
}
