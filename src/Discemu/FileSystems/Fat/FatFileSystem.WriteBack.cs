namespace Discemu.FileSystems.Fat;

/// <summary>
/// Write-back mode (<see cref="IWritableFileSystem.WriteBack"/>): FAT sectors and directory slots of new
/// entries stay in memory and are written by <see cref="WritePending"/>: the FAT first (new clusters become
/// allocated), then the directories (entries start pointing at them), so a crash part-way leaves at worst
/// lost clusters. Removing, moving and shrinking write everything pending first and then run write-through,
/// because they need the opposite order (entries first, then the FAT).
/// Content written into newly allocated clusters (new files, new and grown directories) is gathered in one buffer
/// while it stays contiguous on the device and written in large pieces; every other device access, and every FAT or
/// directory write, writes that buffer first, so content still reaches the device before anything points at it.
/// </summary>
internal sealed partial class FatFileSystem
{
    private readonly HashSet<DirData> _dirtyDirs = [];
    private bool _writeBack;
    private int _writeThrough;

    /// <summary>The most bytes of new-cluster content gathered before they are written.</summary>
    private const int NewClusterBufferSize = 1 << 20;

    private byte[]? _newData;
    private long _newAt;
    private int _newLength;

    /// <summary>True while metadata writes are held in memory.</summary>
    private bool Deferring => _writeBack && _writeThrough == 0;

    /// <inheritdoc/>
    public bool WriteBack
    {
        get { lock (_sync) return _writeBack; }
        set
        {
            CheckWritable();
            lock (_sync)
            {
                if (!value) WritePending();
                _writeBack = value;
            }
        }
    }

    /// <summary>Writes the pending FAT sectors, then the pending directory slots. Caller holds the lock.</summary>
    private void WritePending()
    {
        CommitFatNow();
        foreach (var d in _dirtyDirs)
        {
            if (d.DirtySlots is not { } runs) continue;
            // Sorted and merged where they touch or overlap: each stretch of changed slots is written once.
            runs.Sort((x, y) => x.First.CompareTo(y.First));
            int start = runs[0].First, end = start + runs[0].Count;
            foreach (var (first, count) in runs)
            {
                if (first > end)
                {
                    WriteSlotsNow(d, start, end - start);
                    start = first;
                }
                end = Math.Max(end, first + count);
            }
            WriteSlotsNow(d, start, end - start);
            d.DirtySlots = null;
        }
        _dirtyDirs.Clear();
    }

    /// <summary>Writes what is pending and suspends write-back until the result is disposed. Caller holds the lock.</summary>
    private WriteThroughScope WriteThrough()
    {
        if (_writeBack) WritePending();
        _writeThrough++;
        return new WriteThroughScope(this);
    }

    private readonly struct WriteThroughScope(FatFileSystem fs) : IDisposable
    {
        public void Dispose() => fs._writeThrough--;
    }

    /// <summary>
    /// Writes <paramref name="data"/> and then <paramref name="zeros"/> zero bytes at device offset <paramref name="at"/>,
    /// inside clusters just allocated that no entry or FAT chain on the device reaches yet. In write-back mode the
    /// bytes are gathered with the previous ones when they follow them on the device. Caller holds the lock.
    /// </summary>
    private void WriteNewClusters(long at, ReadOnlySpan<byte> data, int zeros)
    {
        int total = data.Length + zeros;
        if (!Deferring || total > NewClusterBufferSize / 2)
        {
            FlushNewClusters();
            if (!data.IsEmpty) _device.Write(at, data);
            if (zeros > 0) _device.WriteZeroes(at + data.Length, zeros, mayUnmap: false);
            return;
        }
        if (_newLength > 0 && (at != _newAt + _newLength || _newLength + total > NewClusterBufferSize)) FlushNewClusters();
        _newData ??= new byte[NewClusterBufferSize];
        if (_newLength == 0) _newAt = at;
        data.CopyTo(_newData.AsSpan(_newLength));
        _newData.AsSpan(_newLength + data.Length, zeros).Clear();
        _newLength += total;
    }

    /// <summary>Writes the gathered new-cluster content; on failure it stays pending (nothing may point at it before it is written).</summary>
    private void FlushNewClusters()
    {
        if (_newLength == 0) return;
        _device.Write(_newAt, _newData.AsSpan(0, _newLength));
        _newLength = 0;
    }
}
