using Discemu.Block;
using Discemu.FileSystems;

namespace Discemu.Tests.Fuse;

/// <summary>
/// A test double for the writable path: a case-sensitive in-memory tree implementing <see cref="IWritableFileSystem"/>
/// with the interface's rules (paths, snapshot entries, errors as BadArgumentException / DiskFullException).
/// </summary>
internal sealed class MemoryWritableFileSystem : FileSystem, IWritableFileSystem
{
    private readonly Lock _lock = new();
    private readonly Node _root = new("", directory: true);
    private readonly MemoryDevice _device = new(1 << 20);
    private readonly long _capacity;
    private string? _label;

    public MemoryWritableFileSystem(long capacity = 64 << 20) => _capacity = capacity;

    /// <summary>How many times <see cref="Flush"/> ran.</summary>
    public int Flushes { get; private set; }

    private sealed class Node(string name, bool directory)
    {
        public string Name = name;
        public readonly bool IsDirectory = directory;
        public readonly Dictionary<string, Node> Children = new(StringComparer.Ordinal);
        public byte[] Data = [];
        public long Length;
        public DateTimeOffset Modified = DateTimeOffset.UtcNow, Accessed = DateTimeOffset.UtcNow, Created = DateTimeOffset.UtcNow;
        public FileAttributes Attributes = FileAttributes.Normal;
    }

    private sealed class Entry : FileSystemEntry
    {
        public required Node Node { get; init; }
    }

    private sealed class DoubleType : FileSystemType
    {
        public static readonly DoubleType Instance = new();
        public override string Name => "memory";
        public override string Description => "In-memory test double";
        public override int Probe(BlockDevice device) => 0;
        public override FileSystem Open(BlockDevice device, FileSystemOpenOptions options) => throw new NotSupportedException();
    }

    public override FileSystemType Type => DoubleType.Instance;
    public override BlockDevice Device => _device;
    public override string? Label => _label;
    public override FileSystemEntry Root { get { lock (_lock) return Snap(_root); } }
    public override StringComparison NameComparison => StringComparison.Ordinal;
    public override string? DisplayPath => "memory";

    public override IReadOnlyList<FileSystemEntry> ListDirectory(FileSystemEntry directory)
    {
        var node = ((Entry)directory).Node;
        if (!node.IsDirectory) throw new ArgumentException("Not a directory.", nameof(directory));
        lock (_lock) return [.. node.Children.Values.Select(Snap)];
    }

    public override BlockDevice OpenFile(FileSystemEntry file)
    {
        var node = ((Entry)file).Node;
        if (node.IsDirectory) throw new ArgumentException("Not a file.", nameof(file));
        lock (_lock) return new MemoryDevice(node.Data.AsSpan(0, (int)node.Length));
    }

    private static Entry Snap(Node n) => new()
    {
        Node = n,
        Name = n.Name,
        Kind = n.IsDirectory ? FileSystemEntryKind.Directory : FileSystemEntryKind.File,
        Size = n.IsDirectory ? 0 : n.Length,
        Modified = n.Modified,
        Accessed = n.Accessed,
        Created = n.Created,
        Attributes = n.Attributes,
        Identity = n,
    };

    private (Node Parent, string Name, Node? Existing) Resolve(string path)
    {
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0) throw new BadArgumentException("The root cannot be changed.", path);
        var dir = _root;
        foreach (var p in parts[..^1])
            dir = dir.Children.TryGetValue(p, out var next) && next.IsDirectory ? next : throw new BadArgumentException("No such directory.", path);
        return (dir, parts[^1], dir.Children.GetValueOrDefault(parts[^1]));
    }

    private Node File(string path)
    {
        var (_, _, n) = Resolve(path);
        return n is { IsDirectory: false } ? n : throw new BadArgumentException("No such file.", path);
    }

    private long Used => Walk(_root).Sum(n => n.Length);

    private static IEnumerable<Node> Walk(Node n) => n.Children.Values.SelectMany(c => Walk(c).Prepend(c));

    public FileSystemEntry CreateFile(string path, EntryTimes? times = null) => Create(path, false, times);

    public FileSystemEntry CreateDirectory(string path, EntryTimes? times = null) => Create(path, true, times);

    private Entry Create(string path, bool directory, EntryTimes? times)
    {
        lock (_lock)
        {
            var (parent, name, existing) = Resolve(path);
            if (existing is not null) throw new BadArgumentException("Already exists.", path);
            var node = new Node(name, directory);
            if (times?.Modified is { } m) node.Modified = m;
            parent.Children[name] = node;
            parent.Modified = DateTimeOffset.UtcNow;
            return Snap(node);
        }
    }

    public void Write(string path, long offset, ReadOnlySpan<byte> data)
    {
        lock (_lock)
        {
            var n = File(path);
            long end = checked(offset + data.Length);
            if (end > n.Length && Used + (end - n.Length) > _capacity) throw new DiskFullException("Full.", path);
            Grow(n, end);
            data.CopyTo(n.Data.AsSpan((int)offset));
            n.Length = Math.Max(n.Length, end);
            n.Modified = DateTimeOffset.UtcNow;
        }
    }

    private static void Grow(Node n, long length)
    {
        if (length <= n.Data.Length) return;
        var bigger = new byte[Math.Max(length, n.Data.Length * 2L)];
        n.Data.AsSpan(0, (int)n.Length).CopyTo(bigger);
        n.Data = bigger;
    }

    public void SetLength(string path, long length)
    {
        lock (_lock)
        {
            var n = File(path);
            if (length > n.Length && Used + (length - n.Length) > _capacity) throw new DiskFullException("Full.", path);
            Grow(n, length);
            if (length > n.Length) n.Data.AsSpan((int)n.Length, (int)(length - n.Length)).Clear();
            n.Length = length;
            n.Modified = DateTimeOffset.UtcNow;
        }
    }

    public void Delete(string path)
    {
        lock (_lock)
        {
            var (parent, name, n) = Resolve(path);
            if (n is null) throw new BadArgumentException("No such entry.", path);
            if (n.IsDirectory && n.Children.Count > 0) throw new BadArgumentException("Directory not empty.", path);
            parent.Children.Remove(name);
        }
    }

    public void Move(string from, string to, bool replace = false)
    {
        lock (_lock)
        {
            var (fromParent, fromName, n) = Resolve(from);
            if (n is null) throw new BadArgumentException("No such entry.", from);
            var (toParent, toName, existing) = Resolve(to);
            for (var p = toParent; ; )
            {
                if (ReferenceEquals(p, n)) throw new BadArgumentException("A directory cannot move into itself.", to);
                var up = FindParent(_root, p);
                if (up is null) break;
                p = up;
            }
            if (existing is not null && !ReferenceEquals(existing, n))
            {
                if (!replace || (existing.IsDirectory && existing.Children.Count > 0)) throw new BadArgumentException("Target exists.", to);
                toParent.Children.Remove(toName);
            }
            fromParent.Children.Remove(fromName);
            n.Name = toName;
            toParent.Children[toName] = n;
        }
    }

    private static Node? FindParent(Node from, Node child)
    {
        foreach (var c in from.Children.Values)
        {
            if (ReferenceEquals(c, child)) return from;
            if (c.IsDirectory && FindParent(c, child) is { } found) return found;
        }
        return null;
    }

    public void SetTimes(string path, EntryTimes times)
    {
        lock (_lock)
        {
            var (_, _, n) = Resolve(path);
            if (n is null) throw new BadArgumentException("No such entry.", path);
            if (times.Modified is { } m) n.Modified = m;
            if (times.Accessed is { } a) n.Accessed = a;
            if (times.Created is { } c) n.Created = c;
        }
    }

    public void SetAttributes(string path, FileAttributes attributes)
    {
        lock (_lock)
        {
            var (_, _, n) = Resolve(path);
            if (n is null) throw new BadArgumentException("No such entry.", path);
            n.Attributes = attributes;
        }
    }

    public void SetLabel(string? label) => _label = label;

    public long FreeBytes { get { lock (_lock) return _capacity - Used; } }

    public void Flush()
    {
        lock (_lock) Flushes++;
    }

    /// <summary>The content of the file at <paramref name="path"/> as the double holds it.</summary>
    public byte[] Content(string path)
    {
        lock (_lock)
        {
            var n = File(path);
            return n.Data.AsSpan(0, (int)n.Length).ToArray();
        }
    }

    /// <summary>Every path, sorted, directories with a trailing slash.</summary>
    public List<string> Paths()
    {
        lock (_lock)
        {
            var list = new List<string>();
            void Visit(Node n, string prefix)
            {
                foreach (var c in n.Children.Values)
                {
                    string p = prefix + "/" + c.Name;
                    list.Add(c.IsDirectory ? p + "/" : p);
                    if (c.IsDirectory) Visit(c, p);
                }
            }
            Visit(_root, "");
            list.Sort(StringComparer.Ordinal);
            return list;
        }
    }
}
