namespace Discemu.Formats.Qcow2;

/// <summary>One L2 table held in memory, decoded to native 64-bit words.</summary>
internal sealed class Qcow2L2Table(long hostOffset, ulong[] words)
{
    /// <summary>Where the table lives in the image file.</summary>
    public long HostOffset { get; } = hostOffset;

    /// <summary>The entries (two words per entry with extended L2).</summary>
    public ulong[] Words { get; } = words;

    /// <summary>True when the in-memory copy differs from the file.</summary>
    public bool Dirty { get; set; }

    internal LinkedListNode<Qcow2L2Table>? Node { get; set; }
}

/// <summary>
/// A least-recently-used cache of L2 tables bounded by bytes. Not thread-safe: the image calls it
/// under its metadata lock. Dirty tables are never dropped silently: when the cache is over budget
/// and only dirty tables remain, <see cref="NeedsWriteback"/> tells the owner to write them.
/// </summary>
internal sealed class Qcow2L2Cache(int tableBytes, long budgetBytes)
{
    private readonly Dictionary<long, Qcow2L2Table> _tables = [];
    private readonly LinkedList<Qcow2L2Table> _lru = new();
    private readonly int _capacity = (int)Math.Clamp(budgetBytes / tableBytes, 16, 1 << 20);
    private int _dirtyCount;

    /// <summary>Number of tables held.</summary>
    public int Count => _tables.Count;

    /// <summary>True when the cache is full of dirty tables and they should be written back.</summary>
    public bool NeedsWriteback => _dirtyCount >= _capacity;

    /// <summary>The cached table at <paramref name="hostOffset"/>, marked most recently used, or null.</summary>
    public Qcow2L2Table? TryGet(long hostOffset)
    {
        if (!_tables.TryGetValue(hostOffset, out var t)) return null;
        if (t.Node != _lru.First)
        {
            _lru.Remove(t.Node!);
            _lru.AddFirst(t.Node!);
        }
        return t;
    }

    /// <summary>Adds a table, evicting the least recently used clean tables beyond the budget.</summary>
    public void Add(Qcow2L2Table table)
    {
        if (_tables.Remove(table.HostOffset, out var old))
        {
            if (old.Dirty) _dirtyCount--;
            _lru.Remove(old.Node!);
        }
        table.Node = _lru.AddFirst(table);
        _tables[table.HostOffset] = table;
        if (table.Dirty) _dirtyCount++;
        var node = _lru.Last;
        while (_tables.Count > _capacity && node is not null)
        {
            var prev = node.Previous;
            if (!node.Value.Dirty)
            {
                _tables.Remove(node.Value.HostOffset);
                _lru.Remove(node);
            }
            node = prev;
        }
    }

    /// <summary>Marks a cached table dirty.</summary>
    public void MarkDirty(Qcow2L2Table table)
    {
        if (table.Dirty) return;
        table.Dirty = true;
        _dirtyCount++;
    }

    /// <summary>Marks a table clean after it was written.</summary>
    public void MarkClean(Qcow2L2Table table)
    {
        if (!table.Dirty) return;
        table.Dirty = false;
        _dirtyCount--;
    }

    /// <summary>The dirty tables, in file order (so write-back is sequential).</summary>
    public List<Qcow2L2Table> DirtyTables()
        => _tables.Values.Where(t => t.Dirty).OrderBy(t => t.HostOffset).ToList();

    /// <summary>Drops a table (after its cluster was freed).</summary>
    public void Remove(long hostOffset)
    {
        if (_tables.Remove(hostOffset, out var t))
        {
            if (t.Dirty) _dirtyCount--;
            _lru.Remove(t.Node!);
        }
    }

    /// <summary>Drops every table, dirty or not.</summary>
    public void Clear()
    {
        _tables.Clear();
        _lru.Clear();
        _dirtyCount = 0;
    }
}
