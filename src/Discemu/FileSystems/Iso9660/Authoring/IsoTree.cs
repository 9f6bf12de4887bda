namespace Discemu.FileSystems.Iso9660.Authoring;

/// <summary>
/// The tree to author: the directories in memory, the other entries in an <see cref="IsoSpill"/> run per scanned
/// host directory, and the hard-link groups. <see cref="Children"/> reads a directory's entries back as new nodes
/// each time, so only one directory's entries (the largest directory's at most) are in memory at once.
/// </summary>
internal sealed class IsoTree : IDisposable
{
    /// <summary>Entries from which reading a directory back first collects the garbage of the previous large one.</summary>
    private const int LargeDirectory = 2048;

    private readonly Dictionary<(int Run, int Index), (IsoLinkGroup Group, bool First)> _links = [];
    private readonly List<IsoNode> _dirs = [];
    private bool _afterLarge;

    public IsoSpill Spill { get; } = new();

    /// <summary>The root directory, set by the scanner.</summary>
    public IsoNode Root { get; set; } = null!;

    /// <summary>Directories made so far, by <see cref="IsoDirectoryState.Id"/> (merged ones included).</summary>
    public IReadOnlyList<IsoNode> Dirs => _dirs;

    /// <summary>Hard-linked files recorded (memory grows with them: one small entry each).</summary>
    public int LinkedFiles => _links.Count;

    /// <summary>Makes <paramref name="dir"/> a directory of this tree; safe from several threads.</summary>
    public IsoDirectoryState AddDirectory(IsoNode dir, int[] scanKey)
    {
        var state = new IsoDirectoryState { ScanKey = scanKey };
        lock (_dirs)
        {
            state.Id = _dirs.Count;
            _dirs.Add(dir);
        }
        dir.Dir = state;
        return state;
    }

    /// <summary>Records that entry <paramref name="index"/> of spilled run <paramref name="run"/> is in a hard-link group.</summary>
    public void AddLink(int run, int index, IsoLinkGroup group, bool first) => _links[(run, index)] = (group, first);

    /// <summary>
    /// The entries of <paramref name="dir"/> in the order they were added (directories carry their node, whose
    /// parent becomes <paramref name="dir"/>; merged directories are left out).
    /// </summary>
    public IsoEntries Children(IsoNode dir)
    {
        var state = dir.Dir!;
        int count = 0;
        long bytes = 0;
        foreach (var part in state.Parts)
            (count, bytes) = part is IsoSpill.Run r ? (count + r.Count, bytes + r.Length) : (count + 1, bytes + 64);
        // While a large directory is worked on, its entries survive every collection: they reach the oldest
        // generation, where garbage piles up until a full collection. A full collection before a large directory is
        // read and again before the next directory after it keeps the heap at about one large directory. It costs
        // milliseconds (little is live), the reading more.
        bool large = count >= LargeDirectory;
        if (large || _afterLarge) GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        _afterLarge = large;
        // The records' bytes bound their names' characters, and their fixed fields (about 50 bytes) leave room for the
        // ISO 9660 identifiers the planner adds (up to 33 characters; Joliet identifiers mostly share the names).
        var entries = new IsoEntries(dir, count, (int)Math.Min(bytes, Array.MaxLength));
        foreach (var part in state.Parts)
        {
            if (part is IsoNode node)
            {
                AddNode(node);
                continue;
            }
            var run = (IsoSpill.Run)part;
            Spill.Read(run, entries, id => AddNode(_dirs[id]), (index, i) =>
            {
                if (_links.TryGetValue((run.Id, i), out var l)) (entries[index].LinkGroup, entries[index].LinkFirst) = (l.Group, l.First);
            });
        }
        return entries;

        void AddNode(IsoNode n)
        {
            if (n.Dir?.MergedInto is not null) return;
            n.Parent = dir;
            entries.AddNode(n);
        }
    }

    /// <summary>The directory of <paramref name="dir"/> named <paramref name="name"/>, if any.</summary>
    public IsoNode? FindDirectory(IsoNode dir, string name)
    {
        var entries = Children(dir);
        int i = entries.IndexOf(name);
        return i >= 0 && entries[i].IsDirectory ? entries[i].Node : null;
    }

    /// <summary>The entry of <paramref name="dir"/> named <paramref name="name"/> as a node (see <see cref="IsoEntries.ToNode"/>), if any.</summary>
    public IsoNode? Find(IsoNode dir, string name)
    {
        var entries = Children(dir);
        int i = entries.IndexOf(name);
        return i >= 0 ? entries.ToNode(i) : null;
    }

    public void Dispose() => Spill.Dispose();
}
