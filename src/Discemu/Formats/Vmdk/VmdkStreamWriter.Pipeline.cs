using System.Runtime.ExceptionServices;

namespace Discemu.Formats.Vmdk;

internal sealed partial class VmdkStreamWriter
{
    private readonly Pipeline _pipeline;

    /// <summary>
    /// Compresses submitted chunks on worker threads and writes them to the file in submission order.
    /// A fixed number of chunks exists; <see cref="TakeFree"/> waits while all are in flight. Whichever
    /// worker finishes the next chunk in order writes it (and any that were waiting behind it) under
    /// the emit lock, so the file is written by one thread at a time, front to back.
    /// </summary>
    private sealed class Pipeline(VmdkStreamWriter owner, int workers, int capacity) : IDisposable
    {
        private readonly object _gate = new();
        private readonly Queue<Chunk> _queue = new();
        private readonly Stack<Chunk> _free = new();
        private readonly Dictionary<long, Chunk> _ready = [];
        private readonly List<Thread> _threads = [];
        private int _allocated;
        private long _nextSequence, _nextEmit;
        private bool _stopping;
        private ExceptionDispatchInfo? _failure;

        public bool Failed { get { lock (_gate) return _failure is not null; } }

        /// <summary>Rethrows the first failure of a worker.</summary>
        public void ThrowIfFailed()
        {
            ExceptionDispatchInfo? f;
            lock (_gate) f = _failure;
            f?.Throw();
        }

        /// <summary>A free chunk (allocated while fewer than the capacity exist), waiting while all are in flight.</summary>
        public Chunk TakeFree()
        {
            lock (_gate)
            {
                while (_failure is null && _free.Count == 0 && _allocated >= capacity) Monitor.Wait(_gate);
                _failure?.Throw();
                if (_free.TryPop(out var chunk)) return chunk;
                _allocated++;
            }
            return new Chunk();
        }

        /// <summary>Hands a filled chunk to the workers (a chunk with nothing written goes straight back).</summary>
        public void Submit(Chunk chunk)
        {
            lock (_gate)
            {
                if (!chunk.Dirty)
                {
                    _free.Push(chunk);
                    Monitor.PulseAll(_gate);
                    return;
                }
                chunk.Sequence = _nextSequence++;
                _queue.Enqueue(chunk);
                if (_threads.Count < workers && _threads.Count < _queue.Count + _nextSequence - _nextEmit)
                {
                    var t = new Thread(Work) { IsBackground = true, Name = $"discemu-vmdk-stream-{_threads.Count}" };
                    _threads.Add(t);
                    t.Start();
                }
                Monitor.PulseAll(_gate);
            }
        }

        /// <summary>Waits until every submitted chunk is in the file; rethrows a worker's failure.</summary>
        public void Drain()
        {
            lock (_gate)
            {
                while (_failure is null && _nextEmit < _nextSequence) Monitor.Wait(_gate);
                _failure?.Throw();
            }
        }

        private void Work()
        {
            while (true)
            {
                Chunk chunk;
                lock (_gate)
                {
                    while (_queue.Count == 0 && !_stopping) Monitor.Wait(_gate);
                    if (_queue.Count == 0) return;
                    chunk = _queue.Dequeue();
                }
                try
                {
                    owner.Compress(chunk);
                }
                catch (Exception e)
                {
                    Fail(e);
                    continue;
                }
                lock (_gate) _ready[chunk.Sequence] = chunk;
                Emit();
            }
        }

        /// <summary>Writes every compressed chunk that is next in order.</summary>
        private void Emit()
        {
            lock (owner._emitLock)
            {
                while (true)
                {
                    Chunk? chunk;
                    lock (_gate)
                        if (_failure is not null || !_ready.Remove(_nextEmit, out chunk)) return;
                    try
                    {
                        owner.EmitInto(owner._state, chunk);
                    }
                    catch (Exception e)
                    {
                        Fail(e);
                        return;
                    }
                    lock (_gate)
                    {
                        _nextEmit++;
                        _free.Push(chunk);
                        Monitor.PulseAll(_gate);
                    }
                }
            }
        }

        private void Fail(Exception e)
        {
            lock (_gate)
            {
                _failure ??= ExceptionDispatchInfo.Capture(e);
                Monitor.PulseAll(_gate);
            }
        }

        public void Dispose()
        {
            lock (_gate)
            {
                _stopping = true;
                Monitor.PulseAll(_gate);
            }
            foreach (var t in _threads) t.Join();
        }
    }
}
