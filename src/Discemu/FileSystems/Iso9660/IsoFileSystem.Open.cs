using Discemu.Block;
using static Discemu.FileSystems.Iso9660.IsoConstants;

namespace Discemu.FileSystems.Iso9660;

internal sealed partial class IsoFileSystem
{
    // The ER identifiers of Rock Ridge (RRIP 1.10 / 1.12 and the IEEE P1282 drafts).
    private static readonly string[] RockRidgeIds = ["RRIP_1991A", "IEEE_P1282", "IEEE_1282"];

    /// <summary>What <see cref="Open"/> decided, handed to the constructor.</summary>
    private sealed record IsoSetup(IsoVolumeDescriptor Primary, IsoVolumeDescriptor Tree, IsoNames Names, int SuspSkip,
        IReadOnlyList<IsoSession> Sessions, IsoSession Session, IReadOnlyList<IsoVolumeDescriptor> Descriptors,
        List<BootEntry>? Boot, uint? BootCatalog, string? BootError, bool RockRidgeAvailable);

    /// <summary>Opens the file system on <paramref name="device"/>.</summary>
    /// <exception cref="CorruptImageException">The volume descriptors or root directory are damaged.</exception>
    /// <exception cref="BadArgumentException">No such session, or the requested names are not recorded.</exception>
    public static IsoFileSystem Open(BlockDevice device, FileSystemOpenOptions options)
    {
        string? path = DisplayPathOf(device, options);
        if (device.Length < (VolumeDescriptorStart + 1) * (long)SectorSize)
            throw new CorruptImageException($"The image ({device.Length} bytes) is too small for ISO 9660.", path);
        var sessions = IsoSessions.Find(device, path);
        int index = options.Session ?? sessions.Count;
        if (index < 1 || index > sessions.Count)
            throw new BadArgumentException($"Session {index} does not exist: the image has {sessions.Count} session{(sessions.Count == 1 ? "" : "s")}.", path);
        var session = sessions[index - 1];

        var (descriptors, bootCatalog) = ReadDescriptorSet(device, session.StartBlock + VolumeDescriptorStart, path);
        if (!descriptors.Any(d => d.Kind == IsoTreeKind.Primary)) throw new CorruptImageException("The volume descriptor set has no primary volume descriptor.", path);
        var primary = descriptors.First(d => d.Kind == IsoTreeKind.Primary);
        IsoVolumeDescriptor? joliet = descriptors.Where(d => d.Kind == IsoTreeKind.Joliet).OrderByDescending(d => d.JolietLevel).Cast<IsoVolumeDescriptor?>().FirstOrDefault();
        IsoVolumeDescriptor? enhanced = descriptors.Where(d => d.Kind == IsoTreeKind.Enhanced).Cast<IsoVolumeDescriptor?>().FirstOrDefault();

        // Rock Ridge lives in the primary tree (or, rarely, in the ISO 9660:1999 one).
        IsoVolumeDescriptor? rrTree = null;
        int skip = 0;
        foreach (var candidate in new[] { primary, enhanced })
        {
            if (candidate is not { } c) continue;
            var found = DetectRockRidge(device, c, path);
            if (found is not null) { rrTree = c; skip = found.Value; break; }
        }

        string? wanted = options.Names?.ToLowerInvariant();
        (IsoVolumeDescriptor tree, IsoNames names) = wanted switch
        {
            null or "auto" => rrTree is { } r ? (r, IsoNames.RockRidge)
                : joliet is { } j ? (j, IsoNames.Joliet)
                : (enhanced ?? primary, IsoNames.Iso),
            "rr" or "rockridge" => rrTree is { } r ? (r, IsoNames.RockRidge) : throw new BadArgumentException("The image has no Rock Ridge names.", path),
            "joliet" => joliet is { } j ? (j, IsoNames.Joliet) : throw new BadArgumentException("The image has no Joliet names.", path),
            "iso" or "iso9660" => (enhanced ?? primary, IsoNames.Iso),
            _ => throw new BadArgumentException($"Unknown name set '{options.Names}': expected iso, joliet or rr.", path),
        };

        List<BootEntry>? boot = null;
        string? bootError = null;
        if (bootCatalog is { } cat)
        {
            try { boot = ElTorito.Read(device, cat, path); }
            catch (CorruptImageException e) { bootError = e.Message; }
        }
        var setup = new IsoSetup(primary, tree, names, names == IsoNames.RockRidge ? skip : 0, sessions, session, descriptors,
            boot, bootCatalog, bootError, rrTree is not null);
        return new IsoFileSystem(device, path, setup);
    }

    /// <summary>The primary, Joliet and enhanced descriptors of the set at <paramref name="block"/>, and the El Torito catalog's sector.</summary>
    private static (List<IsoVolumeDescriptor>, uint?) ReadDescriptorSet(BlockDevice device, long block, string? path)
    {
        var list = new List<IsoVolumeDescriptor>();
        uint? catalog = null;
        var sector = new byte[SectorSize];
        for (int i = 0; i < MaxVolumeDescriptors; i++)
        {
            long offset = (block + i) * SectorSize;
            if (offset + SectorSize > device.Length) break;
            device.Read(offset, sector);
            if (!IsoVolumeDescriptor.HasHeader(sector))
            {
                if (i == 0) throw new CorruptImageException($"No ISO 9660 volume descriptor at block {block}.", path);
                break; // a set without its terminator: keep what was read
            }
            if (sector[0] == VdTerminator) break;
            if (sector[0] == VdBootRecord) catalog ??= IsoVolumeDescriptor.ReadElToritoCatalog(sector);
            else if (sector[0] is VdPrimary or VdSupplementary && IsoVolumeDescriptor.Read(sector, path) is { } vd)
            {
                if (vd.Kind != IsoTreeKind.Primary || !list.Any(d => d.Kind == IsoTreeKind.Primary)) list.Add(vd);
            }
        }
        return (list, catalog);
    }

    /// <summary>The SP skip length when the tree's root "." record carries SUSP with Rock Ridge entries, else null.</summary>
    private static int? DetectRockRidge(BlockDevice device, IsoVolumeDescriptor vd, string? path)
    {
        long offset = ((long)vd.Root.Extent + vd.Root.ExtendedAttributeLength) * vd.LogicalBlockSize;
        if (offset + DirectoryRecordMinLength > device.Length) return null;
        var sector = new byte[(int)Math.Min(SectorSize, device.Length - offset)];
        device.Read(offset, sector);
        IsoDirectoryRecord? self;
        try { self = IsoDirectoryRecord.Read(sector, path); }
        catch (CorruptImageException) { return null; }
        if (self is not { IsSelf: true } s || Susp.ReadSp(s.SystemUse) is not { } skip) return null;
        List<SuspEntry> entries;
        try { entries = Susp.ReadAll(s.SystemUse, 0, vd.LogicalBlockSize, device.Length, (o, n) => ReadArea(device, o, n), path); }
        catch (CorruptImageException) { return null; }
        bool extension = entries.Any(e => e.Signature == "ER" && ExtensionId(e.Data) is { } id && RockRidgeIds.Contains(id));
        return extension || RockRidgeInfo.Parse(entries).Any ? skip : null;
    }

    /// <summary>The identifier of an ER entry (SUSP 5.5), or null when malformed.</summary>
    private static string? ExtensionId(byte[] data)
    {
        if (data.Length < 4 || 4 + data[0] > data.Length) return null;
        return IsoText.Bytes(data.AsSpan(4, data[0]));
    }

    private static byte[] ReadArea(BlockDevice device, long offset, int length)
    {
        var area = new byte[length];
        device.Read(offset, area);
        return area;
    }

    /// <summary>The root directory entry, with the attributes its "." record carries.</summary>
    private IsoEntry MakeRoot()
    {
        var rec = _tree.Root;
        long offset = ((long)rec.Extent + rec.ExtendedAttributeLength) * _blockSize;
        CheckExtent(offset, rec.DataLength, "/");
        RockRidgeInfo? rr = null;
        DateTimeOffset? recorded = rec.Recorded;
        if (Names == IsoNames.RockRidge && rec.DataLength >= DirectoryRecordMinLength)
        {
            var sector = new byte[(int)Math.Min(SectorSize, rec.DataLength)];
            _device.Read(offset, sector);
            if (IsoDirectoryRecord.Read(sector, DisplayPath) is { IsSelf: true } self)
            {
                rr = RockRidgeInfo.Parse(Susp.ReadAll(self.SystemUse, 0, _blockSize, _device.Length, (o, n) => ReadArea(_device, o, n), DisplayPath));
                recorded = self.Recorded ?? recorded;
            }
        }
        return new IsoEntry
        {
            Owner = this,
            Name = "",
            Kind = FileSystemEntryKind.Directory,
            Size = rec.DataLength,
            Extents = [(offset, rec.DataLength)],
            Identity = ('d', offset),
            Modified = rr?.Modified ?? recorded,
            Accessed = rr?.Accessed,
            Created = rr?.Created,
            Changed = rr?.Changed,
            Mode = rr?.Mode,
            Uid = rr?.Uid,
            Gid = rr?.Gid,
            Links = rr?.Links,
            Inode = rr?.Inode,
        };
    }
}
