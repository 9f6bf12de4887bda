namespace Discemu.FileSystems.Fat;

/// <summary>
/// Write-back mode (<see cref="IWritableFileSystem.WriteBack"/>): FAT sectors and directory slots of new
/// entries stay in memory and are written by <see cref="WritePending"/>: the FAT first (new clusters become
/// allocated), then the directories (entries start pointing at them), so a crash part-way leaves at worst
/// lost clusters. Removing, moving and shrinking write everything pending first and then run write-through,
/// because they need the opposite order (entries first, then the FAT).
/// </summary>
internal sealed partial class FatFileSystem
{
    private readonly HashSet<DirData> _dirtyDirs = [];
    private bool _writeBack;
    private int _writeThrough;

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
            if (d.DirtySlots is not { } slots) continue;
            int? start = null, prev = null;
            foreach (int s in slots)
            {
                if (start is null) start = s;
                else if (s != prev + 1)
                {
                    WriteSlotsNow(d, start.Value, prev!.Value - start.Value + 1);
                    start = s;
                }
                prev = s;
            }
            if (start is not null) WriteSlotsNow(d, start.Value, prev!.Value - start.Value + 1);
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
}
