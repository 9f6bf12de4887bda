using Discemu.Block;

namespace Discemu.Tests.Conformance;

public abstract partial class DeviceConformanceTests
{
    /// <summary>Operations per model run: DISCEMU_CONFORMANCE_OPS when set, else 150.</summary>
    protected static int ModelOps => int.TryParse(Environment.GetEnvironmentVariable("DISCEMU_CONFORMANCE_OPS"), out int n) && n > 0 ? n : 150;

    private (long Offset, long Length) RandomRange(Random rng, long deviceLength)
    {
        long g = Granularity;
        long len = rng.Next(10) switch
        {
            < 5 => rng.Next(1, 600),
            < 8 => rng.Next(1, (int)Math.Min(int.MaxValue, 3 * g + 100)),
            _ => rng.Next(1, 600_000),
        };
        len = Math.Min(len, deviceLength);
        long off = rng.NextInt64(0, deviceLength - len + 1);
        if (rng.Next(3) == 0)
        {
            // Whole units, to reach the drivers' fast paths.
            off = off / g * g;
            len = Math.Max(g, len / g * g);
            if (off + len > deviceLength) len = Math.Max(0, (deviceLength - off) / g * g);
            if (len == 0) { off = 0; len = Math.Min(g, deviceLength); }
        }
        return (off, len);
    }

    /// <summary>Applies one random operation to the device and the model, logging it.</summary>
    internal void RandomOp(BlockDevice dev, DeviceModel model, Random rng, List<string> log, bool allowResize)
    {
        int kind = rng.Next(100);
        if (dev.Length == 0) kind = 97;
        var (off, len) = dev.Length == 0 ? (0, 0) : RandomRange(rng, dev.Length);
        switch (kind)
        {
            case < 45:
                log.Add($"write {off}+{len}");
                Write(dev, model, off, Pattern((int)len, rng.Next()));
                break;
            case < 65:
                bool unmap = rng.Next(2) == 0;
                log.Add($"zero {off}+{len} unmap={unmap}");
                dev.WriteZeroes(off, len, unmap);
                model.Zero(off, len);
                break;
            case < 78:
                log.Add($"discard {off}+{len}");
                dev.Discard(off, len);
                Forget(model, off, len);
                break;
            case < 95:
                log.Add($"read {off}+{len}");
                model.AssertMatches(dev, off, len, "random read");
                break;
            case < 98 when allowResize && (dev.Capabilities & DeviceCapabilities.Resize) != 0:
                long newLength = Align(rng.NextInt64(DefaultLength / 2, DefaultLength * 3 / 2));
                log.Add($"resize {newLength}");
                dev.Resize(newLength);
                model.Resize(newLength);
                Assert.Equal(newLength, dev.Length);
                break;
            default:
                log.Add("flush");
                dev.Flush();
                break;
        }
    }

    [Theory]
    [InlineData(101)]
    [InlineData(202)]
    [InlineData(303)]
    public void RandomOperationsMatchAnInMemoryModel(int defaultSeed)
    {
        foreach (int seed in Seeds(defaultSeed))
        {
            var log = new List<string>();
            try
            {
                var dev = NewDevice();
                var model = new DeviceModel(ExpectedInitialContents(dev.Length));
                var rng = new Random(seed);
                for (int i = 0; i < ModelOps; i++) RandomOp(dev, model, rng, log, allowResize: true);
                model.AssertMatches(dev, 0, dev.Length, "final comparison");
                AssertStatusConsistent(dev, model, "final status");
                dev.Flush();
                dev.Dispose();
                var again = Reopen(Dir, writable: false);
                if (again is null) continue;
                using (again)
                {
                    Assert.Equal(model.Length, again.Length);
                    model.AssertMatches(again, 0, again.Length, "after reopening");
                }
            }
            catch (Exception e) when (e is not Xunit.Sdk.SkipException)
            {
                throw new Xunit.Sdk.XunitException($"seed {seed} (rerun with DISCEMU_CONFORMANCE_SEED={seed}); last ops: {string.Join("; ", log.TakeLast(10))}\n{e.Message}", e);
            }
        }
    }
}
