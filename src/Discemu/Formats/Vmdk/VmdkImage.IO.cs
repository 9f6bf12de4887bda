using Discemu.Block;

namespace Discemu.Formats.Vmdk;

public sealed partial class VmdkImage
{
    /// <inheritdoc/>
    protected override void ReadCore(long offset, Span<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            int i = ExtentAt(offset);
            var extent = _extents[i];
            long within = offset - _starts[i];
            var run = extent.Map(within, Math.Min(buffer.Length, extent.Length - within), mergeCompressed: false);
            var part = buffer[..(int)run.Length];
            switch (run.Kind)
            {
                case ExtentRunKind.Data: extent.ReadHost(run.HostOffset, part); break;
                case ExtentRunKind.Zero: part.Clear(); break;
                case ExtentRunKind.Compressed: extent.ReadCompressed(within, part); break;
                default: ReadBacking(offset, part); break;
            }
            offset += part.Length;
            buffer = buffer[part.Length..];
        }
    }

    /// <summary>Reads what shows through unallocated grains: the parent, zeros past its end or without one.</summary>
    private void ReadBacking(long offset, Span<byte> part) => ReadBelow(_backing, offset, part);

    /// <summary>The fill function of extent <paramref name="index"/>: what lies below, zeros past the extent's end.</summary>
    private ExtentFill FillFor(int index) => (within, dest) =>
    {
        long inside = Math.Clamp(_extents[index].Length - within, 0, dest.Length);
        ReadBacking(_starts[index] + within, dest[..(int)inside]);
        dest[(int)inside..].Clear();
    };

    /// <inheritdoc/>
    protected override BlockStatus GetStatusCore(long offset, long maxLength)
    {
        int i = ExtentAt(offset);
        var extent = _extents[i];
        long within = offset - _starts[i];
        var run = extent.Map(within, Math.Min(maxLength, extent.Length - within), mergeCompressed: true);
        return run.Kind switch
        {
            ExtentRunKind.Data => new BlockStatus(run.Length, BlockStatusFlags.Data | BlockStatusFlags.Allocated, 0, run.HostOffset),
            ExtentRunKind.Zero => new BlockStatus(run.Length, BlockStatusFlags.Zero | BlockStatusFlags.Allocated),
            ExtentRunKind.Compressed => new BlockStatus(run.Length, BlockStatusFlags.Data | BlockStatusFlags.Allocated | BlockStatusFlags.Compressed),
            _ => BackingStatus(offset, run.Length),
        };
    }

    private BlockStatus BackingStatus(long offset, long length)
    {
        var backing = _backing;
        if (backing is null) return new BlockStatus(length, BlockStatusFlags.None);
        long available = backing.Length - offset;
        if (available <= 0) return new BlockStatus(length, BlockStatusFlags.Zero);
        return backing.GetStatus(offset, Math.Min(length, available)).Deeper();
    }

    /// <inheritdoc/>
    protected override void WriteCore(long offset, ReadOnlySpan<byte> data)
    {
        EnsureCidUpdated();
        int done = 0;
        while (done < data.Length)
        {
            int i = WritableExtentAt(offset + done);
            long within = offset + done - _starts[i];
            int n = (int)Math.Min(data.Length - done, _extents[i].Length - within);
            _extents[i].Write(within, data.Slice(done, n), FillFor(i));
            done += n;
        }
    }

    private int WritableExtentAt(long offset)
    {
        int i = ExtentAt(offset);
        if (!_extents[i].CanWrite) throw new NotSupportedException($"The VMDK extent '{_extents[i].Line.FileName ?? "ZERO"}' is read-only.");
        return i;
    }

    /// <inheritdoc/>
    protected override void WriteZeroesCore(long offset, long length, bool mayUnmap)
    {
        EnsureCidUpdated();
        bool unallocatedIsZero = BackingFileName is null;
        ForEachExtent(offset, length, (i, within, _, n) => _extents[i].WriteZeroes(within, n, mayUnmap, unallocatedIsZero, FillFor(i)));
    }

    /// <inheritdoc/>
    protected override void DiscardCore(long offset, long length)
    {
        EnsureCidUpdated();
        ForEachExtent(offset, length, (i, within, _, n) => _extents[i].Discard(within, n));
    }

    private delegate void ExtentAction(int index, long within, long done, long length);

    /// <summary>Splits a range by extent and calls <paramref name="action"/> for each piece.</summary>
    private void ForEachExtent(long offset, long length, ExtentAction action)
    {
        long done = 0;
        while (done < length)
        {
            int i = WritableExtentAt(offset + done);
            long within = offset + done - _starts[i];
            long n = Math.Min(length - done, _extents[i].Length - within);
            action(i, within, done, n);
            done += n;
        }
    }

    /// <inheritdoc/>
    protected override void FlushCore()
    {
        foreach (var e in _extents) e.Flush();
    }
}
