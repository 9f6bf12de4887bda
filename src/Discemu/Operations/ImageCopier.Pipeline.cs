using System.Runtime.ExceptionServices;

namespace Discemu.Operations;

public sealed partial class ImageCopier
{
    /// <summary>
    /// Runs the copy on dedicated threads. In order (the default): reader threads plan, read and
    /// detect zeros ahead while the calling thread writes in source order, so reading and writing
    /// overlap. Out of order (<see cref="CopyOptions.OutOfOrderWrites"/>) and compressed: every
    /// thread, the caller included, reads and writes (compresses) its own windows. Memory is a fixed
    /// set of chunk buffers, whatever the image size.
    /// </summary>
    private void Run()
    {
        int cores = Math.Max(Environment.ProcessorCount, 1);
        bool compress = _compressor is not null;
        int workers = compress ? cores : Math.Min(_options.ParallelRequests, cores);
        bool ordered = !_options.OutOfOrderWrites && !compress;
        // In order, each reader holds a buffer it fills, one finished window waits for the writer and
        // the writer holds one; out of order, each worker owns exactly one buffer.
        int buffers = ordered ? workers + 2 : workers;
        var state = new PipelineState(this, Plan().GetEnumerator(), buffers, ordered, _options.CancellationToken);
        try
        {
            var threads = new List<Thread>();
            int extra = ordered ? workers : workers - 1;
            for (int i = 0; i < extra; i++)
            {
                var t = new Thread(ordered ? state.ReadLoop : state.WorkLoop) { IsBackground = true, Name = $"discemu-copy-{i}" };
                threads.Add(t);
                t.Start();
            }
            if (ordered) state.WriteLoop();
            else state.WorkLoop();
            foreach (var t in threads) t.Join();
        }
        finally
        {
            state.Dispose();
        }
        state.ThrowIfFailed();
        _options.CancellationToken.ThrowIfCancellationRequested();
        if (_options.FlushTarget) _target.Flush();
        _progress.Complete();
    }

    /// <summary>
    /// The shared state of one copy: the planner (walked under a lock), the free buffers, and the
    /// windows read but not yet written, indexed by sequence number. A thread only takes the next
    /// window while a buffer is free, and windows are numbered in the order buffers are handed out,
    /// so the window the writer waits for always holds a buffer: the pipeline cannot deadlock.
    /// </summary>
    private sealed class PipelineState : IDisposable
    {
        private readonly ImageCopier _copier;
        private readonly IEnumerator<WorkItem> _plan;
        private readonly object _gate = new();
        private readonly Stack<ChunkBuffer> _free = new();
        private readonly WorkItem?[] _ready;
        private readonly int _capacity;
        private readonly bool _ordered;
        private readonly CancellationTokenRegistration _cancel;
        private int _allocated;
        private long _nextSequence;
        private long _written;
        private long _planned = -1;
        private ExceptionDispatchInfo? _failure;

        public PipelineState(ImageCopier copier, IEnumerator<WorkItem> plan, int buffers, bool ordered, CancellationToken token)
        {
            _copier = copier;
            _plan = plan;
            _capacity = buffers;
            _ordered = ordered;
            _ready = new WorkItem?[buffers];
            _cancel = token.Register(() => Fail(new OperationCanceledException(token)));
        }

        /// <summary>Takes the next planned window and a buffer for it; null when the plan is done or the copy failed.</summary>
        private WorkItem? Take(out ChunkBuffer? buffer)
        {
            buffer = null;
            lock (_gate)
            {
                // Wait for a free buffer, and (in order) for room among the windows not yet written.
                while (_failure is null && _planned < 0
                    && ((_free.Count == 0 && _allocated == _capacity) || (_ordered && _nextSequence - _written >= _capacity)))
                    Monitor.Wait(_gate);
                if (_failure is not null || _planned >= 0) return null;
                bool more;
                try { more = _plan.MoveNext(); }
                catch (Exception e)
                {
                    FailLocked(e);
                    return null;
                }
                if (!more)
                {
                    _planned = _nextSequence;
                    Monitor.PulseAll(_gate);
                    return null;
                }
                var item = _plan.Current;
                item.Sequence = _nextSequence++;
                if (!item.ZeroRange)
                {
                    if (!_free.TryPop(out buffer))
                    {
                        _allocated++;
                        buffer = new ChunkBuffer(_copier._chunk);
                    }
                }
                return item;
            }
        }

        /// <summary>Reader thread (in order): prepares windows and hands them to the writer.</summary>
        public void ReadLoop()
        {
            while (Take(out var buffer) is { } item)
            {
                try { _copier.Prepare(item, buffer); }
                catch (Exception e)
                {
                    Fail(e);
                    return;
                }
                lock (_gate)
                {
                    _ready[item.Sequence % _capacity] = item;
                    Monitor.PulseAll(_gate);
                }
            }
        }

        /// <summary>The calling thread (in order): writes windows in sequence and recycles their buffers.</summary>
        public void WriteLoop()
        {
            for (long seq = 0; ; seq++)
            {
                WorkItem item;
                lock (_gate)
                {
                    long slot = seq % _capacity;
                    while (_failure is null && _ready[slot] is null && !(_planned >= 0 && seq >= _planned)) Monitor.Wait(_gate);
                    if (_failure is not null || _ready[slot] is null) return;
                    item = _ready[slot]!;
                    _ready[slot] = null;
                }
                try { _copier.Execute(item); }
                catch (Exception e)
                {
                    Fail(e);
                    return;
                }
                finally { Recycle(item, seq + 1); }
            }
        }

        /// <summary>Worker (out of order, compressed): prepares and writes its own windows.</summary>
        public void WorkLoop()
        {
            while (Take(out var buffer) is { } item)
            {
                try
                {
                    _copier.Prepare(item, buffer);
                    _copier.Execute(item);
                }
                catch (Exception e)
                {
                    Fail(e);
                    return;
                }
                finally { Recycle(item); }
            }
        }

        /// <summary>Returns the window's buffer; in order, also records that <paramref name="written"/> windows are done.</summary>
        private void Recycle(WorkItem item, long written = 0)
        {
            var buffer = item.Buffer;
            item.Buffer = null;
            lock (_gate)
            {
                if (buffer is not null) _free.Push(buffer);
                if (written > _written) _written = written;
                Monitor.PulseAll(_gate);
            }
        }

        private void Fail(Exception e)
        {
            lock (_gate) FailLocked(e);
        }

        private void FailLocked(Exception e)
        {
            _failure ??= ExceptionDispatchInfo.Capture(e);
            Monitor.PulseAll(_gate);
        }

        /// <summary>Rethrows the first failure, with its original stack.</summary>
        public void ThrowIfFailed() => _failure?.Throw();

        public void Dispose()
        {
            _cancel.Dispose();
            _plan.Dispose();
        }
    }
}
