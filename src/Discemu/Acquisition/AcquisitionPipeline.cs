using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using Discemu.Operations;

namespace Discemu.Acquisition;

/// <summary>
/// Carries what the engine reads to the destination and the hashers, in parallel with the next reads.
/// The engine reads straight into a chunk buffer (<see cref="Reserve"/>); contiguous successful reads
/// accumulate in one chunk (growing up in a forward pass, down in a backward one), which is handed to
/// the writer thread and, when it continues the data hashed so far in media order, to every hash thread.
/// Memory is a fixed set of buffers: the engine waits for a free one when the consumers lag behind.
/// </summary>
internal sealed class AcquisitionPipeline : IDisposable
{
    private readonly AcquisitionSink _sink;
    private readonly MultiHasher? _hasher;
    private readonly int _bufferSize;
    private readonly int _bufferLimit;
    private readonly BlockingCollection<ChunkBuffer> _free = [];
    private readonly BlockingCollection<Item> _writes = [];
    private readonly Thread _writer;
    private readonly object _gate = new();
    private int _allocated;
    private long _pendingWrites;
    private ExceptionDispatchInfo? _failure;
    private Chunk? _current;
    private bool _disposed;

    public AcquisitionPipeline(AcquisitionSink sink, MultiHasher? hasher, int bufferSize, int buffers, bool sparse)
    {
        _sink = sink;
        _hasher = hasher is { Count: > 0 } ? hasher : null;
        _bufferSize = bufferSize;
        _bufferLimit = buffers;
        Sparse = sparse;
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "discemu-acquire-write" };
        _writer.Start();
    }

    /// <summary>The largest read <see cref="Reserve"/> accepts.</summary>
    public int BufferSize => _bufferSize;

    /// <summary>Whether submitted chunks go to the destination (off for the final hash pass over the destination).</summary>
    public bool WriteEnabled { get; set; } = true;

    /// <summary>The data from 0 up to here has been handed to the hashers, in order.</summary>
    public long HashedUpTo { get; private set; }

    /// <summary>False once a chunk arrived out of media order: the rest must be hashed from the destination.</summary>
    public bool HashingInOrder { get; private set; } = true;

    /// <summary>Restarts in-order hashing at <see cref="HashedUpTo"/> (the final pass reads the destination from there).</summary>
    public void ResumeInOrderHashing() => HashingInOrder = true;

    /// <summary>
    /// A span of <paramref name="length"/> bytes to read the media range at <paramref name="offset"/> into.
    /// Its content becomes part of the stream only after <see cref="Commit"/>.
    /// </summary>
    public Span<byte> Reserve(long offset, int length, bool backward)
    {
        ThrowIfFailed();
        if (length <= 0 || length > _bufferSize) throw new ArgumentOutOfRangeException(nameof(length));
        var c = _current;
        if (c is not null)
        {
            if (!backward && !c.Backward && offset == c.End && c.Hi + length <= _bufferSize) return c.Buffer.Slice(c.Hi, length);
            if (backward && c.Backward && offset + length == c.Start && c.Lo - length >= 0) return c.Buffer.Slice(c.Lo - length, length);
            if (c.Lo == c.Hi)
            {
                // Nothing committed yet: restart the empty chunk here.
                c.Reset(offset, backward, _bufferSize);
                return backward ? c.Buffer.Slice(c.Lo - length, length) : c.Buffer.Slice(0, length);
            }
            Submit();
        }
        c = _current = new Chunk(TakeBuffer());
        c.Reset(offset, backward, _bufferSize);
        return backward ? c.Buffer.Slice(c.Lo - length, length) : c.Buffer.Slice(0, length);
    }

    /// <summary>Adds the last reserved range (now holding data) to the current chunk.</summary>
    public void Commit(long offset, int length)
    {
        var c = _current ?? throw new InvalidOperationException("Nothing was reserved.");
        if (c.Backward)
        {
            c.Lo -= length;
            c.Start = offset;
        }
        else c.Hi += length;
    }

    /// <summary>Hands the current chunk to the writer and (in media order) the hashers.</summary>
    public void Submit()
    {
        var c = _current;
        if (c is null) return;
        _current = null;
        if (c.Lo == c.Hi)
        {
            _free.Add(c.Buffer);
            return;
        }
        bool hash = false;
        if (_hasher is not null)
        {
            if (HashingInOrder && c.Start == HashedUpTo)
            {
                hash = true;
                HashedUpTo = c.End;
            }
            else HashingInOrder = false;
        }
        else if (c.Start == HashedUpTo) HashedUpTo = c.End;
        bool write = WriteEnabled;
        c.Refs = (write ? 1 : 0) + (hash ? _hasher!.Count : 0);
        if (c.Refs == 0)
        {
            _free.Add(c.Buffer);
            return;
        }
        if (hash) _hasher!.Submit(c.Data, () => Release(c));
        if (write)
        {
            Interlocked.Increment(ref _pendingWrites);
            _writes.Add(new Item(c, 0, 0));
        }
    }

    /// <summary>Queues an unreadable range for a sequential destination, after the data submitted so far.</summary>
    public void AddError(long offset, long length)
    {
        Submit();
        Interlocked.Increment(ref _pendingWrites);
        _writes.Add(new Item(null, offset, length));
    }

    /// <summary>Submits the current chunk and waits until every queued write reached the destination.</summary>
    public void Drain()
    {
        Submit();
        lock (_gate)
        {
            while (Interlocked.Read(ref _pendingWrites) > 0 && _failure is null) Monitor.Wait(_gate);
        }
        ThrowIfFailed();
    }

    private void ThrowIfFailed()
    {
        ExceptionDispatchInfo? f;
        lock (_gate) f = _failure;
        f?.Throw();
    }

    private ChunkBuffer TakeBuffer()
    {
        if (_free.TryTake(out var buffer)) return buffer;
        if (_allocated < _bufferLimit)
        {
            _allocated++;
            return new ChunkBuffer(_bufferSize);
        }
        while (true)
        {
            if (_free.TryTake(out buffer, 200)) return buffer;
            ThrowIfFailed();
        }
    }

    private void Release(Chunk c)
    {
        if (Interlocked.Decrement(ref c.Refs) == 0) _free.Add(c.Buffer);
    }

    private void WriteLoop()
    {
        foreach (var item in _writes.GetConsumingEnumerable())
        {
            try
            {
                bool failed;
                lock (_gate) failed = _failure is not null;
                if (!failed) Write(item);
            }
            catch (Exception e)
            {
                lock (_gate) _failure ??= ExceptionDispatchInfo.Capture(e);
            }
            finally
            {
                if (item.Chunk is { } c) Release(c);
                lock (_gate)
                {
                    Interlocked.Decrement(ref _pendingWrites);
                    Monitor.PulseAll(_gate);
                }
            }
        }
    }

    private void Write(Item item)
    {
        if (item.Chunk is { } c)
        {
            var data = c.Data.Span;
            if (_sink is not RandomAccessSink random) ((SequentialSink)_sink).Append(data);
            else if (Sparse) WriteSparse(random, c.Start, data);
            else random.Write(c.Start, data);
        }
        else if (_sink is SequentialSink sequential) sequential.AddError(item.ErrorOffset, item.ErrorLength);
    }

    /// <summary>The unit of zero detection: blocks of this size aligned on the media.</summary>
    private const int SparseBlock = 4096;

    /// <summary>The shortest zero run written as write-zeroes rather than as data.</summary>
    private const int SparseMinRun = 64 << 10;

    /// <summary>Turn runs of zero bytes (whole 4 KiB blocks, at least 64 KiB) into write-zeroes.</summary>
    public bool Sparse { get; }

    /// <summary>
    /// Writes a chunk, sending runs of at least <see cref="SparseMinRun"/> zero bytes (in whole media-aligned blocks)
    /// as write-zeroes: a hole in a raw file, zero clusters in an image. The destination reads the same either way.
    /// </summary>
    private static void WriteSparse(RandomAccessSink sink, long offset, ReadOnlySpan<byte> data)
    {
        int n = data.Length;
        int pending = 0;
        int block = (int)Math.Min((SparseBlock - offset % SparseBlock) % SparseBlock, n);
        while (block < n)
        {
            int runEnd = block;
            while (runEnd < n)
            {
                int e = Math.Min(runEnd + SparseBlock, n);
                if (data[runEnd..e].IndexOfAnyExcept((byte)0) >= 0) break;
                runEnd = e;
            }
            if (runEnd - block >= SparseMinRun)
            {
                if (block > pending) sink.Write(offset + pending, data[pending..block]);
                sink.WriteZeroes(offset + block, runEnd - block);
                pending = runEnd;
            }
            block = runEnd == block ? block + SparseBlock : runEnd;
        }
        if (pending < n) sink.Write(offset + pending, data[pending..]);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _writes.CompleteAdding();
        _writer.Join();
        _writes.Dispose();
        // _free stays usable: a hash thread may still return a buffer while the engine unwinds.
    }

    private readonly record struct Item(Chunk? Chunk, long ErrorOffset, long ErrorLength);

    /// <summary>A buffer holding media bytes <c>[Start, End)</c> in <c>Buffer[Lo..Hi]</c>.</summary>
    private sealed class Chunk(ChunkBuffer buffer)
    {
        public ChunkBuffer Buffer { get; } = buffer;
        public long Start;
        public int Lo;
        public int Hi;
        public bool Backward;
        public int Refs;

        public long End => Start + (Hi - Lo);

        public ReadOnlyMemory<byte> Data => Buffer.Memory[Lo..Hi];

        public void Reset(long offset, bool backward, int size)
        {
            Backward = backward;
            Lo = Hi = backward ? size : 0;
            Start = offset;
        }
    }
}
