using System.Runtime.ExceptionServices;
using Discemu.Block;

namespace Discemu.Operations;

public static partial class ImageComparer
{
    /// <summary>A window to check: read one side (which must then be zeros) or both (which must be equal).</summary>
    private readonly record struct Window(long Offset, int Length, bool ReadA, bool ReadB);

    /// <summary>
    /// One comparison. A planner, walked under a lock by whichever worker needs the next window,
    /// turns the two status maps into windows (skipping ranges both sides report as zeros); workers
    /// read and check windows in parallel and keep the lowest differing offset. Windows past that
    /// offset are no longer handed out, and a status mismatch in strict mode stops the planner,
    /// so the outcome is exactly that of a front-to-back scan.
    /// </summary>
    private sealed class Scan(BlockDevice a, BlockDevice b, bool strict, ProgressTracker tracker, CancellationToken token)
    {
        private readonly object _gate = new();
        private IEnumerator<Window>? _plan;
        private long _firstDifference = long.MaxValue;
        private ExceptionDispatchInfo? _failure;

        /// <summary>The lowest offset found where the contents differ.</summary>
        public long? FirstDifference => _firstDifference == long.MaxValue ? null : _firstDifference;

        /// <summary>Strict mode: where the allocation status first differs (only meaningful without a content difference).</summary>
        public long? StatusMismatch { get; private set; }

        public void Run(int workers)
        {
            _plan = Plan().GetEnumerator();
            try
            {
                var threads = new Thread[workers - 1];
                for (int i = 0; i < threads.Length; i++)
                {
                    threads[i] = new Thread(Work) { IsBackground = true, Name = $"discemu-compare-{i}" };
                    threads[i].Start();
                }
                Work();
                foreach (var t in threads) t.Join();
            }
            finally
            {
                _plan.Dispose();
            }
            _failure?.Throw();
            token.ThrowIfCancellationRequested();
        }

        private IEnumerable<Window> Plan()
        {
            long common = Math.Min(a.Length, b.Length);
            long pos = 0, aEnd = 0, bEnd = 0;
            BlockStatus sa = default, sb = default;
            while (pos < common)
            {
                token.ThrowIfCancellationRequested();
                if (pos >= Volatile.Read(ref _firstDifference)) yield break;
                if (pos >= aEnd)
                {
                    sa = a.GetStatus(pos, common - pos);
                    aEnd = pos + sa.Length;
                }
                if (pos >= bEnd)
                {
                    sb = b.GetStatus(pos, common - pos);
                    bEnd = pos + sb.Length;
                }
                if (strict && Normalize(sa) != Normalize(sb))
                {
                    StatusMismatch = pos;
                    yield break;
                }
                long end = Math.Min(aEnd, bEnd);
                if (sa.IsZero && sb.IsZero)
                {
                    tracker.Advance(end - pos);
                    pos = end;
                    continue;
                }
                end = Math.Min(end, SparseIO.AlignDown(pos, Chunk) + Chunk);
                yield return new Window(pos, (int)(end - pos), !sa.IsZero, !sb.IsZero);
                pos = end;
            }
            // Past the shorter device, the longer one must read as zeros.
            var longer = a.Length > b.Length ? a : b;
            bool longerIsA = ReferenceEquals(longer, a);
            while (pos < longer.Length)
            {
                token.ThrowIfCancellationRequested();
                if (pos >= Volatile.Read(ref _firstDifference)) yield break;
                var st = longer.GetStatus(pos, longer.Length - pos);
                long stEnd = pos + st.Length;
                if (st.IsZero)
                {
                    tracker.Advance(st.Length);
                    pos = stEnd;
                    continue;
                }
                while (pos < stEnd)
                {
                    long end = Math.Min(stEnd, SparseIO.AlignDown(pos, Chunk) + Chunk);
                    yield return new Window(pos, (int)(end - pos), longerIsA, !longerIsA);
                    pos = end;
                }
            }
        }

        private bool TryTake(out Window window)
        {
            window = default;
            lock (_gate)
            {
                if (_failure is not null) return false;
                try
                {
                    if (!_plan!.MoveNext()) return false;
                }
                catch (Exception e)
                {
                    _failure ??= ExceptionDispatchInfo.Capture(e);
                    return false;
                }
                window = _plan.Current;
                return true;
            }
        }

        private void Work()
        {
            ChunkBuffer? bufA = null, bufB = null;
            try
            {
                while (TryTake(out var w))
                {
                    if (w.Offset >= Volatile.Read(ref _firstDifference)) continue;
                    token.ThrowIfCancellationRequested();
                    Span<byte> da = w.ReadA ? (bufA ??= new ChunkBuffer(Chunk)).Slice(0, w.Length) : default;
                    Span<byte> db = w.ReadB ? (bufB ??= new ChunkBuffer(Chunk)).Slice(0, w.Length) : default;
                    if (w.ReadA) a.Read(w.Offset, da);
                    if (w.ReadB) b.Read(w.Offset, db);
                    int i = (w.ReadA, w.ReadB) switch
                    {
                        (true, true) => da.CommonPrefixLength(db),
                        (true, false) => da.IndexOfAnyExcept((byte)0),
                        _ => db.IndexOfAnyExcept((byte)0),
                    };
                    if (i >= 0 && i < w.Length) RecordDifference(w.Offset + i);
                    tracker.Advance(w.Length);
                }
            }
            catch (Exception e)
            {
                lock (_gate) _failure ??= ExceptionDispatchInfo.Capture(e);
            }
        }

        private void RecordDifference(long offset)
        {
            long seen = Volatile.Read(ref _firstDifference);
            while (offset < seen)
            {
                long previous = Interlocked.CompareExchange(ref _firstDifference, offset, seen);
                if (previous == seen) return;
                seen = previous;
            }
        }
    }
}
