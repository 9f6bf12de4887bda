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

    /// <summary>The entries of <paramref name="dir"/> in no particular order, their parent set; directories are the tree's own nodes, the others new ones.</summary>
    public List<IsoNode> Children(IsoNode dir)
    {
        var state = dir.Dir!;
        int count = 0;
        foreach (var part in state.Parts) count += part is IsoSpill.Run r ? r.Count : 1;
        // While a large directory is worked on, its nodes survive every collection: they reach the oldest
        // generation, where garbage piles up, and the collector, seeing so much survive, lets the youngest
        // generation grow to tens of MiB for the rest of the run. A full collection before a large directory is
        // read and again before the next directory after it keeps the heap at about one large directory and the
        // young generation small. It costs milliseconds (little is live), the reading more.
        bool large = count >= LargeDirectory;
        if (large || _afterLarge) GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        _afterLarge = large;
        var list = new List<IsoNode>(count);
        foreach (var part in state.Parts)
        {
            if (part is IsoNode node)
            {
                Add(node);
                continue;
            }
            var run = (IsoSpill.Run)part;
            foreach (var n in Spill.Read(run, _dirs, (n, i) =>
                     {
                         if (_links.TryGetValue((run.Id, i), out var l)) (n.LinkGroup, n.LinkFirst) = (l.Group, l.First);
                     }))
                Add(n);
        }
        return list;

        void Add(IsoNode n)
        {
            if (n.Dir?.MergedInto is not null) return;
            n.Parent = dir;
            list.Add(n);
        }
    }

    /// <summary>The entry of <paramref name="dir"/> named <paramref name="name"/>, if any.</summary>
    public IsoNode? Find(IsoNode dir, string name) => Children(dir).Find(c => c.Name == name);

    public void Dispose() => Spill.Dispose();
}
