using System.Buffers;
using Discemu.Block;

namespace Discemu.Operations;

/// <summary>
/// The data half of a safe <c>qemu-img rebase</c>: before an image's backing reference changes,
/// copy into the image every range where what it shows now (through its old chain) differs from
/// what the new backing would show, so the guest-visible content stays the same.
/// </summary>
public static class ImageRebaser
{
    /// <summary>
    /// Writes into <paramref name="image"/> the ranges it does not define itself (depth &gt; 0 or
    /// unallocated) whose content differs from <paramref name="newBacking"/> (null: no backing,
    /// which reads as zeros). Comparison and writes happen in blocks of <paramref name="granularity"/> bytes.
    /// </summary>
    /// <param name="image">The image, opened writable with its current backing chain.</param>
    /// <param name="newBacking">The backing it will have, or null for none.</param>
    /// <param name="granularity">Block size of comparisons (the image's cluster size is a good choice).</param>
    /// <param name="progress">Progress over the image's length.</param>
    /// <param name="cancellationToken">Stops the copy.</param>
    /// <returns>Bytes written into the image.</returns>
    /// <exception cref="NotSupportedException">The image is read-only.</exception>
    public static long CopyDifferences(BlockDevice image, BlockDevice? newBacking, int granularity = 65536,
        ProgressCallback? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentOutOfRangeException.ThrowIfLessThan(granularity, 512);
        if (!image.CanWrite) throw new NotSupportedException("The image is read-only.");
        var tracker = new ProgressTracker(progress, image.Length);
        long written = 0;
        byte[] oldBuf = ArrayPool<byte>.Shared.Rent(granularity), newBuf = ArrayPool<byte>.Shared.Rent(granularity);
        try
        {
            for (long pos = 0, end = image.Length; pos < end;)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var st = image.GetStatus(pos, end - pos);
                if (!(st.IsAllocated && st.Depth == 0))
                    written += CopyRange(image, newBacking, pos, st.Length, st.IsZero, granularity, oldBuf, newBuf);
                pos += st.Length;
                tracker.Advance(st.Length);
            }
            image.Flush();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(oldBuf);
            ArrayPool<byte>.Shared.Return(newBuf);
        }
        tracker.Complete();
        return written;
    }

    private static long CopyRange(BlockDevice image, BlockDevice? newBacking, long offset, long length, bool oldZero,
        int granularity, byte[] oldBuf, byte[] newBuf)
    {
        long written = 0;
        for (long pos = offset, end = offset + length; pos < end;)
        {
            long blockEnd = Math.Min(SparseIO.AlignDown(pos, granularity) + granularity, end);
            int n = (int)(blockEnd - pos);
            bool newZero = newBacking is null || pos >= newBacking.Length
                || (blockEnd <= newBacking.Length && SparseIO.IsKnownZero(newBacking, pos, n));
            if (!(oldZero && newZero))
            {
                var oldSpan = oldBuf.AsSpan(0, n);
                if (oldZero) oldSpan.Clear();
                else image.Read(pos, oldSpan);
                var newSpan = newBuf.AsSpan(0, n);
                ReadNew(newBacking, pos, newSpan, newZero);
                if (!oldSpan.SequenceEqual(newSpan))
                {
                    if (SparseIO.IsZero(oldSpan)) image.WriteZeroes(pos, n, mayUnmap: false);
                    else image.Write(pos, oldSpan);
                    written += n;
                }
            }
            pos = blockEnd;
        }
        return written;
    }

    private static void ReadNew(BlockDevice? backing, long offset, Span<byte> buffer, bool knownZero)
    {
        buffer.Clear();
        if (knownZero || backing is null || offset >= backing.Length) return;
        int inside = (int)Math.Min(buffer.Length, backing.Length - offset);
        SparseIO.ReadSkippingHoles(backing, offset, buffer[..inside]);
    }
}
