namespace Discemu.Operations;

/// <summary>Reports progress of a long operation: bytes done so far and the total.</summary>
/// <param name="done">Bytes processed so far.</param>
/// <param name="total">Bytes the operation will process in all.</param>
public delegate void ProgressCallback(long done, long total);

/// <summary>Thread-safe byte counter that forwards to a <see cref="ProgressCallback"/>.</summary>
internal sealed class ProgressTracker(ProgressCallback? callback, long total)
{
    private long _done;
    private readonly Lock _lock = new();

    /// <summary>The total the tracker counts towards.</summary>
    public long Total => total;

    /// <summary>Adds <paramref name="bytes"/> and reports.</summary>
    public void Advance(long bytes)
    {
        if (callback is null || bytes <= 0) return;
        long done = Interlocked.Add(ref _done, bytes);
        lock (_lock) callback(Math.Min(done, total), total);
    }

    /// <summary>Reports completion.</summary>
    public void Complete()
    {
        if (callback is null) return;
        lock (_lock) callback(total, total);
    }
}
