using Discemu.FileSystems;

namespace Discemu.Fuse;

/// <summary>A node the kernel knows: its id, current path, last entry seen and the kernel's lookup count.</summary>
internal sealed class FuseNode(ulong id, string path, FileSystemEntry entry)
{
    public ulong Id { get; } = id;

    /// <summary>The current path (follows renames); null once the entry was removed or replaced.</summary>
    public volatile string? Path = path;

    /// <summary>The last entry seen for this node.</summary>
    public volatile FileSystemEntry Entry = entry;

    /// <summary>How many LOOKUP-like replies the kernel has not forgotten yet (guarded by the table's lock).</summary>
    public ulong Lookups;
}

/// <summary>
/// Node ids to paths and back. Ids are handed out on the first lookup of a path and dropped when the kernel
/// forgets every lookup; renames move the paths of a node and everything under it.
/// </summary>
internal sealed class FuseNodeTable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<ulong, FuseNode> _byId = [];
    private readonly Dictionary<string, FuseNode> _byPath = new(StringComparer.Ordinal);
    private ulong _next = FuseConstants.RootId + 1;

    public FuseNodeTable(FileSystemEntry root)
    {
        var node = new FuseNode(FuseConstants.RootId, "/", root) { Lookups = 1 };
        _byId[node.Id] = node;
        _byPath["/"] = node;
    }

    /// <summary>The number of nodes held (the root included).</summary>
    public int Count
    {
        get { lock (_lock) return _byId.Count; }
    }

    /// <summary>The node <paramref name="id"/>, or null when the kernel names an id it was never given or forgot.</summary>
    public FuseNode? Get(ulong id)
    {
        lock (_lock) return _byId.GetValueOrDefault(id);
    }

    /// <summary>The node at <paramref name="path"/>, or null.</summary>
    public FuseNode? Find(string path)
    {
        lock (_lock) return _byPath.GetValueOrDefault(path);
    }

    /// <summary>The node for <paramref name="path"/> (created when new), its lookup count raised by one.</summary>
    public FuseNode AddLookup(string path, FileSystemEntry entry)
    {
        lock (_lock)
        {
            if (!_byPath.TryGetValue(path, out var node))
            {
                node = new FuseNode(_next++, path, entry);
                _byId[node.Id] = node;
                _byPath[path] = node;
            }
            else
            {
                node.Entry = entry;
            }
            node.Lookups++;
            return node;
        }
    }

    /// <summary>Drops <paramref name="count"/> lookups of node <paramref name="id"/>; forgets the node at zero (never the root).</summary>
    public void Forget(ulong id, ulong count)
    {
        lock (_lock)
        {
            if (id == FuseConstants.RootId || !_byId.TryGetValue(id, out var node)) return;
            node.Lookups = count >= node.Lookups ? 0 : node.Lookups - count;
            if (node.Lookups > 0) return;
            _byId.Remove(id);
            if (node.Path is { } p && _byPath.TryGetValue(p, out var current) && ReferenceEquals(current, node)) _byPath.Remove(p);
        }
    }

    /// <summary>The entry at <paramref name="path"/> is gone: its node (if any) keeps its id but no longer has a path.</summary>
    public void Removed(string path)
    {
        lock (_lock)
        {
            if (_byPath.Remove(path, out var node)) node.Path = null;
        }
    }

    /// <summary><paramref name="from"/> moved to <paramref name="to"/> (with everything under it); whatever was at <paramref name="to"/> is replaced.</summary>
    public void Moved(string from, string to)
    {
        lock (_lock)
        {
            if (_byPath.Remove(to, out var replaced)) replaced.Path = null;
            string prefix = from + "/";
            var moving = _byPath.Where(kv => kv.Key == from || kv.Key.StartsWith(prefix, StringComparison.Ordinal)).ToList();
            foreach (var (path, _) in moving) _byPath.Remove(path);
            foreach (var (path, node) in moving)
            {
                string next = to + path[from.Length..];
                if (_byPath.Remove(next, out var stale)) stale.Path = null;
                node.Path = next;
                _byPath[next] = node;
            }
        }
    }
}
