using System.Buffers;
using Discemu.Block;
using Discemu.Formats;

namespace Discemu.Operations;

/// <summary>
/// Copies one device onto another the way <c>qemu-img convert</c> does: holes are never read or
/// written, zero runs become holes, a target with a backing file only receives what differs from
/// it, and compression runs on every core. Memory stays flat: a bounded number of pooled buffers
/// of <see cref="CopyOptions.ChunkSize"/> bytes are in flight at any time.
/// </summary>
public sealed partial class ImageCopier
{
    private readonly BlockDevice _source;
    private readonly BlockDevice _target;
    private readonly CopyOptions _options;
    private readonly ICompressedWriter? _compressor;
    private readonly long _unit;
    private readonly long _block;
    private readonly int _chunk;
    private readonly ProgressTracker _progress;
    private long _read, _written, _zeroed, _skipped;

    /// <summary>The message for compressed copies into a format without compressed clusters (qemu-img's wording).</summary>
    public const string CompressionUnsupportedMessage = "Compression not supported for this file format";

    private ImageCopier(BlockDevice source, BlockDevice target, CopyOptions options)
    {
        _source = source;
        _target = target;
        _options = options;
        if (!options.FlushTarget && target is DiskImage image) image.UseUnsafeCache();
        if (options.Compress)
        {
            _compressor = target as ICompressedWriter ?? throw new NotSupportedException(CompressionUnsupportedMessage);
            _unit = _compressor.CompressedUnit;
            if (_unit <= 0 || _unit > 64 << 20) throw new NotSupportedException($"Unusable compression unit of {_unit} bytes.");
        }
        else _unit = 1;
        // Granularity of zero detection and of comparison with the target's backing.
        _block = options.SparseSize > 0 ? options.SparseSize : options.TargetBacking is not null ? 512 : 0;
        long chunk = Math.Max(options.ChunkSize, _unit);
        _chunk = (int)(chunk + (_unit - chunk % _unit) % _unit);
        _progress = new ProgressTracker(options.Progress, source.Length);
    }

    /// <summary>Copies all of <paramref name="source"/> to the start of <paramref name="target"/>.</summary>
    /// <exception cref="BadArgumentException">An option is invalid, or the target is smaller than the source.</exception>
    /// <exception cref="NotSupportedException">Compression was asked for and the target cannot compress, or the target is read-only.</exception>
    /// <exception cref="OperationCanceledException">The copy was cancelled.</exception>
    public static CopyStatistics Copy(BlockDevice source, BlockDevice target, CopyOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        options ??= new CopyOptions();
        options.Validate();
        if (!target.CanWrite) throw new NotSupportedException("The target is read-only.");
        if (target.Length < source.Length)
            throw new BadArgumentException($"The target ({target.Length} bytes) is smaller than the source ({source.Length} bytes).");
        var copier = new ImageCopier(source, target, options);
        copier.Run();
        return new CopyStatistics(copier._read, copier._written, copier._zeroed, copier._skipped);
    }

    /// <summary>
    /// One planned piece of the copy: a range of the source that reads as zeros, or a window holding
    /// data. <see cref="KnownDataEnd"/> marks how far the planner already knows the window to be data,
    /// so the reader need not ask the source's status again for that part.
    /// </summary>
    private sealed class WorkItem(long offset, long length, bool zeroRange, long knownDataEnd)
    {
        public long Offset { get; } = offset;
        public long Length { get; } = length;
        public bool ZeroRange { get; } = zeroRange;
        public long KnownDataEnd { get; } = knownDataEnd;
        public long Sequence { get; set; }
        public ChunkBuffer? Buffer { get; set; }
        public List<WriteOp> Ops { get; } = [];
    }

    private enum OpKind { Data, Zero, ZeroData }

    /// <summary>A write to issue: data from the item's buffer, or zeros.</summary>
    private readonly record struct WriteOp(OpKind Kind, long Offset, long Length, int BufferStart);

    /// <summary>
    /// Walks the source's status and yields zero ranges (merged, unit-aligned) and data windows
    /// (at most one chunk, ending on a chunk boundary). The source is never read here, and each
    /// status answer is used for as many windows as it covers.
    /// </summary>
    private IEnumerable<WorkItem> Plan()
    {
        long end = _source.Length;
        long pos = 0;
        long statusStart = 0, statusEnd = 0;
        bool statusZero = false;
        while (pos < end)
        {
            _options.CancellationToken.ThrowIfCancellationRequested();
            if (pos >= statusEnd)
            {
                var st = _source.GetStatus(pos, end - pos);
                statusStart = pos;
                statusEnd = pos + st.Length;
                statusZero = st.IsZero;
            }
            if (statusZero)
            {
                long zeroEnd = statusEnd;
                while (zeroEnd < end)
                {
                    var next = _source.GetStatus(zeroEnd, end - zeroEnd);
                    if (!next.IsZero)
                    {
                        // Keep the data answer for the windows that follow.
                        statusZero = false;
                        statusStart = zeroEnd;
                        statusEnd = zeroEnd + next.Length;
                        break;
                    }
                    zeroEnd += next.Length;
                }
                if (zeroEnd >= end) statusEnd = end;
                long aligned = zeroEnd == end ? end : SparseIO.AlignDown(zeroEnd, _unit);
                if (aligned > pos)
                {
                    yield return new WorkItem(pos, aligned - pos, zeroRange: true, pos);
                    pos = aligned;
                    continue;
                }
                // A zero run shorter than a compression unit: it goes with the data window around it.
                long windowEnd0 = Math.Min(SparseIO.AlignDown(pos, _chunk) + _chunk, end);
                yield return new WorkItem(pos, windowEnd0 - pos, zeroRange: false, pos);
                pos = windowEnd0;
                continue;
            }
            long windowEnd = Math.Min(SparseIO.AlignDown(pos, _chunk) + _chunk, end);
            long known = pos >= statusStart ? Math.Min(statusEnd, windowEnd) : pos;
            yield return new WorkItem(pos, windowEnd - pos, zeroRange: false, known);
            pos = windowEnd;
        }
    }

    /// <summary>Reads a data window into <paramref name="buffer"/> and decides what to write (runs on a worker).</summary>
    private void Prepare(WorkItem item, ChunkBuffer? buffer)
    {
        if (item.ZeroRange)
        {
            PlanZeroRange(item);
            return;
        }
        int n = (int)item.Length;
        item.Buffer = buffer ?? throw new InvalidOperationException("A data window was planned without a buffer.");
        var data = buffer.Slice(0, n);
        ReadCounted(item, data);
        if (_compressor is not null) CompressWindow(item, data);
        else PlanWindow(item, data);
    }

    /// <summary>Reads a window; the part the planner knows to be data is read at once, the rest range by range skipping holes.</summary>
    private void ReadCounted(WorkItem item, Span<byte> data)
    {
        long offset = item.Offset;
        int known = (int)(item.KnownDataEnd - offset);
        if (known > 0)
        {
            _source.Read(offset, data[..known]);
            Interlocked.Add(ref _read, known);
            data = data[known..];
            offset += known;
        }
        while (!data.IsEmpty)
        {
            var st = _source.GetStatus(offset, data.Length);
            int n = (int)st.Length;
            if (st.IsZero) data[..n].Clear();
            else
            {
                _source.Read(offset, data[..n]);
                Interlocked.Add(ref _read, n);
            }
            data = data[n..];
            offset += n;
        }
    }

    private void PlanZeroRange(WorkItem item)
    {
        if (_options.SparseSize == 0) item.Ops.Add(new WriteOp(OpKind.ZeroData, item.Offset, item.Length, 0));
        else if (_options.TargetBacking is { } backing) AddZeroesOverBackingData(item.Ops, backing, item.Offset, item.Length);
        else if (!_options.TargetIsZero) item.Ops.Add(new WriteOp(OpKind.Zero, item.Offset, item.Length, 0));
        else Interlocked.Add(ref _skipped, item.Length);
    }

    /// <summary>Zeros the parts of a range where the target's backing does not read as zeros.</summary>
    private void AddZeroesOverBackingData(List<WriteOp> ops, BlockDevice backing, long offset, long length)
    {
        long end = Math.Min(offset + length, backing.Length);
        long pos = offset;
        while (pos < end)
        {
            var st = backing.GetStatus(pos, end - pos);
            if (st.IsZero) Interlocked.Add(ref _skipped, st.Length);
            else ops.Add(new WriteOp(OpKind.Zero, pos, st.Length, 0));
            pos += st.Length;
        }
        if (offset + length > pos) Interlocked.Add(ref _skipped, offset + length - Math.Max(pos, offset));
    }

    /// <summary>Splits a data window into blocks and records, merged, which to write, zero or skip.</summary>
    private void PlanWindow(WorkItem item, ReadOnlySpan<byte> data)
    {
        if (_block == 0)
        {
            item.Ops.Add(new WriteOp(OpKind.Data, item.Offset, item.Length, 0));
            return;
        }
        if (_options.TargetBacking is null)
        {
            PlanWindowRuns(item, data);
            return;
        }
        byte[] backingBuffer = ArrayPool<byte>.Shared.Rent((int)_block);
        try
        {
            long pos = item.Offset, end = item.Offset + item.Length;
            while (pos < end)
            {
                long blockEnd = Math.Min(SparseIO.AlignDown(pos, _block) + _block, end);
                int start = (int)(pos - item.Offset), len = (int)(blockEnd - pos);
                var kind = Decide(pos, data.Slice(start, len), backingBuffer);
                if (kind is { } k) AddMerged(item.Ops, new WriteOp(k, pos, len, start));
                else Interlocked.Add(ref _skipped, len);
                pos = blockEnd;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(backingBuffer);
        }
    }

    /// <summary>
    /// Without a backing file, blocks are either data (written) or all zeros (zeroed, or skipped on a
    /// target that already reads zeros). Finds the runs of each with vectorized scans instead of
    /// testing block by block: a run of zero blocks ends at the block holding the first non-zero
    /// byte; a run of data blocks ends at the first block that is all zeros.
    /// </summary>
    private void PlanWindowRuns(WorkItem item, ReadOnlySpan<byte> data)
    {
        long baseOffset = item.Offset;
        int n = data.Length, pos = 0;
        long skipped = 0;
        while (pos < n)
        {
            int nonZero = data[pos..].IndexOfAnyExcept((byte)0);
            int zeroEnd = nonZero < 0 ? n : Math.Max(pos, BlockStart(baseOffset, pos + nonZero));
            if (zeroEnd > pos)
            {
                if (_options.TargetIsZero) skipped += zeroEnd - pos;
                else item.Ops.Add(new WriteOp(OpKind.Zero, baseOffset + pos, zeroEnd - pos, pos));
                pos = zeroEnd;
                if (pos >= n) break;
            }
            int dataEnd = pos;
            do dataEnd = BlockEnd(baseOffset, dataEnd, n);
            while (dataEnd < n && !SparseIO.IsZero(data[dataEnd..BlockEnd(baseOffset, dataEnd, n)]));
            item.Ops.Add(new WriteOp(OpKind.Data, baseOffset + pos, dataEnd - pos, pos));
            pos = dataEnd;
        }
        if (skipped > 0) Interlocked.Add(ref _skipped, skipped);
    }

    /// <summary>Start, relative to the window, of the block holding window byte <paramref name="rel"/>.</summary>
    private int BlockStart(long baseOffset, int rel) => (int)(SparseIO.AlignDown(baseOffset + rel, _block) - baseOffset);

    /// <summary>End, relative to the window and at most <paramref name="n"/>, of the block holding window byte <paramref name="rel"/>.</summary>
    private int BlockEnd(long baseOffset, int rel, int n) => (int)Math.Min(SparseIO.AlignDown(baseOffset + rel, _block) + _block - baseOffset, n);

    /// <summary>What to do with one block of source data: write it, zero it, or nothing (null).</summary>
    private OpKind? Decide(long offset, ReadOnlySpan<byte> data, byte[]? backingBuffer)
    {
        bool zero = SparseIO.IsZero(data);
        if (_options.TargetBacking is { } backing)
        {
            if (EqualsBacking(backing, offset, data, zero, backingBuffer!)) return null;
            return zero ? (_options.SparseSize == 0 ? OpKind.Data : OpKind.Zero) : OpKind.Data;
        }
        if (!zero || _options.SparseSize == 0) return OpKind.Data;
        return _options.TargetIsZero ? null : OpKind.Zero;
    }

    /// <summary>True when the backing reads exactly <paramref name="data"/> at <paramref name="offset"/>.</summary>
    private static bool EqualsBacking(BlockDevice backing, long offset, ReadOnlySpan<byte> data, bool dataIsZero, byte[] buffer)
    {
        long inside = Math.Clamp(backing.Length - offset, 0, data.Length);
        // Past the backing's end the target reads zeros.
        if (inside < data.Length && !SparseIO.IsZero(data[(int)inside..])) return false;
        if (inside == 0) return true;
        if (SparseIO.IsKnownZero(backing, offset, inside)) return dataIsZero || SparseIO.IsZero(data[..(int)inside]);
        var span = buffer.AsSpan(0, (int)inside);
        SparseIO.ReadSkippingHoles(backing, offset, span);
        return span.SequenceEqual(data[..(int)inside]);
    }

    private static void AddMerged(List<WriteOp> ops, WriteOp op)
    {
        if (ops.Count > 0)
        {
            var last = ops[^1];
            if (last.Kind == op.Kind && last.Offset + last.Length == op.Offset)
            {
                ops[^1] = last with { Length = last.Length + op.Length };
                return;
            }
        }
        ops.Add(op);
    }

    /// <summary>Compresses and writes a window unit by unit, on the calling worker.</summary>
    private void CompressWindow(WorkItem item, ReadOnlySpan<byte> data)
    {
        byte[]? backingBuffer = _options.TargetBacking is null ? null : ArrayPool<byte>.Shared.Rent((int)_unit);
        try
        {
            long pos = item.Offset, end = item.Offset + item.Length;
            while (pos < end)
            {
                long unitEnd = Math.Min(SparseIO.AlignDown(pos, _unit) + _unit, end);
                int start = (int)(pos - item.Offset), len = (int)(unitEnd - pos);
                var unit = data.Slice(start, len);
                bool zero = SparseIO.IsZero(unit);
                if (_options.TargetBacking is { } backing && EqualsBacking(backing, pos, unit, zero, backingBuffer!))
                    Interlocked.Add(ref _skipped, len);
                else if (zero && _options.SparseSize > 0)
                {
                    if (_options.TargetBacking is null && _options.TargetIsZero) Interlocked.Add(ref _skipped, len);
                    else item.Ops.Add(new WriteOp(OpKind.Zero, pos, len, start));
                }
                else
                {
                    _compressor!.WriteCompressed(pos, unit);
                    Interlocked.Add(ref _written, len);
                }
                pos = unitEnd;
            }
        }
        finally
        {
            if (backingBuffer is not null) ArrayPool<byte>.Shared.Return(backingBuffer);
        }
    }

    /// <summary>Issues an item's writes in order.</summary>
    private void Execute(WorkItem item)
    {
        foreach (var op in item.Ops)
        {
            switch (op.Kind)
            {
                case OpKind.Data:
                    _target.Write(op.Offset, item.Buffer!.Slice(op.BufferStart, (int)op.Length));
                    Interlocked.Add(ref _written, op.Length);
                    break;
                case OpKind.Zero:
                    _target.WriteZeroes(op.Offset, op.Length, mayUnmap: _options.TargetBacking is null);
                    Interlocked.Add(ref _zeroed, op.Length);
                    break;
                case OpKind.ZeroData:
                    WriteZeroData(op.Offset, op.Length);
                    break;
            }
        }
        _progress.Advance(item.Length);
    }

    /// <summary>Writes literal zero buffers, so the target ends up allocated (-S 0).</summary>
    private void WriteZeroData(long offset, long length)
    {
        int size = (int)Math.Min(length, _chunk);
        byte[] zeros = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            Array.Clear(zeros, 0, size);
            for (long end = offset + length; offset < end;)
            {
                int n = (int)Math.Min(end - offset, size);
                _target.Write(offset, zeros.AsSpan(0, n));
                Interlocked.Add(ref _written, n);
                offset += n;
            }
        }
        finally { ArrayPool<byte>.Shared.Return(zeros); }
    }
}
