using System.Buffers.Binary;
using static Discemu.Formats.Vhdx.VhdxConstants;

namespace Discemu.Formats.Vhdx;

public sealed partial class VhdxImage
{
    /// <summary>
    /// Longest time changed metadata waits in memory before it is committed through the log (a commit
    /// flushes the file four times, so a copy commits rarely: the data itself never waits).
    /// </summary>
    private const long CommitIntervalMs = 5000;
    /// <summary>Most sector bitmap pages kept in memory (64 MiB); clean ones are dropped beyond it.</summary>
    private const int MaxCachedBitmapPages = 16384;

    private readonly SortedSet<long> _dirtyBatPages = [];
    private readonly Dictionary<long, byte[]> _bitmapPages = [];
    private readonly HashSet<long> _dirtyBitmapPages = [];
    private long _lastCommit = Environment.TickCount64;
    /// <summary>Host ranges of dropped blocks, returned to the host once the BAT no longer points at them.</summary>
    private readonly List<(long Offset, long Length)> _pendingPunches = [];

    /// <summary>Metadata pages changed in memory and not yet committed.</summary>
    private int PendingPages { get { lock (_metaLock) return _dirtyBatPages.Count + _dirtyBitmapPages.Count; } }

    /// <summary>True when anything waits for a commit. Caller holds the allocation lock.</summary>
    private bool HasPending => PendingPages > 0 || _pendingPunches.Count > 0;

    /// <summary>Sets a BAT entry in memory and marks its page for the next commit. Caller holds the allocation lock.</summary>
    private void SetEntry(long index, ulong entry)
    {
        lock (_metaLock)
        {
            Volatile.Write(ref _bat[index], entry);
            _dirtyBatPages.Add(index * 8 / LogSectorSize);
        }
    }

    /// <summary>
    /// Commits pending changes when they approach what one log entry can carry (leaving room for
    /// <paramref name="room"/> more pages), or when they waited long enough. Caller holds the allocation lock.
    /// </summary>
    private void MaybeCommit(int room)
    {
        int pending = PendingPages;
        if (pending == 0) return;
        if (pending + room > LogCapacity || Environment.TickCount64 - _lastCommit >= CommitIntervalMs) Commit();
    }

    /// <summary>Makes room for <paramref name="room"/> more pages in the pending commit. Caller holds the allocation lock.</summary>
    private void ReserveLogRoom(int room)
    {
        if (room > LogCapacity) throw new UnsupportedFeatureException($"The log ({_header.LogLength} bytes) is too small for one block's metadata.", Path);
        if (PendingPages + room > LogCapacity) Commit();
    }

    /// <summary>Writes every pending BAT and sector bitmap page through the log. Caller holds the allocation lock.</summary>
    private void Commit(List<(long Offset, byte[] Page)>? extra = null)
    {
        var pages = extra ?? [];
        long[] batPages, bitmapPages;
        lock (_metaLock)
        {
            batPages = [.. _dirtyBatPages];
            bitmapPages = [.. _dirtyBitmapPages];
            foreach (long p in batPages) pages.Add((_batRegion.FileOffset + p * LogSectorSize, BatPage(p)));
            foreach (long p in bitmapPages) pages.Add((p, (byte[])_bitmapPages[p].Clone()));
            _dirtyBatPages.Clear();
            _dirtyBitmapPages.Clear();
        }
        try
        {
            WriteThroughLog(pages);
            foreach (var (offset, length) in _pendingPunches) _file.Zero(offset, length, punch: true);
            _pendingPunches.Clear();
        }
        catch
        {
            lock (_metaLock)
            {
                foreach (long p in batPages) _dirtyBatPages.Add(p);
                foreach (long p in bitmapPages) _dirtyBitmapPages.Add(p);
            }
            throw;
        }
    }

    /// <summary>The bytes of BAT page <paramref name="page"/> from the in-memory table. Caller holds the metadata lock.</summary>
    private byte[] BatPage(long page)
    {
        var data = new byte[LogSectorSize];
        long first = page * (LogSectorSize / 8);
        for (int i = 0; i < LogSectorSize / 8 && first + i < _bat.Length; i++)
            BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(i * 8), _bat[first + i]);
        return data;
    }

    /// <summary>The cached sector bitmap page at host offset <paramref name="pageOffset"/>. Caller holds the metadata lock.</summary>
    private byte[] BitmapPage(long pageOffset)
    {
        if (_bitmapPages.TryGetValue(pageOffset, out var page)) return page;
        if (_bitmapPages.Count >= MaxCachedBitmapPages)
            foreach (long key in _bitmapPages.Keys.ToList())
                if (!_dirtyBitmapPages.Contains(key)) _bitmapPages.Remove(key);
        page = new byte[LogSectorSize];
        _file.Read(pageOffset, page);
        _bitmapPages[pageOffset] = page;
        return page;
    }

    /// <inheritdoc/>
    public override void UseUnsafeCache() => _file.SkipFlushes();

    /// <inheritdoc/>
    protected override void FlushCore()
    {
        lock (_allocLock)
        {
            if (HasPending) Commit();
            if (_sessionStarted) _file.Flush();
        }
    }

    /// <summary>Commits what is pending and flushes; the log is left empty.</summary>
    private void CloseForWriting()
    {
        lock (_allocLock)
        {
            if (HasPending) Commit();
            if (_sessionStarted) _file.Flush();
        }
    }
}
