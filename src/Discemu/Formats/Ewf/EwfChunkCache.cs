namespace Discemu.Formats.Ewf;

/// <summary>
/// A small least-recently-used cache of decoded chunks for reads that touch only part of a chunk.
/// Bounded to about 32 MiB (at least 4 chunks). Cached arrays are never written after insertion,
/// so readers copy from them outside the lock.
/// </summary>
internal sealed class EwfChunkCache(int chunkSize)
{
    private readonly int _capacity = Math.Clamp((32 << 20) / Math.Max(chunkSize, 1), 4, 1024);
    private readonly Dictionary<long, LinkedListNode<(long Index, byte[] Data)>> _map = [];
    private readonly LinkedList<(long Index, byte[] Data)> _lru = new();
    private readonly Lock _lock = new();

    /// <summary>The cached chunk, or null.</summary>
    public byte[]? TryGet(long index)
    {
        lock (_lock)
        {
            if (!_map.TryGetValue(index, out var node)) return null;
            _lru.Remove(node);
            _lru.AddFirst(node);
            return node.Value.Data;
        }
    }

    /// <summary>Adds a decoded chunk (evicting the least recently used one when full).</summary>
    public void Add(long index, byte[] data)
    {
        lock (_lock)
        {
            if (_map.ContainsKey(index)) return;
            if (_map.Count >= _capacity && _lru.Last is { } last)
            {
                _map.Remove(last.Value.Index);
                _lru.RemoveLast();
            }
            _map[index] = _lru.AddFirst((index, data));
        }
    }
}
