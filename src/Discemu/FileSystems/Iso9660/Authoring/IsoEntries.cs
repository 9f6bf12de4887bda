namespace Discemu.FileSystems.Iso9660.Authoring;

/// <summary>A piece of an <see cref="IsoEntries"/> text pool.</summary>
internal readonly record struct TextRef(int Start, int Length);

/// <summary>
/// One entry of a directory being planned or written: its attributes and the layout the planner assigns, its texts
/// in the directory's pool. Directories and entries held in memory (graft-point files, the boot catalog) also have
/// their <see cref="Node"/>; a directory's own layout (its extents and sizes) is read from there.
/// </summary>
internal struct IsoEntry
{
    public IsoNode? Node;
    public IsoLinkGroup? LinkGroup;
    public TextRef Name, Target, IsoName, JolietName;
    public long Size, Modified, Accessed, Changed;
    public ulong Device;
    public uint Mode, Uid, Gid, Links, Inode, Extent;
    /// <summary>The entry's host directory in <see cref="IsoEntries.HostDirs"/> (-1: the node's own host path).</summary>
    public int HostDir;
    public IsoNodeKind Kind;
    public bool Hidden, LinkFirst;

    public readonly bool IsDirectory => Kind == IsoNodeKind.Directory;

    /// <summary>True when the entry has content recorded in file extents.</summary>
    public readonly bool HasContent => Kind is IsoNodeKind.File or IsoNodeKind.BootCatalog;

    /// <summary>A later hard link inside the tree, sharing an earlier file's content.</summary>
    public readonly bool SharesContent => LinkGroup is not null && !LinkFirst;
}

/// <summary>
/// The entries of one directory, read back from the tree for planning or writing: their fixed-size fields in one
/// array of structs, every name and link target in one character pool, so that a directory of tens of thousands of
/// entries costs a few hundred bytes an entry and a handful of objects. The ISO 9660 and Joliet names the planner
/// assigns go to the same pool.
/// </summary>
internal sealed class IsoEntries(IsoNode owner, int capacity, int textCapacity)
{
    private IsoEntry[] _items = new IsoEntry[Math.Max(capacity, 4)];
    private char[] _chars = new char[Math.Max(textCapacity, 64)];
    private int _charCount;

    /// <summary>A file identifier's version, stored after every file's name so that an identifier equal to the name can share it.</summary>
    public const string Version = ";1";

    /// <summary>The directory these are the entries of.</summary>
    public IsoNode Owner { get; } = owner;

    public int Count { get; private set; }

    /// <summary>Characters in the pool so far (the next text stored starts here).</summary>
    public int TextLength => _charCount;

    /// <summary>The host directories of spilled entries (their host path is one of these joined with the name).</summary>
    public List<string> HostDirs { get; } = [];

    /// <summary>The entry at <paramref name="index"/>, by reference.</summary>
    public ref IsoEntry this[int index] => ref _items[index];

    /// <summary>The characters of <paramref name="text"/>.</summary>
    public ReadOnlySpan<char> Text(TextRef text) => _chars.AsSpan(text.Start, text.Length);

    /// <summary>A new entry, zeroed but for <see cref="IsoEntry.HostDir"/> (-1).</summary>
    public ref IsoEntry Add()
    {
        if (Count == _items.Length) Array.Resize(ref _items, _items.Length * 2);
        ref var e = ref _items[Count++];
        e = default;
        e.HostDir = -1;
        return ref e;
    }

    /// <summary>Adds <paramref name="text"/> to the pool.</summary>
    public TextRef Store(ReadOnlySpan<char> text)
    {
        var span = Reserve(text.Length);
        text.CopyTo(span);
        return Commit(text.Length);
    }

    /// <summary>Space for <paramref name="length"/> more characters at the end of the pool; <see cref="Commit"/> keeps them.</summary>
    /// <exception cref="UnsupportedFeatureException">The pool would exceed the largest array.</exception>
    public Span<char> Reserve(int length)
    {
        long need = _charCount + (long)length;
        if (need > Array.MaxLength) throw new UnsupportedFeatureException("A directory's names and link targets exceed 2^31 characters.");
        if (need > _chars.Length) Array.Resize(ref _chars, (int)Math.Min(Math.Max(_chars.Length + (long)_chars.Length / 2, need), Array.MaxLength));
        return _chars.AsSpan(_charCount, length);
    }

    /// <summary>Keeps the first <paramref name="length"/> reserved characters as a text.</summary>
    public TextRef Commit(int length)
    {
        var t = new TextRef(_charCount, length);
        _charCount += length;
        return t;
    }

    /// <summary>
    /// <paramref name="text"/> as the identifier of a file (with <see cref="Version"/>) or directory (without): the
    /// pooled characters of a name stored with <see cref="Version"/> after it (every file's own name is).
    /// </summary>
    public static TextRef Versioned(TextRef text, bool directory) => directory ? text : new TextRef(text.Start, text.Length + Version.Length);

    /// <summary>Adds an entry held in memory (a directory, a graft-point file, the boot catalog), its attributes copied.</summary>
    public void AddNode(IsoNode n)
    {
        ref var e = ref Add();
        e.Node = n;
        e.Name = Store(n.Name);
        if (!n.IsDirectory) Store(Version);
        if (n.LinkTarget is { } t) e.Target = Store(t);
        e.Kind = n.Kind;
        e.Size = n.Size;
        (e.Modified, e.Accessed, e.Changed) = (n.ModifiedSeconds, n.AccessedSeconds, n.ChangedSeconds);
        (e.Mode, e.Uid, e.Gid, e.Device) = (n.Mode, n.Uid, n.Gid, n.DeviceNumber);
        e.Hidden = n.Hidden;
        (e.LinkGroup, e.LinkFirst) = (n.LinkGroup, n.LinkFirst);
    }

    /// <summary>The entry's host name.</summary>
    public string Name(int index) => new(Text(_items[index].Name));

    /// <summary>The entry's ISO 9660 identifier (once named).</summary>
    public string IsoName(int index) => new(Text(_items[index].IsoName));

    /// <summary>The entry's host path (null for directories made up by graft points and for the boot catalog).</summary>
    public string? HostPath(int index)
    {
        ref var e = ref _items[index];
        return e.HostDir < 0 ? e.Node?.HostPath : Path.Join(HostDirs[e.HostDir], Text(e.Name));
    }

    /// <summary>The entry's path in the tree.</summary>
    public string TreePath(int index)
    {
        string dir = Owner.TreePath;
        return (dir == "/" ? "/" : dir + "/") + Name(index);
    }

    /// <summary>The index of the entry named <paramref name="name"/>, or -1.</summary>
    public int IndexOf(string name)
    {
        for (int i = 0; i < Count; i++)
            if (Text(_items[i].Name).SequenceEqual(name)) return i;
        return -1;
    }

    /// <summary>
    /// The entry as a node of its own: a directory's node, else a detached copy of the entry with its layout (for
    /// boot images and error messages).
    /// </summary>
    public IsoNode ToNode(int index)
    {
        ref var e = ref _items[index];
        if (e.Node is { IsDirectory: true } d) return d;
        return new IsoNode
        {
            Name = Name(index), Kind = e.Kind, Parent = Owner, HostPath = HostPath(index), Size = e.Size,
            ModifiedSeconds = e.Modified, AccessedSeconds = e.Accessed, ChangedSeconds = e.Changed,
            Mode = e.Mode, Uid = e.Uid, Gid = e.Gid, DeviceNumber = e.Device, Hidden = e.Hidden,
            LinkTarget = e.Kind == IsoNodeKind.Symlink ? new string(Text(e.Target)) : null,
            LinkGroup = e.LinkGroup, LinkFirst = e.LinkFirst, Links = e.Links, Inode = e.Inode, Extent = e.Extent,
            IsoName = IsoName(index), JolietName = new string(Text(e.JolietName)),
        };
    }
}
