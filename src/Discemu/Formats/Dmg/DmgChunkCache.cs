namespace Discemu.Formats.Dmg;

/// <summary>
/// A small least-recently-used cache of decompressed chunks, bounded by bytes, safe for concurrent readers:
/// each chunk is decompressed once even when several threads want it at the same time (the others wait for
/// it), and the decompression itself runs outside the cache's lock. A failed decompression is not cached.
/// </summary>
internal sealed class DmgChunkCache(long capacityBytes)
{
    private readonly object _gate = new();
    private readonly Dictionary<int, LinkedListNode<Slot>> _map = [];
    private readonly LinkedList<Slot> _lru = new();
    private long _bytes;

    private sealed class Slot(int key, long size, Lazy<byte[]> value)
    {
        public int Key { get; } = key;
        public long Size { get; } = size;
        public Lazy<byte[]> Value { get; } = value;
    }

    /// <summary>The bytes the cache may hold (one chunk larger than that is still kept alone).</summary>
    public long Capacity { get; } = capacityBytes;

    /// <summary>Chunks currently held (for tests).</summary>
    public int Count
    {
        get { lock (_gate) return _map.Count; }
    }

    /// <summary>True when chunk <paramref name="key"/> is held (it may still be decompressing).</summary>
    public bool Contains(int key)
    {
        lock (_gate) return _map.ContainsKey(key);
    }

    /// <summary>Returns chunk <paramref name="key"/>, decompressing it with <paramref name="load"/> on a miss.</summary>
    public byte[] Get(int key, long size, Func<byte[]> load)
    {
        Slot slot;
        lock (_gate)
        {
            if (_map.TryGetValue(key, out var node))
            {
                _lru.Remove(node);
                _lru.AddFirst(node);
                slot = node.Value;
            }
            else
            {
                while (_lru.Count > 0 && _bytes + size > Capacity)
                {
                    var last = _lru.Last!;
                    _lru.RemoveLast();
                    _map.Remove(last.Value.Key);
                    _bytes -= last.Value.Size;
                }
                slot = new Slot(key, size, new Lazy<byte[]>(load, LazyThreadSafetyMode.ExecutionAndPublication));
                _map[key] = _lru.AddFirst(slot);
                _bytes += size;
            }
        }
        try
        {
            return slot.Value.Value;
        }
        catch
        {
            lock (_gate)
            {
                if (_map.TryGetValue(key, out var node) && ReferenceEquals(node.Value, slot))
                {
                    _lru.Remove(node);
                    _map.Remove(key);
                    _bytes -= slot.Size;
                }
            }
            throw;
        }
    }
}
