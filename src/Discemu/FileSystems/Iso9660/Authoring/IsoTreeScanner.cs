using System.IO.Enumeration;
using Discemu.Util;

namespace Discemu.FileSystems.Iso9660.Authoring;

/// <summary>
/// Builds the tree to author from sources and graft points (<c>/dest=src</c>, <c>\=</c> escaping an equals sign):
/// names, sizes, times, modes, owners, link targets and host paths, no content. Excluded entries are skipped,
/// hidden ones marked; hard links inside the tree share one content extent. Each scanned directory's entries go to
/// the tree's spill file as soon as the directory is read; only directories stay in memory.
/// </summary>
internal sealed class IsoTreeScanner
{
    private readonly IsoAuthorOptions _options;
    private readonly IsoGlob _exclude, _hidden;
    private readonly long _now;
    private readonly IsoTree _tree;
    private readonly Dictionary<(ulong, ulong), IsoLinkGroup> _groups = [];

    /// <summary>A file with several host links met by the scan: where it is (scan order and spilled run) and its host id.</summary>
    private readonly record struct LinkCandidate(int[] Key, int Run, int Index, (ulong, ulong) HostId);

    public IsoTreeScanner(IsoAuthorOptions options, DateTimeOffset now, IsoTree tree)
    {
        _tree = tree;
        _options = options;
        _exclude = new IsoGlob(options.Exclude);
        _hidden = new IsoGlob(options.Hidden);
        _now = (options.SourceDateEpoch ?? now).ToUnixTimeSeconds();
    }

    /// <summary>Scans every source into the tree (its root and spill file).</summary>
    /// <exception cref="BadArgumentException">No sources, a missing source, or two sources with the same target path.</exception>
    public void Scan()
    {
        if (_options.Sources.Count == 0) throw new BadArgumentException("mkiso needs at least one source (a path or /dest=src).");
        IsoNode? root = null;
        foreach (string source in _options.Sources)
        {
            var (dest, src) = SplitGraft(source);
            string full = Path.GetFullPath(src);
            var stat = StatOf(full) ?? throw new BadArgumentException($"Source '{src}' does not exist.", src);
            bool isDir = (stat.Mode & 0xF000) == 0x4000;
            if (dest is null)
            {
                // A plain directory source merges into the root; a plain file goes to /name.
                if (isDir)
                {
                    var node = Make(Path.GetFileName(full.TrimEnd('/')), full, stat);
                    if (root is null) root = node;
                    else Merge(root, node, "/");
                    continue;
                }
                dest = "/" + Path.GetFileName(full);
            }
            if (dest.EndsWith('/') && !isDir) dest += Path.GetFileName(full);
            root ??= Synthetic("");
            var parts = dest.Split('/', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Any(p => p is "." or "..")) throw new BadArgumentException($"Graft point target '{dest}' may not contain '.' or '..'.", source);
            if (parts.Length == 0)
            {
                if (!isDir) throw new BadArgumentException($"Graft point '{source}' puts a file at the root.", source);
                Merge(root, Make("", full, stat), "/");
                continue;
            }
            var dir = root;
            for (int i = 0; i < parts.Length - 1; i++)
            {
                var child = _tree.Find(dir, parts[i]);
                if (child is null) Attach(dir, child = Synthetic(parts[i]));
                else if (!child.IsDirectory) throw new BadArgumentException($"Name clash: '{child.TreePath}' is a file and a graft point's directory.", source);
                dir = child;
            }
            var added = Make(parts[^1], full, stat);
            var existing = _tree.Find(dir, parts[^1]);
            if (existing is null) Attach(dir, added);
            else if (existing.IsDirectory && added.IsDirectory) Merge(existing, added, existing.TreePath);
            else throw new BadArgumentException($"Name clash: two sources map to '{existing.TreePath}'.", source);
        }
        _tree.Root = root!;
    }

    private static (string? Dest, string Src) SplitGraft(string source)
    {
        for (int i = 0; i < source.Length; i++)
        {
            if (source[i] == '\\' && i + 1 < source.Length) { i++; continue; }
            if (source[i] == '=') return (Unescape(source[..i]), Unescape(source[(i + 1)..]));
        }
        return (null, Unescape(source));
    }

    private static string Unescape(string s) => s.Replace(@"\=", "=").Replace(@"\\", @"\");

    private static void Attach(IsoNode dir, IsoNode child)
    {
        child.Parent = dir;
        dir.Dir!.Parts.Add(child);
    }

    /// <summary>Moves <paramref name="from"/>'s entries into <paramref name="into"/>; directories on both sides merge.</summary>
    private void Merge(IsoNode into, IsoNode from, string where)
    {
        var existing = new Dictionary<string, IsoNode?>(StringComparer.Ordinal);
        var intoEntries = _tree.Children(into);
        for (int i = 0; i < intoEntries.Count; i++) existing[intoEntries.Name(i)] = intoEntries[i].IsDirectory ? intoEntries[i].Node : null;
        var merges = new List<(IsoNode Into, IsoNode From)>();
        var fromEntries = _tree.Children(from);
        for (int i = 0; i < fromEntries.Count; i++)
        {
            string name = fromEntries.Name(i);
            if (!existing.TryGetValue(name, out var e)) continue;
            if (e is not null && fromEntries[i].IsDirectory) merges.Add((e, fromEntries[i].Node!));
            else throw new BadArgumentException($"Name clash: two sources map to '{(where == "/" ? "" : where)}/{name}'.");
        }
        // The spilled runs move as they are; a merged directory's entry is left out of them (MergedInto).
        foreach (var (e, c) in merges) c.Dir!.MergedInto = e;
        foreach (var part in from.Dir!.Parts)
        {
            if (part is IsoNode c) { if (c.Dir?.MergedInto is null) Attach(into, c); }
            else into.Dir!.Parts.Add(part);
        }
        foreach (var (e, c) in merges) Merge(e, c, e.TreePath);
    }

    private IsoNode Synthetic(string name)
    {
        var node = new IsoNode
        {
            Name = name, Kind = IsoNodeKind.Directory, Mode = 0x41ED,
            ModifiedSeconds = _now, AccessedSeconds = _now, ChangedSeconds = _now,
        };
        _tree.AddDirectory(node, []);
        return node;
    }

    private static HostStat? StatOf(string path)
    {
        if (LinuxNative.LStat(path) is { } s) return s;
        FileSystemInfo info = Directory.Exists(path) ? new DirectoryInfo(path) : new FileInfo(path);
        if (!info.Exists && info.LinkTarget is null) return null;
        uint type = info.LinkTarget is not null ? 0xA000u : info is DirectoryInfo ? 0x4000u : 0x8000u;
        uint perm = OperatingSystem.IsWindows() ? (type == 0x4000 ? 0x1EDu : 0x1A4u) : (uint)info.UnixFileMode;
        long m = new DateTimeOffset(info.LastWriteTimeUtc).ToUnixTimeSeconds();
        return new HostStat(type | perm, 0, 0, 1, 0, info is FileInfo f && info.LinkTarget is null ? f.Length : 0,
            new DateTimeOffset(info.LastAccessTimeUtc).ToUnixTimeSeconds(), m, m, 0, 0);
    }

    private long Clamp(long t) => _options.SourceDateEpoch is { } e ? Math.Min(t, e.ToUnixTimeSeconds()) : t;

    /// <summary>A node for a host path (a directory with its whole subtree, spilled), hard links inside it linked.</summary>
    private IsoNode Make(string name, string hostPath, HostStat stat)
    {
        var node = MakeNode(name, hostPath, stat);
        if (node.IsDirectory)
        {
            _tree.AddDirectory(node, []);
            ScanSubtree(node);
        }
        else if (node.Kind == IsoNodeKind.File && node.Links > 1)
        {
            node.Links = 1;
            (node.LinkGroup, node.LinkFirst) = Link(node.HostId);
        }
        return node;
    }

    /// <summary>The hard-link group of host file <paramref name="id"/>, and whether this is its first file in the tree.</summary>
    private (IsoLinkGroup, bool) Link((ulong, ulong) id)
    {
        if (_groups.TryGetValue(id, out var g))
        {
            g.Links++;
            return (g, false);
        }
        _groups[id] = g = new IsoLinkGroup();
        return (g, true);
    }

    private static IsoNodeKind KindOf(HostStat stat) => (stat.Mode & 0xF000) switch
    {
        0x4000 => IsoNodeKind.Directory,
        0x8000 => IsoNodeKind.File,
        0xA000 => IsoNodeKind.Symlink,
        _ => IsoNodeKind.Special,
    };

    /// <summary>The modification, access and change times to record.</summary>
    private (long Modified, long Accessed, long Changed) Times(HostStat stat)
    {
        long m = Clamp(stat.ModifiedSeconds);
        // Reading a file changes its access time, a chmod its change time: reproducible images record the modification time for both.
        return _options.SourceDateEpoch is null ? (m, stat.AccessedSeconds, stat.ChangedSeconds) : (m, m, m);
    }

    /// <summary>A node for a host path (given, or for a directory the scan found its parent's joined with the name), without its children.</summary>
    private IsoNode MakeNode(string name, string? hostPath, HostStat stat, IsoNode? scanParent = null)
    {
        var kind = KindOf(stat);
        var (m, a, c) = Times(stat);
        var node = new IsoNode
        {
            Name = name, Kind = kind, HostPath = hostPath, ScanParent = scanParent, Size = kind == IsoNodeKind.File ? stat.Size : 0,
            ModifiedSeconds = m, AccessedSeconds = a, ChangedSeconds = c,
            Mode = stat.Mode, Uid = stat.Uid, Gid = stat.Gid, DeviceNumber = stat.DeviceNumber,
            HostId = (stat.Device, stat.Inode),
            LinkTarget = kind == IsoNodeKind.Symlink && hostPath is not null ? new FileInfo(hostPath).LinkTarget ?? "" : null,
        };
        if (kind == IsoNodeKind.File && stat.Links > 1 && stat.Inode != 0) node.Links = stat.Links;
        return node;
    }

    /// <summary>
    /// Scans a directory's subtree level by level, the directories of one level in parallel (the scan is mostly
    /// readdir and statx calls, which overlap well), spilling each directory's entries once read, then links
    /// hard-linked files in depth-first order of the scan, so the tree is the same whatever order the threads ran in.
    /// </summary>
    private void ScanSubtree(IsoNode top)
    {
        var level = new List<IsoNode> { top };
        var candidates = new List<LinkCandidate>();
        var options = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(2, Environment.ProcessorCount) };
        while (level.Count > 0)
        {
            var next = new List<IsoNode>[level.Count];
            if (level.Count == 1) next[0] = ScanLevelDirectory(level[0], candidates);
            else
            {
                try
                {
                    Parallel.For(0, level.Count, options, i => next[i] = ScanLevelDirectory(level[i], candidates));
                }
                catch (AggregateException e)
                {
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.Flatten().InnerExceptions[0]);
                }
            }
            level = next.SelectMany(l => l).ToList();
        }
        candidates.Sort(static (a, b) => a.Key.AsSpan().SequenceCompareTo(b.Key));
        foreach (var c in candidates)
        {
            var (group, first) = Link(c.HostId);
            _tree.AddLink(c.Run, c.Index, group, first);
        }
    }

    /// <summary>
    /// Reads one directory and spills its entries as they are read (only its subdirectories become nodes, which it
    /// returns): a directory of any size costs one record buffer.
    /// </summary>
    private List<IsoNode> ScanLevelDirectory(IsoNode dir, List<LinkCandidate> candidates)
    {
        string hostDir = dir.HostPath!;
        var key = dir.Dir!.ScanKey;
        var names = new FileSystemEnumerable<string>(hostDir, static (ref System.IO.Enumeration.FileSystemEntry e) => e.FileName.ToString(),
            new EnumerationOptions { AttributesToSkip = 0, IgnoreInaccessible = false, RecurseSubdirectories = false, ReturnSpecialDirectories = false });
        var records = _tree.Spill.Builder();
        var subdirs = new List<IsoNode>();
        var linked = new List<(int Index, (ulong, ulong) HostId)>();
        foreach (string name in names)
        {
            string path = Path.Join(hostDir, name);
            if (!_exclude.IsEmpty && _exclude.Matches(name, path)) continue;
            var stat = StatOf(path) ?? throw new ImageAccessException($"Cannot read the attributes of '{path}'.", path);
            bool hidden = !_hidden.IsEmpty && _hidden.Matches(name, path);
            int index = records.Count;
            var kind = KindOf(stat);
            if (kind == IsoNodeKind.Directory)
            {
                var child = MakeNode(name, null, stat, scanParent: dir);
                child.Hidden = hidden;
                child.Parent = dir;
                _tree.AddDirectory(child, [.. key, index]);
                subdirs.Add(child);
                records.AddDirectory(child.Dir!.Id);
                continue;
            }
            bool candidate = kind == IsoNodeKind.File && stat.Links > 1 && stat.Inode != 0;
            if (candidate) linked.Add((index, (stat.Device, stat.Inode)));
            var (m, a, c) = Times(stat);
            records.AddEntry(name, kind, hidden, candidate, kind == IsoNodeKind.File ? stat.Size : 0, m, a, c, stat.Mode, stat.Uid, stat.Gid,
                stat.DeviceNumber, kind == IsoNodeKind.Symlink ? new FileInfo(path).LinkTarget ?? "" : null);
        }
        var run = _tree.Spill.Append(records, dir);
        dir.Dir.Parts.Add(run);
        dir.Dir.ScanKey = []; // its entries have theirs
        if (linked.Count > 0)
            lock (candidates)
                foreach (var (index, id) in linked) candidates.Add(new LinkCandidate([.. key, index], run.Id, index, id));
        return subdirs;
    }
}
