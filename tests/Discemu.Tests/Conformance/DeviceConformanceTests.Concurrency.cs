using Discemu.Block;

namespace Discemu.Tests.Conformance;

public abstract partial class DeviceConformanceTests
{
    private const int Threads = 4;

    /// <summary>Runs <paramref name="body"/> on several threads started together; rethrows the first failure.</summary>
    private static void RunOnThreads(Action<int> body)
    {
        var errors = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        using var start = new Barrier(Threads);
        var threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            try
            {
                start.SignalAndWait();
                body(t);
            }
            catch (Exception e) { errors.Enqueue(e); }
        }) { IsBackground = true }).ToList();
        threads.ForEach(t => t.Start());
        foreach (var t in threads)
            Assert.True(t.Join(TimeSpan.FromMinutes(5)), "a worker thread did not finish (deadlock?)");
        if (errors.TryDequeue(out var first)) throw new AggregateException(first);
    }

    [Fact]
    public void ConcurrentReadsReturnCorrectData()
    {
        var dev = NewDevice();
        var model = new DeviceModel(ExpectedInitialContents(dev.Length));
        Write(dev, model, 0, Pattern((int)dev.Length, 51));
        dev.WriteZeroes(Granularity * 4L, Granularity * 3L);
        model.Zero(Granularity * 4L, Granularity * 3L);
        RunOnThreads(t =>
        {
            var rng = new Random(1000 + t);
            var buffer = new byte[300_000];
            for (int i = 0; i < 150; i++)
            {
                int len = rng.Next(1, buffer.Length);
                long off = rng.NextInt64(0, dev.Length - len + 1);
                dev.Read(off, buffer.AsSpan(0, len));
                long bad = model.FirstMismatch(off, buffer.AsSpan(0, len));
                if (bad >= 0) throw new Xunit.Sdk.XunitException($"thread {t}: concurrent read {off}+{len} wrong at {bad}");
                if (i % 10 == 0) dev.GetStatus(off, len);
            }
        });
    }

    [Fact]
    public void ConcurrentWritesToDisjointRangesAllLand()
    {
        var dev = NewDevice();
        // Stripes of an odd size, dealt round-robin, so threads share units, chunks and blocks.
        const int Stripe = 10_007;
        long stripes = dev.Length / Stripe;
        var expected = ExpectedInitialContents(dev.Length);
        for (long s = 0; s < stripes; s++)
        {
            var span = expected.AsSpan((int)(s * Stripe), Stripe);
            if (s % 7 == 3) span.Clear();
            else Pattern(Stripe, (int)s).CopyTo(span);
        }
        RunOnThreads(t =>
        {
            var order = Enumerable.Range(0, (int)stripes).Where(s => s % Threads == t).ToArray();
            new Random(t).Shuffle(order);
            foreach (int s in order)
            {
                if (s % 7 == 3) dev.WriteZeroes((long)s * Stripe, Stripe, mayUnmap: s % 2 == 0);
                else dev.Write((long)s * Stripe, Pattern(Stripe, s));
            }
        });
        var model = new DeviceModel(expected);
        model.AssertMatches(dev, 0, dev.Length, "after concurrent disjoint writes");
        AssertStatusConsistent(dev, model, "after concurrent disjoint writes");
    }
}
