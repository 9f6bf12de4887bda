using Discemu.Block;

namespace Discemu.Operations;

/// <summary>How a comparison ended.</summary>
public enum CompareOutcome
{
    /// <summary>The devices read the same (a longer one reads zeros past the other's end).</summary>
    Identical,
    /// <summary>Content differs at <see cref="CompareResult.Offset"/>.</summary>
    ContentMismatch,
    /// <summary>Strict mode: the allocation status differs at <see cref="CompareResult.Offset"/>.</summary>
    StatusMismatch,
    /// <summary>Strict mode: the sizes differ.</summary>
    SizeMismatch,
}

/// <summary>The answer of <see cref="ImageComparer.Compare"/>.</summary>
/// <param name="Outcome">What was found.</param>
/// <param name="Offset">Where the first difference starts (rounded down to 512 bytes), for mismatches.</param>
/// <param name="SizesDiffer">True when the devices have different lengths.</param>
public sealed record CompareResult(CompareOutcome Outcome, long? Offset, bool SizesDiffer)
{
    /// <summary>True when no difference was found.</summary>
    public bool Identical => Outcome == CompareOutcome.Identical;
}

/// <summary>
/// Compares two devices like <c>qemu-img compare</c>: ranges both report as zeros are skipped,
/// a range one side reports as zeros is only read on the other side, and a longer device must read
/// zeros past the shorter one's end (strict mode instead requires equal sizes and equal allocation).
/// Windows are read and compared on every core; the answer is the same as a front-to-back scan's.
/// </summary>
public static partial class ImageComparer
{
    private const int Chunk = 2 << 20;
    private const int SectorSize = 512;
    private const int MaxWorkers = 8;

    /// <summary>Compares <paramref name="a"/> with <paramref name="b"/>.</summary>
    /// <param name="a">The first device.</param>
    /// <param name="b">The second device.</param>
    /// <param name="strict">Also require equal sizes and equal allocation status.</param>
    /// <param name="progress">Progress over the longer length.</param>
    /// <param name="cancellationToken">Stops the comparison.</param>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public static CompareResult Compare(BlockDevice a, BlockDevice b, bool strict = false, ProgressCallback? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        bool sizesDiffer = a.Length != b.Length;
        if (strict && sizesDiffer) return new CompareResult(CompareOutcome.SizeMismatch, null, true);
        var tracker = new ProgressTracker(progress, Math.Max(a.Length, b.Length));
        var scan = new Scan(a, b, strict, tracker, cancellationToken);
        int workers = Math.Clamp(Environment.ProcessorCount, 1, MaxWorkers);
        scan.Run(workers);
        if (scan.FirstDifference is { } d)
            return new CompareResult(CompareOutcome.ContentMismatch, SparseIO.AlignDown(d, SectorSize), sizesDiffer);
        if (scan.StatusMismatch is { } s)
            return new CompareResult(CompareOutcome.StatusMismatch, s, sizesDiffer);
        tracker.Complete();
        return new CompareResult(CompareOutcome.Identical, null, sizesDiffer);
    }

    private static BlockStatusFlags Normalize(BlockStatus s)
        => s.Flags & (BlockStatusFlags.Data | BlockStatusFlags.Zero | BlockStatusFlags.Allocated);
}
