using static Discemu.FileSystems.Fat.FatConstants;

namespace Discemu.FileSystems.Fat;

/// <summary>Directories: reading, parsing long names, and writing slots back.</summary>
internal sealed partial class FatFileSystem
{
    private readonly Dictionary<uint, DirData> _dirCache = [];
    private const int DirCacheLimit = 512;

    private bool IsFixedRoot(uint firstCluster) => firstCluster == 0 && _type != FatType.Fat32;

    /// <summary>Reads and parses the directory whose content starts at <paramref name="firstCluster"/> (0 = the fixed root).</summary>
    /// <exception cref="CorruptImageException">The chain is damaged or the directory is larger than FAT allows.</exception>
    private DirData ReadDir(uint firstCluster)
    {
        if (_dirCache.TryGetValue(firstCluster, out var cached)) return cached;
        DirData d;
        if (IsFixedRoot(firstCluster))
        {
            var bytes = new byte[_boot.RootEntryCount * DirEntrySize];
            FlushNewClusters();
            _device.Read(_rootOffset, bytes);
            d = new DirData { FirstCluster = 0, Clusters = [], Bytes = bytes, Length = bytes.Length };
        }
        else
        {
            if (firstCluster == 0) throw new CorruptImageException("A directory has no cluster.", DisplayPath);
            long limit = MaxDirectoryBytes / _clusterSize + 1;
            var chain = Chain(firstCluster, limit + 1);
            if (chain.Count > limit) throw new CorruptImageException($"The directory at cluster {firstCluster} is larger than 2 MiB (65536 entries).", DisplayPath);
            var bytes = new byte[(long)chain.Count * _clusterSize];
            FlushNewClusters();
            for (int i = 0; i < chain.Count; i++) _device.Read(ClusterOffset(chain[i]), bytes.AsSpan(i * _clusterSize, _clusterSize));
            d = new DirData { FirstCluster = firstCluster, Clusters = chain, Bytes = bytes, Length = bytes.Length };
        }
        return Cache(d);
    }

    /// <summary>Parses <paramref name="d"/> and keeps it in the directory cache (emptied, after writing what is pending, when full).</summary>
    private DirData Cache(DirData d)
    {
        Parse(d);
        if (_dirCache.Count >= DirCacheLimit)
        {
            WritePending(); // dirty directories live only in the cache
            _dirCache.Clear();
        }
        _dirCache[d.FirstCluster] = d;
        return d;
    }

    /// <summary>Parses the slots of <paramref name="d"/> into items (long names checked against their short entry's checksum).</summary>
    private void Parse(DirData d)
    {
        d.Reset();
        var bytes = d.Bytes;
        int slots = d.Length / DirEntrySize;
        char[]? lfn = null;
        int lfnFirst = -1, lfnExpect = 0;
        byte lfnSum = 0;
        for (int i = 0; i < slots; i++)
        {
            var slot = bytes.AsSpan(i * DirEntrySize, DirEntrySize);
            if (slot[0] == EndMarker) break;
            if (slot[0] == DeletedMarker) { lfn = null; continue; }
            if (FatLfnEntry.TryRead(slot, out var part))
            {
                if (part.IsLast && part.Sequence is >= 1 and <= MaxLfnEntries)
                {
                    lfn = new char[part.Sequence * LfnCharsPerEntry];
                    lfnFirst = i;
                    lfnSum = part.Checksum;
                    lfnExpect = part.Sequence;
                }
                else if (lfn is null || part.Sequence != lfnExpect - 1 || part.Checksum != lfnSum || part.IsLast)
                {
                    lfn = null;
                    continue;
                }
                else lfnExpect = part.Sequence;
                part.Chars.CopyTo(lfn, (part.Sequence - 1) * LfnCharsPerEntry);
                continue;
            }
            var e = FatDirectoryEntry.Read(slot);
            if (e.IsVolumeLabel)
            {
                if (IsRootDir(d)) d.VolumeLabelSlot = i;
                lfn = null;
                continue;
            }
            string key = ShortNames.Key(e.Name);
            d.ShortKeys.Add(key);
            if (e.IsDotEntry) { lfn = null; continue; }
            string? longName = null;
            if (lfn is not null && lfnExpect == 1 && lfnSum == FatLfnEntry.ShortNameChecksum(e.Name))
            {
                int end = Array.IndexOf(lfn, '\0');
                longName = new string(lfn, 0, end < 0 ? lfn.Length : end);
                if (longName.Length == 0) longName = null;
            }
            int first = longName is null ? i : lfnFirst;
            lfn = null;
            d.Add(MakeItem(d, e, i, first, longName, key));
        }
    }

    /// <summary>The listed entry for the short entry <paramref name="e"/> at <paramref name="slot"/> (long name from <paramref name="first"/>).</summary>
    private DirItem MakeItem(DirData d, FatDirectoryEntry e, int slot, int first, string? longName, string key)
    {
        int i = slot;
        string shortName = e.DisplayShortName;
        bool isDir = e.IsDirectory;
        uint cluster = _type == FatType.Fat32 ? e.FirstCluster : e.FirstCluster & 0xFFFF;
        var entry = new FatEntry
        {
            Name = longName ?? (shortName.Length == 0 ? "_" : shortName),
            Kind = isDir ? FileSystemEntryKind.Directory : FileSystemEntryKind.File,
            Size = isDir ? 0 : e.FileSize,
            Modified = e.Modified,
            Created = e.Created,
            Accessed = e.Accessed,
            Attributes = ToAttributes(e.Attributes),
            Identity = isDir ? ('d', cluster) : cluster != 0 ? ('f', cluster) : null,
            ParentCluster = d.FirstCluster,
            ShortSlot = i,
            FirstSlot = first,
            Raw = e,
            ShortName = shortName,
            FirstCluster = cluster,
            Links = 1,
            Mode = (isDir ? 0x4000u | 0x1EDu : 0x8000u | 0x1A4u) & ((e.Attributes & AttrReadOnly) != 0 ? ~0x92u : ~0u),
        };
        return new DirItem { Entry = entry, LongName = longName, ShortKey = key };
    }

    /// <summary>Adds the entry just written at [<paramref name="first"/>, <paramref name="shortSlot"/>] to the parsed items, in slot order.</summary>
    private void AddParsed(DirData d, int first, int shortSlot, string? longName)
    {
        var e = FatDirectoryEntry.Read(d.Bytes.AsSpan(shortSlot * DirEntrySize, DirEntrySize));
        string key = ShortNames.Key(e.Name);
        d.ShortKeys.Add(key);
        d.Add(MakeItem(d, e, shortSlot, first, longName, key));
    }

    private bool IsRootDir(DirData d) => d.FirstCluster == _root.FirstCluster;

    private static FileAttributes ToAttributes(byte a)
    {
        FileAttributes f = 0;
        if ((a & AttrReadOnly) != 0) f |= FileAttributes.ReadOnly;
        if ((a & AttrHidden) != 0) f |= FileAttributes.Hidden;
        if ((a & AttrSystem) != 0) f |= FileAttributes.System;
        if ((a & AttrDirectory) != 0) f |= FileAttributes.Directory;
        if ((a & AttrArchive) != 0) f |= FileAttributes.Archive;
        return f == 0 ? FileAttributes.Normal : f;
    }

    /// <summary>The device offset of slot <paramref name="slot"/> of <paramref name="d"/>.</summary>
    private long SlotOffset(DirData d, int slot)
    {
        long at = (long)slot * DirEntrySize;
        if (d.Clusters.Count == 0) return _rootOffset + at;
        return ClusterOffset(d.Clusters[(int)(at / _clusterSize)]) + at % _clusterSize;
    }

    /// <summary>Writes slots [first, first+count) of <paramref name="d"/> from its bytes to the device, and re-parses it.</summary>
    private void WriteSlots(DirData d, int first, int count, bool reparse = true)
    {
        if (Deferring)
        {
            (d.DirtySlots ??= []).Add((first, count));
            _dirtyDirs.Add(d);
            if (reparse) Parse(d);
            return;
        }
        WriteSlotsNow(d, first, count);
        if (reparse) Parse(d);
    }

    /// <summary>Writes slots [first, first+count) of <paramref name="d"/> from its bytes to the device.</summary>
    private void WriteSlotsNow(DirData d, int first, int count)
    {
        int i = first;
        while (i < first + count)
        {
            long offset = SlotOffset(d, i);
            int j = i + 1;
            while (j < first + count && SlotOffset(d, j) == offset + (long)(j - i) * DirEntrySize) j++;
            FlushNewClusters();
            _device.Write(offset, d.Bytes.AsSpan(i * DirEntrySize, (j - i) * DirEntrySize));
            i = j;
        }
    }

    /// <summary>Re-reads the item whose short entry is at <paramref name="slot"/> after only its fields (not its name) changed.</summary>
    private void RefreshItem(DirData d, int slot)
    {
        int index = d.IndexOfSlot(slot);
        if (index < 0) { Parse(d); return; }
        var old = d.Items[index];
        var e = FatDirectoryEntry.Read(d.Bytes.AsSpan(slot * DirEntrySize, DirEntrySize));
        var o = old.Entry;
        bool isDir = e.IsDirectory;
        uint cluster = _type == FatType.Fat32 ? e.FirstCluster : e.FirstCluster & 0xFFFF;
        d.Replace(index, new DirItem
        {
            LongName = old.LongName,
            ShortKey = old.ShortKey,
            Entry = new FatEntry
            {
                Name = o.Name,
                Kind = o.Kind,
                Size = isDir ? 0 : e.FileSize,
                Modified = e.Modified,
                Created = e.Created,
                Accessed = e.Accessed,
                Attributes = ToAttributes(e.Attributes),
                Identity = isDir ? ('d', cluster) : cluster != 0 ? ('f', cluster) : null,
                ParentCluster = o.ParentCluster,
                ShortSlot = o.ShortSlot,
                FirstSlot = o.FirstSlot,
                Raw = e,
                ShortName = o.ShortName,
                FirstCluster = cluster,
                Links = 1,
                Mode = o.Kind == FileSystemEntryKind.Directory ? 0x4000u | 0x1EDu & ((e.Attributes & AttrReadOnly) != 0 ? ~0x92u : ~0u)
                    : 0x8000u | 0x1A4u & ((e.Attributes & AttrReadOnly) != 0 ? ~0x92u : ~0u),
            },
        });
    }

    /// <summary>The volume label: the root directory's label entry, else the boot sector's.</summary>
    private string? ReadLabel()
    {
        try
        {
            var root = ReadDir(_root.FirstCluster);
            if (root.VolumeLabelSlot >= 0)
            {
                var name = root.Bytes.AsSpan(root.VolumeLabelSlot * DirEntrySize, ShortNameLength);
                var s = ShortNames.Display(name, 0);
                s = System.Text.Encoding.Latin1.GetString(name).TrimEnd(' ');
                return s.Length == 0 ? null : DecodeLabel(name);
            }
        }
        catch (CorruptImageException)
        {
            // A damaged root is reported when it is listed; the label falls back to the boot sector.
        }
        return _boot.LabelText;
    }

    private static string? DecodeLabel(ReadOnlySpan<byte> name11)
    {
        var s = System.Text.CodePagesEncodingProvider.Instance.GetEncoding(850)!.GetString(name11).TrimEnd(' ');
        return s.Length == 0 ? null : s;
    }
}
