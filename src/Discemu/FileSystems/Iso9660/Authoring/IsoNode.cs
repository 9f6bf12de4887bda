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
/// One entry of the tree to author: its attributes and where its content is on the host, never the content
/// itself, plus the layout the planner assigns. Kept small: a tree of many thousands of files stays compact.
/// </summary>
internal sealed class IsoNode
{
    public required string Name { get; set; }
    public required IsoNodeKind Kind { get; init; }
    public IsoNode? Parent { get; set; }
    public string? HostPath { get; init; }
    public long Size { get; set; }
    public long ModifiedSeconds { get; set; }
    public long AccessedSeconds { get; set; }
    public long ChangedSeconds { get; set; }
    public uint Mode { get; set; }
    public uint Uid { get; set; }
    public uint Gid { get; set; }
    public ulong DeviceNumber { get; init; }
    public string? LinkTarget { get; init; }
    public List<IsoNode>? Children { get; set; }
    public bool Hidden { get; set; }

    /// <summary>The host (device, inode) pair, to record hard links once.</summary>
    public (ulong Device, ulong Inode) HostId { get; init; }

    /// <summary>Another node whose content this one shares (a hard link inside the tree).</summary>
    public IsoNode? SameContentAs { get; set; }

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

    /// <summary>The Rock Ridge continuation area of this node's record (and of a directory's "." record for the root): block, offset, length.</summary>
    public uint CeBlock { get; set; }
    public ushort CeOffset { get; set; }
    public ushort CeLength { get; set; }

    /// <summary>Directories: the children in ISO 9660 and Joliet record order, sorted once by the planner.</summary>
    public List<IsoNode>? IsoSorted { get; set; }
    public List<IsoNode>? JolietSorted { get; set; }

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
