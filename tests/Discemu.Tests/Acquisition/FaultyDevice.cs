using Discemu.Acquisition;
using Discemu.Block;

namespace Discemu.Tests.Acquisition;

/// <summary>A clock the tests advance by hand (a slow device advances it as it "reads").</summary>
internal sealed class ManualClock : IAcquisitionClock
{
    private long _ticks;

    public TimeSpan Elapsed => TimeSpan.FromTicks(Interlocked.Read(ref _ticks));

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}

/// <summary>
/// A failing disk for the rescue tests: fixed content, with unreadable ranges (every read touching one fails),
/// flaky ranges (reads touching them fail a given number of times, then succeed) and slow ranges (reading them
/// advances the <see cref="ManualClock"/> at a given rate; everything else reads at 1 GB/s of simulated time).
/// Every read is recorded, so tests can prove which areas were read and how often.
/// </summary>
internal sealed class FaultyDevice : BlockDevice
{
    private readonly byte[] _content;
    private readonly List<(long Start, long End)> _bad = [];
    private readonly List<(long Start, long End, int[] Left)> _flaky = [];
    private readonly List<(long Start, long End, double Rate)> _slow = [];
    private readonly List<(long Offset, int Length, bool Ok)> _reads = [];

    public FaultyDevice(byte[] content, ManualClock? clock = null)
    {
        _content = content;
        Clock = clock ?? new ManualClock();
    }

    /// <summary>A device of <paramref name="size"/> bytes of seeded random content.</summary>
    public static FaultyDevice Random(int size, int seed = 1)
    {
        var content = new byte[size];
        new Random(seed).NextBytes(content);
        return new FaultyDevice(content);
    }

    public ManualClock Clock { get; }

    /// <summary>The simulated rate of ranges that are not slow (default 1 GB/s).</summary>
    public double FastRate { get; set; } = 1e9;

    public byte[] Content => _content;

    /// <summary>Called after every read with the number of reads so far (tests cancel from here).</summary>
    public Action<int>? AfterRead { get; set; }

    public IReadOnlyList<(long Offset, int Length, bool Ok)> Reads { get { lock (_reads) return [.. _reads]; } }

    public void ClearReads() { lock (_reads) _reads.Clear(); }

    public FaultyDevice Bad(long offset, long length)
    {
        _bad.Add((offset, offset + length));
        return this;
    }

    public FaultyDevice Flaky(long offset, long length, int failures)
    {
        _flaky.Add((offset, offset + length, [failures]));
        return this;
    }

    public FaultyDevice Slow(long offset, long length, double bytesPerSecond)
    {
        _slow.Add((offset, offset + length, bytesPerSecond));
        return this;
    }

    public override long Length => _content.Length;

    public override DeviceCapabilities Capabilities => 0;

    protected override void ReadCore(long offset, Span<byte> buffer)
    {
        long end = offset + buffer.Length;
        double seconds = 0;
        long slowBytes = 0;
        foreach (var (s, e, rate) in _slow)
        {
            long overlap = Math.Min(e, end) - Math.Max(s, offset);
            if (overlap > 0)
            {
                seconds += overlap / rate;
                slowBytes += overlap;
            }
        }
        seconds += (buffer.Length - slowBytes) / FastRate;
        Clock.Advance(TimeSpan.FromSeconds(seconds));
        bool ok = !_bad.Any(b => b.Start < end && offset < b.End);
        foreach (var (s, e, left) in _flaky)
        {
            if (s < end && offset < e && left[0] > 0)
            {
                left[0]--;
                ok = false;
            }
        }
        int count;
        lock (_reads)
        {
            _reads.Add((offset, buffer.Length, ok));
            count = _reads.Count;
        }
        try
        {
            if (!ok) throw new IOException("Input/output error");
            _content.AsSpan((int)offset, buffer.Length).CopyTo(buffer);
        }
        finally { AfterRead?.Invoke(count); }
    }

    /// <summary>The image a perfect rescue produces: the content with every sector touching a bad range filled.</summary>
    public byte[] Expected(int sectorSize, ReadOnlySpan<byte> fill = default)
    {
        var image = (byte[])_content.Clone();
        foreach (var (s, e) in BadSectors(sectorSize))
            for (long i = s; i < e; i++) image[i] = fill.IsEmpty ? (byte)0 : fill[(int)(i % fill.Length)];
        return image;
    }

    /// <summary>The bad ranges widened to whole sectors and merged.</summary>
    public List<(long Start, long End)> BadSectors(int sectorSize)
    {
        var ranges = _bad.Select(b => (Start: b.Start / sectorSize * sectorSize, End: Math.Min(_content.Length, (b.End + sectorSize - 1) / sectorSize * sectorSize)))
            .OrderBy(r => r.Start).ToList();
        var merged = new List<(long Start, long End)>();
        foreach (var r in ranges)
        {
            if (merged.Count > 0 && r.Start <= merged[^1].End) merged[^1] = (merged[^1].Start, Math.Max(merged[^1].End, r.End));
            else merged.Add(r);
        }
        return merged;
    }
}
