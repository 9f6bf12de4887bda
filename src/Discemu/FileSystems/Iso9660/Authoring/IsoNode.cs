namespace Discemu.FileSystems.Iso9660.Authoring;

/// <summary>What an <see cref="IsoNode"/> is.</summary>
internal enum IsoNodeKind : byte
{
    File,
    Directory,
    Symlink,
    /// <summary>A character or block device, FIFO or socket: recorded by Rock Ridge only, with no content.</summary>
    Special,
    /// <summary>The El Torito boot catalog, listed in the tree at <see cref="IsoAuthorOptions.BootCatalogPath"/>.</summary>
    BootCatalog,
}

/// <summary>
/// A directory of the tree to author, or an entry added in memory (a graft point's file, the boot catalog): its
/// attributes and where its content is on the host, never the content itself, plus the layout the planner assigns.
/// Directories stay in memory for the whole run; the other entries live in the <see cref="IsoSpill"/> file and are
/// read back one directory at a time as compact <see cref="IsoEntry"/> structs (see <see cref="IsoTree.Children"/>),
/// so memory does not grow with the number of files.
/// </summary>
internal sealed class IsoNode
{
    public required string Name { get; set; }
    public required IsoNodeKind Kind { get; init; }
    public IsoNode? Parent { get; set; }

    /// <summary>
    /// The host path (null for directories made up by graft points and for the boot catalog): given, or for a
    /// directory found by the scan its <see cref="ScanParent"/>'s joined with its name, made when asked (not kept).
    /// </summary>
    public string? HostPath
    {
        get => _hostPath ?? (ScanParent is { } p ? Path.Join(p.HostPath, Name) : null);
        init => _hostPath = value;
    }

    private readonly string? _hostPath;

    /// <summary>The directory the scan found this directory in (merges may give it another <see cref="Parent"/>).</summary>
    public IsoNode? ScanParent { get; init; }
    public long Size { get; set; }
    public long ModifiedSeconds { get; set; }
    public long AccessedSeconds { get; set; }
    public long ChangedSeconds { get; set; }
    public uint Mode { get; set; }
    public uint Uid { get; set; }
    public uint Gid { get; set; }
    public ulong DeviceNumber { get; init; }
    public string? LinkTarget { get; init; }
    public bool Hidden { get; set; }

    /// <summary>The host (device, inode) pair, to record hard links once.</summary>
    public (ulong Device, ulong Inode) HostId { get; init; }

    /// <summary>The hard-link group inside the tree this file belongs to (null: no other link in the tree matters).</summary>
    public IsoLinkGroup? LinkGroup { get; set; }

    /// <summary>True for the group's first file (the one with the content); false for the others, which share it.</summary>
    public bool LinkFirst { get; set; }

    /// <summary>A file sharing another one's content (a later hard link inside the tree).</summary>
    public bool SharesContent => LinkGroup is not null && !LinkFirst;

    // Layout, assigned by the planner.
    public string IsoName { get; set; } = "";
    public string JolietName { get; set; } = "";
    public uint Links { get; set; } = 1;
    public uint Inode { get; set; }

    /// <summary>Files: the first block of the content. Directories: the block of the ISO 9660 directory.</summary>
    public uint Extent { get; set; }

    /// <summary>Directories: the block of the Joliet directory.</summary>
    public uint JolietExtent { get; set; }

    /// <summary>Directories: bytes of the ISO 9660 and Joliet directories (whole blocks).</summary>
    public uint IsoDirBytes { get; set; }
    public uint JolietDirBytes { get; set; }

    /// <summary>Directories: the number in the ISO 9660 and Joliet path tables (1 = root).</summary>
    public ushort DirNumber { get; set; }
    public ushort JolietDirNumber { get; set; }

    /// <summary>Directories: the entries, as spilled runs of records plus entries added in memory (graft points, the boot catalog).</summary>
    public IsoDirectoryState? Dir { get; set; }

    public bool IsDirectory => Kind == IsoNodeKind.Directory;

    /// <summary>True when the node has content recorded in file extents.</summary>
    public bool HasContent => Kind is IsoNodeKind.File or IsoNodeKind.BootCatalog;

    /// <summary>The node's path in the tree ("/" for the root).</summary>
    public string TreePath
    {
        get
        {
            if (Parent is null) return "/";
            var parts = new List<string>();
            for (var n = this; n.Parent is not null; n = n.Parent) parts.Add(n.Name);
            parts.Reverse();
            return "/" + string.Join('/', parts);
        }
    }
}

/// <summary>Files hard-linked to each other inside the tree: one content extent, one serial number, the link count.</summary>
internal sealed class IsoLinkGroup
{
    /// <summary>Files of the group in the tree.</summary>
    public uint Links { get; set; } = 1;

    /// <summary>The first file's extent and serial number, assigned by the planner.</summary>
    public uint Extent { get; set; }
    public uint Inode { get; set; }
}

/// <summary>What a directory keeps in memory besides its own attributes.</summary>
internal sealed class IsoDirectoryState
{
    /// <summary>The directory's number in <see cref="IsoTree.Dirs"/> (spilled records refer to it).</summary>
    public int Id { get; set; }

    /// <summary>
    /// The entries in the order they were added (which breaks ties of the record order as before): runs of spilled
    /// records (<see cref="IsoSpill.Run"/>, one per scanned host directory, more after merges) and entries held in
    /// memory (<see cref="IsoNode"/>: graft points, single-file sources, the boot catalog).
    /// </summary>
    public List<object> Parts { get; } = new(1); // mostly one run

    /// <summary>Set when a graft point merged this directory into another one: its entry is left out of its parent.</summary>
    public IsoNode? MergedInto { get; set; }

    /// <summary>The position in the host scan (indices from the source's top), ordering hard links as a depth-first walk of the scan.</summary>
    public int[] ScanKey { get; set; } = [];

    // Planner summaries (the counts of the directory's own entries and of its whole subtree).
    /// <summary>Subdirectories in ISO 9660 and Joliet record order.</summary>
    public IsoNode[] IsoSubdirs { get; set; } = [];
    public IsoNode[] JolietSubdirs { get; set; } = [];

    /// <summary>Blocks of content and serial numbers of this directory's own files that come before it in its parent's record order.</summary>
    public ulong BlocksBefore { get; set; }
    public uint InodesBefore { get; set; }

    /// <summary>Blocks of content and serial numbers (the directory's own included) of the whole subtree.</summary>
    public ulong SubtreeBlocks { get; set; }
    public uint SubtreeInodes { get; set; }

    /// <summary>The subtree's first content block, from the start of the file area.</summary>
    public ulong ContentStart { get; set; }

    /// <summary>Own files and serial numbers (not in subdirectories).</summary>
    public ulong OwnBlocks { get; set; }
    public uint OwnInodes { get; set; }

    /// <summary>Blocks of Rock Ridge continuation areas after the directory's records.</summary>
    public uint CeBlocks { get; set; }

    /// <summary>True when a first file of a hard-link group is in this directory.</summary>
    public bool HasLinkFirst { get; set; }
}
