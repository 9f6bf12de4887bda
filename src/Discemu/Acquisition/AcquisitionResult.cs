namespace Discemu.Acquisition;

/// <summary>The outcome of an <see cref="AcquisitionEngine"/> run.</summary>
public sealed class AcquisitionResult
{
    internal AcquisitionResult(RescueMap map) => Map = map;

    /// <summary>The final map (every byte finished, or unreadable and filled).</summary>
    public RescueMap Map { get; }

    /// <summary>True when the forensic sequential mode ran.</summary>
    public bool Sequential { get; internal init; }

    /// <summary>The media size.</summary>
    public long Size => Map.Size;

    /// <summary>Bytes recovered (finished), over every run that contributed to the map.</summary>
    public long Recovered => Map.TotalOf(RescueBlockStatus.Finished);

    /// <summary>Bytes not recovered (written as fill).</summary>
    public long Unrecovered => Map.Size - Recovered;

    /// <summary>The ranges not recovered, in order, with their state (bad sectors, or areas a limited run left untried).</summary>
    public IReadOnlyList<RescueBlock> UnrecoveredRanges => [.. Map.Blocks.Where(b => b.Status != RescueBlockStatus.Finished)];

    /// <summary>Bytes read successfully from the source in this run.</summary>
    public long BytesRead { get; internal set; }

    /// <summary>Read calls issued to the source in this run.</summary>
    public long Reads { get; internal set; }

    /// <summary>Failed read attempts in this run.</summary>
    public long ReadErrors { get; internal set; }

    /// <summary>Reads slower than the minimum rate or the timeout in this run.</summary>
    public long SlowReads { get; internal set; }

    /// <summary>The hashes of the acquired media (lower-case hex by algorithm name).</summary>
    public IReadOnlyDictionary<string, string> Hashes { get; internal set; } = new Dictionary<string, string>();

    /// <summary>
    /// Bytes whose hash was computed from the data as it was read; the rest (from this offset on) was hashed by
    /// re-reading the destination after the rescue, because the reads there went out of order.
    /// </summary>
    public long HashedWhileReading { get; internal set; }

    /// <summary>The run's duration.</summary>
    public TimeSpan Elapsed { get; internal set; }
}
