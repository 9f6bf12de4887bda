using static Discemu.FileSystems.Iso9660.IsoConstants;

namespace Discemu.FileSystems.Iso9660;

internal sealed partial class IsoFileSystem
{
    private const int ReadChunk = 64 << 10;
    private const uint ModeTypeMask = 0xF000, ModeDirectory = 0x4000, ModeRegular = 0x8000, ModeSymlink = 0xA000;

    /// <summary>Reads a directory's records into entries: multi-extent files joined, Rock Ridge applied.</summary>
    private List<FileSystemEntry> ReadDirectory(IsoEntry dir)
    {
        var (offset, length) = dir.Extents[0];
        CheckExtent(offset, length, dir.Name);
        if (length > MaxDirectoryBytes)
            throw new CorruptImageException($"Directory '{dir.Name}' claims {length} bytes (at most {MaxDirectoryBytes} are accepted).", DisplayPath);
        if (dir.Ancestors is { } up)
        {
            if (up.Overlaps(offset, length))
                throw new CorruptImageException($"Directory '{dir.Name}' (block {offset / _blockSize}) loops back onto a directory above it.", DisplayPath);
            if (up.Depth >= MaxPathDepth)
                throw new CorruptImageException($"The directory tree is deeper than {MaxPathDepth} levels.", DisplayPath);
        }
        var chain = new DirectoryChain(offset, length, dir.Ancestors);
        var entries = new List<FileSystemEntry>();
        var group = new List<IsoDirectoryRecord>();
        var buffer = new byte[(int)Math.Min(ReadChunk, Math.Max(length, 1))];
        long end = offset + length;
        for (long chunkStart = offset; chunkStart < end;)
        {
            int chunk = (int)Math.Min(buffer.Length, end - chunkStart);
            _device.Read(chunkStart, buffer.AsSpan(0, chunk));
            // Records never cross a logical sector (ECMA-119 6.8.1.1); sectors are aligned on the volume.
            for (long pos = chunkStart; pos < chunkStart + chunk;)
            {
                long sectorEnd = Math.Min(chunkStart + chunk, (pos / SectorSize + 1) * SectorSize);
                var sector = buffer.AsSpan((int)(pos - chunkStart), (int)(sectorEnd - pos));
                int p = 0;
                while (p < sector.Length && IsoDirectoryRecord.Read(sector[p..], DisplayPath) is { } rec)
                {
                    p += rec.RecordLength;
                    if (rec.IsSelf || rec.IsParent) continue;
                    group.Add(rec);
                    if (rec.IsMultiExtent)
                    {
                        if (group.Count > MaxFileExtents) throw new CorruptImageException($"A file in '{dir.Name}' has more than {MaxFileExtents} extents.", DisplayPath);
                        continue;
                    }
                    if (MakeEntry(group, chain) is { } entry) entries.Add(entry);
                    group.Clear();
                }
                pos = sectorEnd;
            }
            chunkStart += chunk;
        }
        if (group.Count > 0) throw new CorruptImageException($"A multi-extent file in '{dir.Name}' has no final extent.", DisplayPath);
        return entries;
    }

    /// <summary>One entry from its records (several for a multi-extent file); null for records not listed.</summary>
    private IsoEntry? MakeEntry(List<IsoDirectoryRecord> records, DirectoryChain chain)
    {
        var first = records[0];
        for (int i = 1; i < records.Count; i++)
            if (!records[i].Identifier.AsSpan().SequenceEqual(first.Identifier) || records[i].IsDirectory)
                throw new CorruptImageException("The extents of a multi-extent file disagree on its name or type.", DisplayPath);
        if (first.IsAssociated) return null; // associated files (resource forks) are not listed, as on Linux
        RockRidgeInfo? rr = Names == IsoNames.RockRidge
            ? RockRidgeInfo.Parse(Susp.ReadAll(first.SystemUse, _suspSkip, _blockSize, _device.Length, (o, n) => ReadArea(_device, o, n), DisplayPath))
            : null;
        if (rr is { Relocated: true }) return null; // RE: listed where its CL placeholder is

        string name = rr?.Name is { } rrName && rrName is not ("." or "..") ? rrName : IsoName(first.Identifier);
        bool directory = first.IsDirectory || rr?.ChildLink is not null;
        if (directory && records.Count > 1) throw new CorruptImageException($"Directory '{name}' is recorded as a multi-extent file.", DisplayPath);

        var extents = new (long Offset, long Length)[records.Count];
        long size = 0;
        string? unsupported = null;
        if (rr?.ChildLink is { } cl)
        {
            extents[0] = RelocatedDirectory(cl, name);
            size = extents[0].Length;
        }
        else
        {
            for (int i = 0; i < records.Count; i++)
            {
                var r = records[i];
                extents[i] = (((long)r.Extent + r.ExtendedAttributeLength) * _blockSize, r.DataLength);
                size = checked(size + r.DataLength);
                if (r.FileUnitSize != 0 || r.InterleaveGap != 0) unsupported = "interleaved recording (file unit size and gap)";
            }
        }

        var kind = directory ? FileSystemEntryKind.Directory
            : (rr?.Mode & ModeTypeMask) switch
            {
                ModeSymlink => FileSystemEntryKind.Symlink,
                null or 0 or ModeRegular => rr?.SymlinkTarget is not null ? FileSystemEntryKind.Symlink : FileSystemEntryKind.File,
                ModeDirectory => FileSystemEntryKind.File, // a directory mode on a file record: the record decides
                _ => FileSystemEntryKind.Other,
            };
        ZisofsInfo? zf = kind == FileSystemEntryKind.File ? rr?.Zisofs : null;
        if (zf is { } z)
        {
            if (records.Count > 1) unsupported = "zisofs compression of a multi-extent file";
            else size = z.UncompressedSize;
        }
        if (rr is { Sparse: true }) unsupported = "a Rock Ridge sparse file (SF)";
        if (kind == FileSystemEntryKind.Symlink) size = rr?.SymlinkTarget?.Length ?? 0;

        return new IsoEntry
        {
            Owner = this,
            Name = name,
            Kind = kind,
            Size = size,
            Extents = extents,
            Ancestors = directory ? chain : null,
            Zisofs = zf,
            Unsupported = unsupported,
            Identity = directory ? ('d', extents[0].Offset) : size > 0 && kind == FileSystemEntryKind.File ? ('f', extents[0].Offset) : null,
            Modified = rr?.Modified ?? first.Recorded,
            Accessed = rr?.Accessed,
            Created = rr?.Created,
            Changed = rr?.Changed,
            Mode = rr?.Mode,
            Uid = rr?.Uid,
            Gid = rr?.Gid,
            Links = rr?.Links,
            Inode = rr?.Inode,
            DeviceNumber = kind == FileSystemEntryKind.Other ? rr?.DeviceNumber : null,
            SymlinkTarget = kind == FileSystemEntryKind.Symlink ? rr?.SymlinkTarget ?? "" : null,
            Attributes = first.IsHidden ? FileAttributes.Hidden : FileAttributes.Normal,
        };
    }

    /// <summary>The extent of a directory relocated by Rock Ridge (CL): read from the "." record at the CL block.</summary>
    private (long Offset, long Length) RelocatedDirectory(uint block, string name)
    {
        long offset = (long)block * _blockSize;
        CheckExtent(offset, DirectoryRecordMinLength, name);
        var sector = new byte[(int)Math.Min(SectorSize, _device.Length - offset)];
        _device.Read(offset, sector);
        var self = IsoDirectoryRecord.Read(sector, DisplayPath);
        if (self is not { IsSelf: true, IsDirectory: true } s)
            throw new CorruptImageException($"Rock Ridge child link of '{name}' (block {block}) does not point at a directory.", DisplayPath);
        return (((long)s.Extent + s.ExtendedAttributeLength) * _blockSize, s.DataLength);
    }

    /// <summary>The record's identifier as a name in the tree's name set.</summary>
    private string IsoName(byte[] identifier)
    {
        string name = _tree.Kind switch
        {
            IsoTreeKind.Joliet => IsoText.StripVersion(IsoText.Ucs2(identifier), stripDot: false),
            IsoTreeKind.Enhanced => IsoText.StripVersion(IsoText.Bytes(identifier), stripDot: false),
            _ => IsoText.StripVersion(IsoText.Bytes(identifier), stripDot: true),
        };
        return name.Length > 0 ? name : "_" + Convert.ToHexString(identifier);
    }
}
