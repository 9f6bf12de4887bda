using System.IO.Enumeration;
using Discemu.Util;

namespace Discemu.FileSystems.Iso9660.Authoring;

/// <summary>
/// Builds the tree to author from sources and graft points (<c>/dest=src</c>, <c>\=</c> escaping an equals sign):
/// names, sizes, times, modes, owners, link targets and host paths, no content. Excluded entries are skipped,
/// hidden ones marked; hard links inside the tree share one content extent.
/// </summary>
internal sealed class IsoTreeScanner
{
    private readonly IsoAuthorOptions _options;
    private readonly IsoGlob _exclude, _hidden;
    private readonly long _now;
    private readonly Dictionary<(ulong, ulong), IsoNode> _inodes = [];

    public IsoTreeScanner(IsoAuthorOptions options, DateTimeOffset now)
    {
        _options = options;
        _exclude = new IsoGlob(options.Exclude);
        _hidden = new IsoGlob(options.Hidden);
        _now = (options.SourceDateEpoch ?? now).ToUnixTimeSeconds();
    }

    /// <summary>Scans every source into one tree.</summary>
    /// <exception cref="BadArgumentException">No sources, a missing source, or two sources with the same target path.</exception>
    public IsoNode Scan()
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
                var child = dir.Children!.Find(c => c.Name == parts[i]);
                if (child is null) Attach(dir, child = Synthetic(parts[i]));
                else if (!child.IsDirectory) throw new BadArgumentException($"Name clash: '{child.TreePath}' is a file and a graft point's directory.", source);
                dir = child;
            }
            var added = Make(parts[^1], full, stat);
            var existing = dir.Children!.Find(c => c.Name == parts[^1]);
            if (existing is null) Attach(dir, added);
            else if (existing.IsDirectory && added.IsDirectory) Merge(existing, added, existing.TreePath);
            else throw new BadArgumentException($"Name clash: two sources map to '{existing.TreePath}'.", source);
        }
        return root!;
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
        dir.Children!.Add(child);
    }

    private static void Merge(IsoNode into, IsoNode from, string where)
    {
        foreach (var c in from.Children!)
        {
            var existing = into.Children!.Find(e => e.Name == c.Name);
            if (existing is null) Attach(into, c);
            else if (existing.IsDirectory && c.IsDirectory) Merge(existing, c, existing.TreePath);
            else throw new BadArgumentException($"Name clash: two sources map to '{(where == "/" ? "" : where)}/{c.Name}'.");
        }
    }

    private IsoNode Synthetic(string name) => new()
    {
        Name = name, Kind = IsoNodeKind.Directory, Children = [], Mode = 0x41ED,
        ModifiedSeconds = _now, AccessedSeconds = _now, ChangedSeconds = _now,
    };

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

    /// <summary>A node for a host path (a directory with its whole subtree), hard links inside it linked.</summary>
    private IsoNode Make(string name, string hostPath, HostStat stat)
    {
        var node = MakeNode(name, hostPath, stat);
        if (node.IsDirectory) ScanSubtree(node);
        LinkHardLinks(node);
        return node;
    }

    /// <summary>A node for a host path, without its children.</summary>
    private IsoNode MakeNode(string name, string hostPath, HostStat stat)
    {
        var kind = (stat.Mode & 0xF000) switch
        {
            0x4000 => IsoNodeKind.Directory,
            0x8000 => IsoNodeKind.File,
            0xA000 => IsoNodeKind.Symlink,
            _ => IsoNodeKind.Special,
        };
        var node = new IsoNode
        {
            Name = name, Kind = kind, HostPath = hostPath, Size = kind == IsoNodeKind.File ? stat.Size : 0,
            ModifiedSeconds = Clamp(stat.ModifiedSeconds),
            // Reading a file changes its access time, a chmod its change time: reproducible images record the modification time for both.
            AccessedSeconds = _options.SourceDateEpoch is null ? stat.AccessedSeconds : Clamp(stat.ModifiedSeconds),
            ChangedSeconds = _options.SourceDateEpoch is null ? stat.ChangedSeconds : Clamp(stat.ModifiedSeconds),
            Mode = stat.Mode, Uid = stat.Uid, Gid = stat.Gid, DeviceNumber = stat.DeviceNumber,
            HostId = (stat.Device, stat.Inode),
            LinkTarget = kind == IsoNodeKind.Symlink ? new FileInfo(hostPath).LinkTarget ?? "" : null,
        };
        if (kind == IsoNodeKind.File && stat.Links > 1 && stat.Inode != 0) node.Links = stat.Links;
        return node;
    }

    /// <summary>
    /// Scans a directory's subtree level by level, the directories of one level in parallel (the scan is mostly
    /// readdir and statx calls, which overlap well), then links hard-linked files in depth-first tree order, so the
    /// tree is the same whatever order the threads ran in.
    /// </summary>
    private void ScanSubtree(IsoNode top)
    {
        var level = new List<IsoNode> { top };
        var options = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(2, Environment.ProcessorCount) };
        while (level.Count > 0)
        {
            if (level.Count == 1) ScanLevelDirectory(level[0]);
            else
            {
                try
                {
                    Parallel.ForEach(level, options, ScanLevelDirectory);
                }
                catch (AggregateException e)
                {
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.Flatten().InnerExceptions[0]);
                }
            }
            var next = new List<IsoNode>();
            foreach (var d in level)
                foreach (var c in d.Children!)
                    if (c.IsDirectory) next.Add(c);
            level = next;
        }
    }

    private void ScanLevelDirectory(IsoNode dir)
    {
        dir.Children = ScanChildren(dir.HostPath!);
        foreach (var c in dir.Children) c.Parent = dir;
    }

    /// <summary>Files with several host links (marked by a <see cref="IsoNode.Links"/> above 1): later ones share the first one's content.</summary>
    private void LinkHardLinks(IsoNode node)
    {
        if (node.Kind == IsoNodeKind.File && node.Links > 1)
        {
            node.Links = 1;
            if (_inodes.TryGetValue(node.HostId, out var first)) node.SameContentAs = first;
            else _inodes[node.HostId] = node;
        }
        if (node.Children is null) return;
        foreach (var c in node.Children) LinkHardLinks(c);
    }

    private List<IsoNode> ScanChildren(string dir)
    {
        var names = new FileSystemEnumerable<string>(dir, static (ref System.IO.Enumeration.FileSystemEntry e) => e.FileName.ToString(),
            new EnumerationOptions { AttributesToSkip = 0, IgnoreInaccessible = false, RecurseSubdirectories = false, ReturnSpecialDirectories = false });
        var list = new List<IsoNode>();
        foreach (string name in names)
        {
            string path = Path.Join(dir, name);
            if (!_exclude.IsEmpty && _exclude.Matches(name, path)) continue;
            var stat = StatOf(path) ?? throw new ImageAccessException($"Cannot read the attributes of '{path}'.", path);
            var child = MakeNode(name, path, stat);
            if (!_hidden.IsEmpty && _hidden.Matches(name, path)) child.Hidden = true;
            list.Add(child);
        }
        return list;
    }
}
