using static Discemu.FileSystems.Iso9660.IsoConstants;

namespace Discemu.FileSystems.Iso9660.Authoring;

/// <summary>
/// The planned image, in writing order: system area (blocks 0–15), volume descriptors from block 16 (primary,
/// El Torito boot record, Joliet, terminator), the ISO 9660 and Joliet path tables (L then M), each ISO 9660
/// directory followed by its Rock Ridge continuation areas, the Joliet directories, the boot catalog, then the
/// file contents in tree order, each from a block boundary. Every size is exact before a byte is written.
/// The planner keeps per-directory summaries only (sizes, subtree counts of blocks and serial numbers); a file's
/// extent and serial number are computed again from them whenever its directory is read back (<see cref="LaidOut"/>).
/// </summary>
internal sealed partial class IsoLayout
{
    public required IsoTree Tree { get; init; }
    public required IsoAuthorOptions Options { get; init; }

    public IsoNode Root => Tree.Root;

    /// <summary>Directories in path table order (level, then parent number, then name) for each tree.</summary>
    public List<IsoNode> IsoDirs { get; } = [];
    public List<IsoNode> JolietDirs { get; } = [];

    /// <summary>Files with content of their own (not hard links to an earlier file).</summary>
    public int FileCount { get; private set; }

    /// <summary>The first block of the file contents.</summary>
    public uint FilesStart { get; private set; }

    public uint BootRecordBlock { get; private set; }
    public uint JolietDescriptorBlock { get; private set; }
    public uint TerminatorBlock { get; private set; }
    public uint PathTableL { get; private set; }
    public uint PathTableM { get; private set; }
    public uint JolietPathTableL { get; private set; }
    public uint JolietPathTableM { get; private set; }
    public uint PathTableBytes { get; private set; }
    public uint JolietPathTableBytes { get; private set; }
    public uint BootCatalogBlock { get; private set; }
    public IsoNode? BootCatalog { get; set; }

    /// <summary>Blocks of the whole ISO 9660 volume.</summary>
    public uint VolumeBlocks { get; private set; }

    public bool HasBoot => Options.BootEntries.Count > 0;

    /// <summary>Assigns names, numbers and every block.</summary>
    /// <exception cref="UnsupportedFeatureException">More than 65 535 directories, a volume over 8 TiB, or Rock Ridge data too large for a record.</exception>
    /// <exception cref="BadArgumentException">A file of 4 GiB or more below level 3.</exception>
    public void Plan()
    {
        NameAndNumber();
        ulong next = VolumeDescriptorStart + 1u;
        if (HasBoot) BootRecordBlock = (uint)next++;
        if (Options.Joliet) JolietDescriptorBlock = (uint)next++;
        TerminatorBlock = (uint)next++;

        PathTableBytes = PathTableSize(IsoDirs, joliet: false);
        PathTableL = (uint)next; next += Blocks(PathTableBytes);
        PathTableM = (uint)next; next += Blocks(PathTableBytes);
        if (Options.Joliet)
        {
            JolietPathTableBytes = PathTableSize(JolietDirs, joliet: true);
            JolietPathTableL = (uint)next; next += Blocks(JolietPathTableBytes);
            JolietPathTableM = (uint)next; next += Blocks(JolietPathTableBytes);
        }

        foreach (var dir in IsoDirs)
        {
            dir.Extent = Block(next);
            next += dir.IsoDirBytes / SectorSize + dir.Dir!.CeBlocks;
        }
        if (Options.Joliet)
            foreach (var dir in JolietDirs)
            {
                dir.JolietExtent = Block(next);
                next += dir.JolietDirBytes / SectorSize;
            }
        if (HasBoot)
        {
            BootCatalogBlock = Block(next);
            next += (ulong)Blocks(IsoElToritoWriter.CatalogBytes(Options.BootEntries));
            if (BootCatalog is not null) BootCatalog.Extent = BootCatalogBlock;
        }
        FilesStart = Block(next);
        next += Root.Dir!.SubtreeBlocks;
        if (Options.IsoHybridMbr is not null || Options.Gpt) next = (next + IsoHybridWriter.MiBBlocks - 1) / IsoHybridWriter.MiBBlocks * IsoHybridWriter.MiBBlocks;
        VolumeBlocks = Block(next);
        PlaceLinkGroups();
    }

    private static uint Blocks(uint bytes) => (bytes + SectorSize - 1) / SectorSize;

    private static uint Block(ulong block)
        => block <= uint.MaxValue ? (uint)block : throw new UnsupportedFeatureException("The image would exceed 2^32 blocks (8 TiB).");

    /// <summary>
    /// Names every entry, numbers directories in path table order, sizes each directory (records, continuation
    /// areas, Joliet records) and sums its own files' blocks and serial numbers, reading each directory once; then
    /// the subtree sums (bottom up) and each directory's first serial number and content block (top down), as a
    /// depth-first walk in ISO 9660 record order numbers and places them.
    /// </summary>
    private void NameAndNumber()
    {
        Root.Name = "";
        var queue = new Queue<IsoNode>();
        var subdirs = new List<IsoNode>(); // one directory's, then kept as an array (none: the shared empty one)
        queue.Enqueue(Root);
        while (queue.Count > 0)
        {
            var dir = queue.Dequeue();
            IsoDirs.Add(dir);
            if (IsoDirs.Count > ushort.MaxValue) throw new UnsupportedFeatureException("More than 65 535 directories do not fit a path table.");
            dir.DirNumber = (ushort)IsoDirs.Count;
            var listing = Named(dir, Options.Joliet);
            var children = listing.Entries;
            var state = dir.Dir!;
            subdirs.Clear();
            ulong blocks = 0;
            uint inodes = 0;
            foreach (int i in listing.Iso)
            {
                ref var c = ref children[i];
                if (c.IsDirectory)
                {
                    var sub = c.Node!;
                    sub.IsoName = children.IsoName(i); // the path tables name directories from their nodes
                    if (listing.Joliet is not null) sub.JolietName = new string(children.Text(c.JolietName));
                    sub.Dir!.BlocksBefore = blocks;
                    sub.Dir.InodesBefore = inodes;
                    subdirs.Add(sub);
                    queue.Enqueue(sub);
                    continue;
                }
                if (c.SharesContent) continue;
                inodes++;
                if (c.LinkGroup is not null) state.HasLinkFirst = true;
                if (c.Kind != IsoNodeKind.File) continue;
                if (c.Size >= 1L << 32 && Options.Level < 3)
                    throw new BadArgumentException($"'{children.TreePath(i)}' is {c.Size} bytes: files of 4 GiB and more need -iso-level 3 (multi-extent).", children.HostPath(i));
                FileCount++;
                blocks += (ulong)((c.Size + SectorSize - 1) / SectorSize);
            }
            (state.OwnBlocks, state.OwnInodes) = (blocks, inodes);
            state.IsoSubdirs = [.. subdirs];
            dir.Links = 2 + (uint)subdirs.Count;
            SizeIsoDirectory(dir, listing);
            if (listing.Joliet is { } joliet)
            {
                dir.JolietDirBytes = DirectoryBytes(JolietRecordLengths(children, joliet));
                subdirs.Clear();
                foreach (int i in joliet) if (children[i].IsDirectory) subdirs.Add(children[i].Node!);
                state.JolietSubdirs = [.. subdirs];
            }
        }
        if (Options.Joliet)
        {
            queue.Enqueue(Root);
            while (queue.Count > 0)
            {
                var dir = queue.Dequeue();
                JolietDirs.Add(dir);
                dir.JolietDirNumber = (ushort)JolietDirs.Count;
                foreach (var c in dir.Dir!.JolietSubdirs) queue.Enqueue(c);
            }
        }
        // Subtree sums, children before parents (reverse path table order).
        for (int i = IsoDirs.Count - 1; i >= 0; i--)
        {
            var s = IsoDirs[i].Dir!;
            ulong blocks = s.OwnBlocks;
            uint inodes = 1 + s.OwnInodes;
            foreach (var c in s.IsoSubdirs)
            {
                blocks += c.Dir!.SubtreeBlocks;
                inodes += c.Dir.SubtreeInodes;
            }
            (s.SubtreeBlocks, s.SubtreeInodes) = (blocks, inodes);
        }
        // Serial numbers and content starts, parents before children.
        Root.Inode = 1;
        Root.Dir!.ContentStart = 0;
        foreach (var dir in IsoDirs)
        {
            ulong blocksBefore = 0;
            uint inodesBefore = 0;
            foreach (var c in dir.Dir!.IsoSubdirs)
            {
                var s = c.Dir!;
                s.ContentStart = dir.Dir.ContentStart + s.BlocksBefore + blocksBefore;
                c.Inode = dir.Inode + s.InodesBefore + inodesBefore + 1;
                blocksBefore += s.SubtreeBlocks;
                inodesBefore += s.SubtreeInodes;
            }
        }
    }

    /// <summary>
    /// The entries of <paramref name="dir"/>, named, with their ISO 9660 record order and (with Joliet) their Joliet
    /// record order.
    /// </summary>
    private IsoListing Named(IsoNode dir, bool withJoliet)
    {
        var children = Tree.Children(dir);
        IsoNaming.NameChildren(children, Options.Level, withJoliet, Options.JolietLong);
        return new IsoListing(children, IsoNaming.IsoOrder(children), withJoliet ? IsoNaming.JolietOrder(children) : null);
    }

    /// <summary>
    /// The entries of <paramref name="dir"/> in record order with their serial numbers, link counts and (once
    /// <see cref="Plan"/> has placed the directories) content extents; with Joliet names and order when
    /// <paramref name="withJoliet"/> (else the entries' <see cref="IsoEntry.JolietName"/> stay empty).
    /// </summary>
    public IsoListing LaidOut(IsoNode dir, bool withJoliet)
    {
        var listing = Named(dir, withJoliet);
        var children = listing.Entries;
        ulong pos = FilesStart + dir.Dir!.ContentStart;
        uint inode = dir.Inode;
        foreach (int i in listing.Iso)
        {
            ref var c = ref children[i];
            if (c.IsDirectory)
            {
                var sub = c.Node!;
                (c.Extent, c.Inode, c.Links) = (sub.Extent, sub.Inode, sub.Links);
                pos += sub.Dir!.SubtreeBlocks;
                inode += sub.Dir.SubtreeInodes;
                continue;
            }
            c.Links = 1;
            if (c.LinkGroup is { } g)
            {
                c.Links = g.Links;
                if (!c.LinkFirst)
                {
                    (c.Extent, c.Inode) = (g.Extent, g.Inode);
                    continue;
                }
            }
            c.Inode = ++inode;
            if (c.Kind == IsoNodeKind.BootCatalog) c.Extent = c.Node!.Extent;
            if (c.Kind != IsoNodeKind.File) continue;
            c.Extent = unchecked((uint)pos);
            pos += (ulong)((c.Size + SectorSize - 1) / SectorSize);
        }
        return listing;
    }

    /// <summary>Hard links: the first file's extent and serial number, for the others to share.</summary>
    private void PlaceLinkGroups()
    {
        foreach (var dir in IsoDirs)
        {
            if (!dir.Dir!.HasLinkFirst) continue;
            var children = LaidOut(dir, withJoliet: false).Entries;
            for (int i = 0; i < children.Count; i++)
            {
                ref var c = ref children[i];
                if (c.LinkGroup is { } g && c.LinkFirst) (g.Extent, g.Inode) = (c.Extent, c.Inode);
            }
        }
    }

    /// <summary>The entry at <paramref name="path"/> in the tree, laid out (see <see cref="IsoEntries.ToNode"/>); null when there is none.</summary>
    public IsoNode? Find(string path)
    {
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var node = Root;
        for (int i = 0; i < parts.Length - 1; i++)
        {
            if (Tree.FindDirectory(node, parts[i]) is not { } next) return null;
            node = next;
        }
        if (parts.Length == 0) return node;
        var children = LaidOut(node, withJoliet: false).Entries;
        int k = children.IndexOf(parts[^1]);
        return k < 0 ? null : children.ToNode(k);
    }

    private static uint PathTableSize(List<IsoNode> dirs, bool joliet)
    {
        long total = 0;
        foreach (var d in dirs)
            total += IsoRecords.PathRecordLength(d.Parent is null ? 1 : joliet ? d.JolietName.Length * 2 : d.IsoName.Length);
        return total <= uint.MaxValue ? (uint)total : throw new UnsupportedFeatureException("The path table is too large.");
    }

    /// <summary>Bytes of a directory of records of the given lengths: records never cross a block; whole blocks.</summary>
    public static uint DirectoryBytes(IEnumerable<int> recordLengths)
    {
        long pos = 0;
        foreach (int len in recordLengths) pos = AddRecord(pos, len);
        return WholeBlocks(pos);
    }

    /// <summary>The end of a record of <paramref name="length"/> bytes placed at <paramref name="pos"/> (or at the next block when it would cross one).</summary>
    private static long AddRecord(long pos, int length)
    {
        if (pos % SectorSize + length > SectorSize) pos = (pos / SectorSize + 1) * SectorSize;
        return pos + length;
    }

    /// <summary>Whole blocks of a directory whose records end at <paramref name="pos"/>, in bytes.</summary>
    private static uint WholeBlocks(long pos)
    {
        long bytes = (pos + SectorSize - 1) / SectorSize * SectorSize;
        return bytes <= MaxDirectoryBytes ? (uint)bytes : throw new UnsupportedFeatureException("A directory's records exceed 64 MiB.");
    }

    private static IEnumerable<int> JolietRecordLengths(IsoEntries children, int[] jolietOrder)
    {
        yield return IsoRecords.RecordLength(1, 0);
        yield return IsoRecords.RecordLength(1, 0);
        foreach (int i in jolietOrder)
        {
            int len = IsoRecords.RecordLength(children[i].JolietName.Length * 2, 0);
            for (int k = ExtentCount(children[i]); k > 0; k--) yield return len;
        }
    }

    /// <summary>Directory records an entry needs: one, or one per 4 GiB - 2 KiB piece of a large file.</summary>
    public static int ExtentCount(in IsoEntry e)
        => e.Kind == IsoNodeKind.File && e.Size > IsoRecords.MaxExtentBytes ? (int)((e.Size + IsoRecords.MaxExtentBytes - 1) / IsoRecords.MaxExtentBytes) : 1;
}

/// <summary>One directory's entries, named, with their ISO 9660 record order and (with Joliet) their Joliet record order (indices into <see cref="Entries"/>).</summary>
internal sealed record IsoListing(IsoEntries Entries, int[] Iso, int[]? Joliet);
