using System.Buffers;
using Discemu.Block;
using Discemu.Formats;

namespace Discemu.Operations;

/// <summary>
/// Writes the ranges an image (and the layers above its commit target) defines into a layer
/// further down its backing chain, like <c>qemu-img commit</c>.
/// </summary>
public static class ImageCommitter
{
    private const int Chunk = 1 << 20;

    /// <summary>
    /// Copies every range of <paramref name="top"/> defined at a depth below
    /// <paramref name="baseDepth"/> into <paramref name="baseDevice"/>; then, with
    /// <paramref name="emptyTop"/>, discards the ranges <paramref name="top"/> itself defines so
    /// reads fall through to the backing again.
    /// </summary>
    /// <param name="top">The image as a whole (reads go through its backing chain).</param>
    /// <param name="baseDevice">The layer to commit into, opened for writing.</param>
    /// <param name="baseDepth">Its depth in <paramref name="top"/>'s chain (1 = the immediate backing file).</param>
    /// <param name="emptyTop">Discard the top's own ranges afterwards (when it supports discard).</param>
    /// <param name="progress">Progress over the top's length.</param>
    /// <param name="cancellationToken">Stops the commit.</param>
    /// <returns>Bytes committed.</returns>
    /// <exception cref="NotSupportedException">The base is read-only, or smaller and cannot grow.</exception>
    public static long Commit(BlockDevice top, BlockDevice baseDevice, int baseDepth = 1, bool emptyTop = true,
        ProgressCallback? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(top);
        ArgumentNullException.ThrowIfNull(baseDevice);
        ArgumentOutOfRangeException.ThrowIfLessThan(baseDepth, 1);
        if (!baseDevice.CanWrite) throw new NotSupportedException("The base image is read-only.");
        if (baseDevice.Length < top.Length) baseDevice.Resize(top.Length);
        var tracker = new ProgressTracker(progress, top.Length);
        long committed = 0;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(Chunk);
        try
        {
            for (long pos = 0, end = top.Length; pos < end;)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var st = top.GetStatus(pos, end - pos);
                if (st.IsAllocated && st.Depth < baseDepth)
                {
                    if (st.IsZero) baseDevice.WriteZeroes(pos, st.Length, mayUnmap: false);
                    else CopyRange(top, baseDevice, pos, st.Length, buffer);
                    committed += st.Length;
                }
                pos += st.Length;
                tracker.Advance(st.Length);
            }
            baseDevice.Flush();
            if (emptyTop && top.CanWrite)
            {
                if (top is IEmptyableImage emptyable) emptyable.MakeEmpty();
                else if ((top.Capabilities & DeviceCapabilities.Discard) != 0) Empty(top);
            }
        }
        finally { ArrayPool<byte>.Shared.Return(buffer); }
        tracker.Complete();
        return committed;
    }

    private static void CopyRange(BlockDevice from, BlockDevice to, long offset, long length, byte[] buffer)
    {
        for (long done = 0; done < length;)
        {
            int n = (int)Math.Min(buffer.Length, length - done);
            var span = buffer.AsSpan(0, n);
            from.Read(offset + done, span);
            to.Write(offset + done, span);
            done += n;
        }
    }

    private static void Empty(BlockDevice top)
    {
        var own = new List<(long Offset, long Length)>();
        for (long pos = 0, end = top.Length; pos < end;)
        {
            var st = top.GetStatus(pos, end - pos);
            if (st.IsAllocated && st.Depth == 0) own.Add((pos, st.Length));
            pos += st.Length;
        }
        foreach (var (offset, length) in own) top.Discard(offset, length);
        top.Flush();
    }
}
