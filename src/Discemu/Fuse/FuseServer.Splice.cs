namespace Discemu.Fuse;

/// <summary>The zero-copy READ reply path (splice(2) from the host file through a pipe into /dev/fuse).</summary>
internal sealed partial class FuseServer
{
    /// <summary>INIT flags announcing spliced replies (the kernel takes them either way; libfuse negotiates them too).</summary>
    private const uint SpliceFlags = FuseConstants.SpliceWrite | FuseConstants.SpliceMove;

    /// <summary>
    /// splice(2) flags of the pipe → /dev/fuse step. SPLICE_F_MOVE would let the kernel steal pages of the image file's
    /// page cache into the FUSE file instead of copying them, but only whole pages at the same alignment: ISO 9660 and
    /// UDF data starts on 2 KiB sectors (the benchmark's file at sector 33, mid-page), and stealing would take the pages
    /// out of the image's own cache. So the kernel copies the data once.
    /// </summary>
    private const uint SpliceOutFlags = 0;

    /// <summary>Below this many pages per READ, splicing is not worth shrinking the READs for.</summary>
    private const int MinSplicePages = 32;

    private int _spliceOff;
    private long _splicedReplies;
    private int _maxPages;

    /// <summary>READ replies sent by splice so far (for tests).</summary>
    internal long SplicedReplies => Interlocked.Read(ref _splicedReplies);

    /// <summary>The max_pages INIT announces: the largest READ/WRITE in pages.</summary>
    private int MaxPages => _maxPages > 0 ? _maxPages : _options.MaxIo / 4096;

    /// <summary>
    /// One pipe per request thread (all null when splicing is off or no pipe can be made: every READ is copied then).
    /// Without CAP_SYS_RESOURCE a pipe cannot grow past /proc/sys/fs/pipe-max-size (1 MiB, 256 pages, by default);
    /// the kernel then gets a max_pages two below the pipe's pages, so the largest READ's reply (header, and data that
    /// may start inside a page) still fits, rather than copying every 1 MiB READ.
    /// </summary>
    private FuseSplicePipe?[] CreateSplicePipes(int count)
    {
        var pipes = new FuseSplicePipe?[count];
        if (!_options.Splice) return pipes;
        int page = Environment.SystemPageSize;
        for (int i = 0; i < count; i++)
        {
            pipes[i] = FuseSplicePipe.TryCreate(_options.MaxIo, out int errno);
            if (pipes[i] is null)
            {
                _options.Log?.Invoke($"no pipe for spliced replies ({FuseNative.Describe(errno)}): READs are copied");
                foreach (var p in pipes) p?.Dispose();
                return new FuseSplicePipe?[count];
            }
        }
        int fit = (pipes.Min(p => p!.Slots) - 2) * page / 4096;
        if (fit < MinSplicePages)
        {
            foreach (var p in pipes) p?.Dispose();
            return new FuseSplicePipe?[count];
        }
        _maxPages = Math.Min(_options.MaxIo / 4096, fit);
        return pipes;
    }

    /// <summary>
    /// Answers a READ by splicing when the file's bytes lie verbatim in a host file; false when the ordinary path must
    /// answer (not mappable, the pipe too small, a failed splice: nothing was sent then).
    /// </summary>
    private bool TrySpliceRead(ReadOnlySpan<byte> body, ulong unique, FuseSplicePipe pipe)
    {
        if (Volatile.Read(ref _spliceOff) != 0 || body.Length < 24) return false;
        if (!_handles.TryGetValue(Read64(body, 0), out var handle) || handle is not IFuseFile file) return false;
        long offset = (long)Math.Min(Read64(body, 8), long.MaxValue);
        int size = (int)Math.Min(Read32(body, 16), (uint)(_options.MaxIo + 4096 - FuseConstants.OutHeaderSize)); // as the copy path
        try
        {
            if (!file.TryMapToHost(offset, size, pipe.Extents)) return false;
        }
        catch (Exception e) when (e is DiscemuException or ArgumentException or ObjectDisposedException or IOException)
        {
            return false; // the copy path reports it
        }
        long total = 0;
        foreach (var x in pipe.Extents) total += x.Length;
        if (total <= 0 || total > size) return false;
        int fd = Volatile.Read(ref _fd);
        if (fd < 0) return true; // closing: nobody waits for the reply
        // Counted before the send: once the reply is in /dev/fuse the reader may already look at the counter.
        Interlocked.Increment(ref _splicedReplies);
        var outcome = pipe.Send(fd, unique, (int)total, SpliceOutFlags, out int errno);
        if (outcome != SpliceOutcome.Sent) Interlocked.Decrement(ref _splicedReplies);
        switch (outcome)
        {
            case SpliceOutcome.Sent:
                return true;
            case SpliceOutcome.Disable:
                if (Interlocked.Exchange(ref _spliceOff, 1) == 0) _options.Log?.Invoke($"splice failed ({FuseNative.Describe(errno)}): READs are copied from now on");
                return false;
            default:
                return false;
        }
    }
}
