using System.Buffers;
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
/// </summary>
public static class ImageComparer
{
    private const int Chunk = 1 << 20;
    private const int SectorSize = 512;

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
        long common = Math.Min(a.Length, b.Length);
        var tracker = new ProgressTracker(progress, Math.Max(a.Length, b.Length));
        byte[] bufA = ArrayPool<byte>.Shared.Rent(Chunk), bufB = ArrayPool<byte>.Shared.Rent(Chunk);
        try
        {
            long pos = 0;
            while (pos < common)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var sa = a.GetStatus(pos, common - pos);
                var sb = b.GetStatus(pos, common - pos);
                long n = Math.Min(sa.Length, sb.Length);
                if (strict && Normalize(sa) != Normalize(sb)) return new CompareResult(CompareOutcome.StatusMismatch, pos, sizesDiffer);
                long? diff = (sa.IsZero, sb.IsZero) switch
                {
                    (true, true) => null,
                    (true, false) => FirstNonZero(b, pos, n, bufB),
                    (false, true) => FirstNonZero(a, pos, n, bufA),
                    _ => FirstDifference(a, b, pos, n, bufA, bufB),
                };
                if (diff is { } d) return new CompareResult(CompareOutcome.ContentMismatch, SparseIO.AlignDown(d, SectorSize), sizesDiffer);
                pos += n;
                tracker.Advance(n);
            }
            if (sizesDiffer)
            {
                var longer = a.Length > b.Length ? a : b;
                long? tail = FirstNonZeroSparse(longer, common, longer.Length - common, bufA, cancellationToken);
                if (tail is { } t) return new CompareResult(CompareOutcome.ContentMismatch, SparseIO.AlignDown(t, SectorSize), true);
            }
            tracker.Complete();
            return new CompareResult(CompareOutcome.Identical, null, sizesDiffer);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bufA);
            ArrayPool<byte>.Shared.Return(bufB);
        }
    }

    private static BlockStatusFlags Normalize(BlockStatus s)
        => s.Flags & (BlockStatusFlags.Data | BlockStatusFlags.Zero | BlockStatusFlags.Allocated);

    private static long? FirstNonZeroSparse(BlockDevice dev, long offset, long length, byte[] buffer, CancellationToken token)
    {
        long end = offset + length;
        while (offset < end)
        {
            token.ThrowIfCancellationRequested();
            var st = dev.GetStatus(offset, end - offset);
            if (!st.IsZero && FirstNonZero(dev, offset, st.Length, buffer) is { } hit) return hit;
            offset += st.Length;
        }
        return null;
    }

    private static long? FirstNonZero(BlockDevice dev, long offset, long length, byte[] buffer)
    {
        for (long done = 0; done < length;)
        {
            int n = (int)Math.Min(Chunk, length - done);
            var span = buffer.AsSpan(0, n);
            dev.Read(offset + done, span);
            int i = span.IndexOfAnyExcept((byte)0);
            if (i >= 0) return offset + done + i;
            done += n;
        }
        return null;
    }

    private static long? FirstDifference(BlockDevice a, BlockDevice b, long offset, long length, byte[] bufA, byte[] bufB)
    {
        for (long done = 0; done < length;)
        {
            int n = (int)Math.Min(Chunk, length - done);
            var sa = bufA.AsSpan(0, n);
            var sb = bufB.AsSpan(0, n);
            a.Read(offset + done, sa);
            b.Read(offset + done, sb);
            int i = sa.CommonPrefixLength(sb);
            if (i < n) return offset + done + i;
            done += n;
        }
        return null;
    }
}
