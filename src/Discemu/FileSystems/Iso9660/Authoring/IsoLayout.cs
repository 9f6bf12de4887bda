using static Discemu.FileSystems.Iso9660.IsoConstants;

namespace Discemu.FileSystems.Iso9660.Authoring;

/// <summary>
/// The planned image, in writing order: system area (blocks 0–15), volume descriptors from block 16 (primary,
/// El Torito boot record, Joliet, terminator), the ISO 9660 and Joliet path tables (L then M), each ISO 9660
/// directory followed by its Rock Ridge continuation areas, the Joliet directories, the boot catalog, then the
/// file contents in tree order, each from a block boundary. Every size is exact before a byte is written.
/// </summary>
internal sealed partial class IsoLayout
{
    public required IsoNode Root { get; init; }
    public required IsoAuthorOptions Options { get; init; }

    /// <summary>Directories in path table order (level, then parent number, then name) for each tree.</summary>
    public List<IsoNode> IsoDirs { get; } = [];
    public List<IsoNode> JolietDirs { get; } = [];

    /// <summary>Nodes with content of their own (not hard links to an earlier node), in content order.</summary>
    public List<IsoNode> Files { get; } = [];

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

        foreach (var dir in IsoDirs) next = PlanIsoDirectory(dir, next);
        if (Options.Joliet)
            foreach (var dir in JolietDirs)
            {
                dir.JolietExtent = Block(next);
                dir.JolietDirBytes = DirectoryBytes(JolietRecordLengths(dir));
                next += dir.JolietDirBytes / SectorSize;
            }
        if (HasBoot)
        {
            BootCatalogBlock = Block(next);
            next += (ulong)Blocks(IsoElToritoWriter.CatalogBytes(Options.BootEntries));
            if (BootCatalog is not null) BootCatalog.Extent = BootCatalogBlock;
        }
        foreach (var f in Files)
        {
            if (f.Size >= 1L << 32 && Options.Level < 3)
                throw new BadArgumentException($"'{f.TreePath}' is {f.Size} bytes: files of 4 GiB and more need -iso-level 3 (multi-extent).", f.HostPath);
            f.Extent = Block(next);
            next += (ulong)((f.Size + SectorSize - 1) / SectorSize);
        }
        if (Options.IsoHybridMbr is not null || Options.Gpt) next = (next + IsoHybridWriter.MiBBlocks - 1) / IsoHybridWriter.MiBBlocks * IsoHybridWriter.MiBBlocks;
        VolumeBlocks = Block(next);
        FixEmptyAndLinked();
    }

    private static uint Blocks(uint bytes) => (bytes + SectorSize - 1) / SectorSize;

    private static uint Block(ulong block)
        => block <= uint.MaxValue ? (uint)block : throw new UnsupportedFeatureException("The image would exceed 2^32 blocks (8 TiB).");

    /// <summary>Names every entry, numbers directories in path table order, collects contents, counts links and serial numbers.</summary>
    private void NameAndNumber()
    {
        Root.Name = "";
        var queue = new Queue<IsoNode>();
        queue.Enqueue(Root);
        while (queue.Count > 0)
        {
            var dir = queue.Dequeue();
            IsoDirs.Add(dir);
            if (IsoDirs.Count > ushort.MaxValue) throw new UnsupportedFeatureException("More than 65 535 directories do not fit a path table.");
            dir.DirNumber = (ushort)IsoDirs.Count;
            IsoNaming.NameChildren(dir, Options.Level, Options.Joliet, Options.JolietLong);
            foreach (var c in IsoNaming.IsoOrder(dir)) if (c.IsDirectory) queue.Enqueue(c);
        }
        if (Options.Joliet)
        {
            queue.Enqueue(Root);
            while (queue.Count > 0)
            {
                var dir = queue.Dequeue();
                JolietDirs.Add(dir);
                dir.JolietDirNumber = (ushort)JolietDirs.Count;
                foreach (var c in IsoNaming.JolietOrder(dir)) if (c.IsDirectory) queue.Enqueue(c);
            }
        }
        // Serial numbers, link counts and content order: depth first in ISO 9660 record order.
        uint inode = 0;
        var shared = new Dictionary<IsoNode, uint>();
        void Walk(IsoNode dir)
        {
            dir.Inode = ++inode;
            dir.Links = 2;
            foreach (var c in IsoNaming.IsoOrder(dir))
            {
                if (c.IsDirectory) { dir.Links++; Walk(c); continue; }
                if (c.SameContentAs is { } first) { shared[first] = shared.GetValueOrDefault(first, 1u) + 1; continue; }
                c.Inode = ++inode;
                if (c.Kind == IsoNodeKind.File) Files.Add(c);
            }
        }
        Walk(Root);
        foreach (var (first, links) in shared) first.Links = links;
    }

    /// <summary>Hard links get their first node's extent and link count.</summary>
    private void FixEmptyAndLinked()
    {
        void Walk(IsoNode dir)
        {
            foreach (var c in dir.Children!)
            {
                if (c.IsDirectory) Walk(c);
                else if (c.SameContentAs is { } first) { c.Extent = first.Extent; c.Links = first.Links; c.Inode = first.Inode; }
            }
        }
        Walk(Root);
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
        foreach (int len in recordLengths)
        {
            if (pos % SectorSize + len > SectorSize) pos = (pos / SectorSize + 1) * SectorSize;
            pos += len;
        }
        long bytes = (pos + SectorSize - 1) / SectorSize * SectorSize;
        return bytes <= MaxDirectoryBytes ? (uint)bytes : throw new UnsupportedFeatureException("A directory's records exceed 64 MiB.");
    }

    private IEnumerable<int> JolietRecordLengths(IsoNode dir)
    {
        yield return IsoRecords.RecordLength(1, 0);
        yield return IsoRecords.RecordLength(1, 0);
        foreach (var c in IsoNaming.JolietOrder(dir))
        {
            int len = IsoRecords.RecordLength(c.JolietName.Length * 2, 0);
            for (int i = 0; i < ExtentCount(c); i++) yield return len;
        }
    }

    /// <summary>Directory records a node needs: one, or one per 4 GiB - 2 KiB piece of a large file.</summary>
    public static int ExtentCount(IsoNode n)
        => n.Kind == IsoNodeKind.File && n.Size > IsoRecords.MaxExtentBytes ? (int)((n.Size + IsoRecords.MaxExtentBytes - 1) / IsoRecords.MaxExtentBytes) : 1;
}
