using System.Threading.Channels;

namespace Discemu.Operations;

public sealed partial class ImageCopier
{
    /// <summary>
    /// Runs the pipeline: a planner feeds bounded channels; workers read, detect zeros (and compress);
    /// a single writer issues writes in source order, or workers write directly when out-of-order
    /// writes are allowed. At most a bounded number of items (and pooled buffers) are in flight.
    /// </summary>
    private void Run()
    {
        bool compress = _compressor is not null;
        int workers = compress ? Math.Max(Environment.ProcessorCount, 1) : _options.ParallelRequests;
        bool ordered = !_options.OutOfOrderWrites && !compress && workers > 1;
        int inFlight = workers * 2;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(_options.CancellationToken);
        var token = cts.Token;
        var work = Channel.CreateBounded<WorkItem>(new BoundedChannelOptions(inFlight) { SingleWriter = true });
        var order = ordered ? Channel.CreateBounded<WorkItem>(new BoundedChannelOptions(inFlight) { SingleWriter = true, SingleReader = true }) : null;
        var tasks = new List<Task>();

        tasks.Add(Task.Run(async () =>
        {
            try
            {
                foreach (var item in Plan())
                {
                    token.ThrowIfCancellationRequested();
                    if (order is not null) await order.Writer.WriteAsync(item, token).ConfigureAwait(false);
                    await work.Writer.WriteAsync(item, token).ConfigureAwait(false);
                }
            }
            finally
            {
                work.Writer.TryComplete();
                order?.Writer.TryComplete();
            }
        }, token));

        for (int i = 0; i < workers; i++)
        {
            tasks.Add(Task.Run(async () =>
            {
                await foreach (var item in work.Reader.ReadAllAsync(token).ConfigureAwait(false))
                {
                    try
                    {
                        Prepare(item);
                    }
                    catch (Exception e)
                    {
                        Release(item);
                        item.Done.TrySetException(e);
                        throw;
                    }
                    if (ordered) item.Done.TrySetResult();
                    else Execute(item);
                }
            }, token));
        }

        if (order is not null)
        {
            tasks.Add(Task.Run(async () =>
            {
                await foreach (var item in order.Reader.ReadAllAsync(token).ConfigureAwait(false))
                {
                    await item.Done.Task.WaitAsync(token).ConfigureAwait(false);
                    Execute(item);
                }
            }, token));
        }

        WaitAll(tasks, cts);
        if (order is not null)
        {
            // Buffers of items prepared but never written (only after a failure) go back to the pool.
            while (order.Reader.TryRead(out var left)) Release(left);
        }
        _target.Flush();
        _progress.Complete();
    }

    /// <summary>Waits for every task; on the first failure cancels the rest and rethrows the root cause.</summary>
    private void WaitAll(List<Task> tasks, CancellationTokenSource cts)
    {
        var pending = new List<Task>(tasks);
        Exception? failure = null;
        while (pending.Count > 0)
        {
            int i = Task.WaitAny([.. pending]);
            var t = pending[i];
            pending.RemoveAt(i);
            if (t.IsFaulted && failure is null)
            {
                failure = t.Exception!.InnerException ?? t.Exception;
                cts.Cancel();
            }
            else if (t.IsCanceled && failure is null && !_options.CancellationToken.IsCancellationRequested)
            {
                // Cancelled because a sibling failed; keep waiting for the real cause.
                cts.Cancel();
            }
        }
        if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        _options.CancellationToken.ThrowIfCancellationRequested();
    }
}
