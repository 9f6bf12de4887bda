using static Discemu.FileSystems.Fat.FatConstants;

namespace Discemu.FileSystems.Fat;

/// <summary>Adding, changing and removing directory entries (with long names and 8.3 aliases).</summary>
internal sealed partial class FatFileSystem
{
    private void CheckWritable()
    {
        if (!_writable) throw new NotSupportedException("The file system was not opened writable.");
    }

    private static string[] SplitPath(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var parts = new List<string>();
        foreach (var p in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (p == ".") continue;
            if (p == "..") { if (parts.Count > 0) parts.RemoveAt(parts.Count - 1); continue; }
            parts.Add(p);
        }
        return [.. parts];
    }

    /// <summary>The existing entry at <paramref name="path"/>.</summary>
    private FatEntry Existing(string path)
        => (FatEntry)(TryLookup(path) ?? throw new BadArgumentException("No such file or directory.", DescribePath(path)));

    /// <summary>The parent directory of <paramref name="path"/> and the last component.</summary>
    /// <exception cref="BadArgumentException">The path is the root, the parent is missing or not a directory, or the name is invalid.</exception>
    private (FatEntry Parent, string Name) ParentOf(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        // Bulk copies name many files of one directory in a row: the directory found for the same spelling of the
        // parent path is reused (entries are only added between; removing or moving anything forgets it).
        int slash = path.LastIndexOf('/');
        if (slash >= 0 && _lastParent is { } cached && path.AsSpan(0, slash).SequenceEqual(_lastParentPath)
            && path.AsSpan(slash + 1) is { Length: > 0 } last && !last.SequenceEqual(".") && !last.SequenceEqual(".."))
        {
            string simple = path[(slash + 1)..];
            string trimmed = simple.TrimEnd(' ', '.');
            if (!ShortNames.IsValidLongName(trimmed) || trimmed != simple && trimmed.Length == 0)
                throw new BadArgumentException($"'{simple}' is not a valid FAT file name.", DescribePath(path));
            return (cached, trimmed);
        }
        var result = ParentOfSlow(path);
        if (slash >= 0 && path.AsSpan(slash + 1) is { Length: > 0 } name && !name.SequenceEqual(".") && !name.SequenceEqual(".."))
        {
            _lastParentPath = path[..slash];
            _lastParent = result.Parent;
        }
        return result;
    }

    private string? _lastParentPath;
    private FatEntry? _lastParent;

    /// <summary>Forgets the cached parent directory (after removing or moving entries).</summary>
    private void ForgetParent() => _lastParent = null;

    private (FatEntry Parent, string Name) ParentOfSlow(string path)
    {
        var parts = SplitPath(path);
        if (parts.Length == 0) throw new BadArgumentException("The root directory cannot be created, moved or removed.", DescribePath(path));
        string name = parts[^1].TrimEnd(' ', '.');
        if (!ShortNames.IsValidLongName(name) || name != parts[^1] && name.Length == 0)
            throw new BadArgumentException($"'{parts[^1]}' is not a valid FAT file name.", DescribePath(path));
        var parent = TryLookup(string.Join('/', parts[..^1])) as FatEntry
                     ?? throw new BadArgumentException("The parent directory does not exist.", DescribePath(path));
        if (!parent.IsDirectory) throw new BadArgumentException("The parent is not a directory.", DescribePath(path));
        return (parent, name);
    }

    private static FatDirectoryEntry Stamp(FatDirectoryEntry e, EntryTimes? times, bool creating)
    {
        var now = DateTimeOffset.UtcNow;
        var m = times?.Modified ?? (creating ? now : null);
        var a = times?.Accessed ?? (creating ? now : null);
        var c = times?.Created ?? (creating ? now : null);
        if (m is { } mv) { var (d, t, _) = DosDateTime.FromDateTime(mv); e = e with { WriteDate = d, WriteTime = t }; }
        if (a is { } av) e = e with { AccessDate = DosDateTime.FromDateTime(av).Date };
        if (c is { } cv) { var (d, t, ten) = DosDateTime.FromDateTime(cv); e = e with { CreationDate = d, CreationTime = t, CreationTenths = ten }; }
        return e;
    }

    /// <summary>
    /// Adds <paramref name="name"/> to <paramref name="d"/> with the fields of <paramref name="template"/> (its name is
    /// replaced): an 8.3 name (with NT case flags) when that keeps the name exactly, else long-name entries and a
    /// clash-free alias. Grows the directory by a cluster when no run of free slots is long enough.
    /// </summary>
    /// <returns>The slot of the short entry.</returns>
    private int AddEntry(DirData d, string name, FatDirectoryEntry template, string path, DirItem? ignore = null)
    {
        var clash = d.Find(name);
        if (clash is not null && !ReferenceEquals(clash, ignore)
            || d.HasShortName(name, ignore))
            throw new BadArgumentException("A file or directory of that name already exists.", DescribePath(path));
        byte[] shortName;
        byte flags = 0;
        FatLfnEntry[] lfn = [];
        var exact = ShortNames.TryExact(name);
        if (exact is { } ex && !d.ShortKeys.Contains(ShortNames.Key(ex.Name)))
            (shortName, flags) = ex;
        else
        {
            shortName = ShortNames.GenerateAlias(name, d.ShortKeys.Contains, d.AliasTails);
            lfn = FatLfnEntry.Build(name, FatLfnEntry.ShortNameChecksum(shortName));
        }
        int need = lfn.Length + 1;
        int first = FindFreeRun(d, need, path);
        for (int k = 0; k < lfn.Length; k++) lfn[k].Write(d.Bytes.AsSpan((first + k) * DirEntrySize, DirEntrySize));
        (template with { Name = shortName, NtFlags = flags }).Write(d.Bytes.AsSpan((first + lfn.Length) * DirEntrySize, DirEntrySize));
        int count = need;
        int endSlot = first + need;
        // Slots after the end marker are free by definition; keep the one after ours an end marker if it was in that region.
        if (endSlot < d.Length / DirEntrySize && _endAfterRun && d.Bytes[endSlot * DirEntrySize] != EndMarker)
        {
            d.Bytes.AsSpan(endSlot * DirEntrySize, DirEntrySize).Clear();
            count++;
        }
        if (first == d.FreeScanStart) d.FreeScanStart = first + need;
        WriteSlots(d, first, count, reparse: false);
        AddParsed(d, first, first + lfn.Length, lfn.Length > 0 ? name : null);
        return first + lfn.Length;
    }

    private bool _endAfterRun;

    /// <summary>The first of <paramref name="need"/> consecutive free slots, growing the directory when needed.</summary>
    /// <exception cref="DiskFullException">The fixed root is full, the directory is at its 65536-entry limit, or no cluster is free.</exception>
    private int FindFreeRun(DirData d, int need, string path)
    {
        int slots = d.Length / DirEntrySize;
        int run = 0, firstFree = -1;
        bool pastEnd = false;
        // Every slot before FreeScanStart holds an entry (so none is the end marker): the scan starts there.
        for (int i = Math.Min(d.FreeScanStart, slots); i < slots; i++)
        {
            byte b = d.Bytes[i * DirEntrySize];
            if (b == EndMarker) pastEnd = true;
            if (pastEnd || b == DeletedMarker)
            {
                if (firstFree < 0) d.FreeScanStart = firstFree = i;
                if (++run == need) { _endAfterRun = pastEnd; return i - need + 1; }
            }
            else run = 0;
        }
        if (firstFree < 0) d.FreeScanStart = slots;
        if (d.Clusters.Count == 0) throw new DiskFullException("The root directory is full.", DescribePath(path));
        int extra = ((need - run) * DirEntrySize + _clusterSize - 1) / _clusterSize;
        if (d.Length + (long)extra * _clusterSize > MaxDirectoryBytes)
            throw new DiskFullException("The directory has reached FAT's limit of 65536 entries.", DescribePath(path));
        var added = Allocate(extra);
        try
        {
            foreach (var c in added) WriteNewClusters(ClusterOffset(c), default, _clusterSize);
            Set(d.Clusters[^1], added[0]);
            CommitFat();
        }
        catch
        {
            Set(d.Clusters[^1], FatTypes.EndOfChain(_type));
            Free(added);
            TryCommitFat();
            throw;
        }
        int start = slots - run;
        d.Grow(extra * _clusterSize, MaxDirectoryBytes);
        d.Clusters.AddRange(added);
        _endAfterRun = true;
        return start;
    }

    private void TryCommitFat()
    {
        try { CommitFat(); }
        catch (Exception e) when (e is IOException or DiscemuException) { /* the original error is what the caller reports */ }
    }

    /// <summary>Rewrites the short entry of <paramref name="e"/> with <paramref name="change"/> applied.</summary>
    private void UpdateEntry(FatEntry e, Func<FatDirectoryEntry, FatDirectoryEntry> change)
    {
        var d = ReadDir(e.ParentCluster);
        var span = d.Bytes.AsSpan(e.ShortSlot * DirEntrySize, DirEntrySize);
        var raw = FatDirectoryEntry.Read(span);
        change(raw).Write(span);
        WriteSlots(d, e.ShortSlot, 1, reparse: false);
        RefreshItem(d, e.ShortSlot);
    }

    /// <summary>Marks the slots of <paramref name="e"/> deleted in its parent.</summary>
    private void RemoveSlots(FatEntry e)
    {
        var d = ReadDir(e.ParentCluster);
        for (int s = e.FirstSlot; s <= e.ShortSlot; s++) d.Bytes[s * DirEntrySize] = DeletedMarker;
        WriteSlots(d, e.FirstSlot, e.ShortSlot - e.FirstSlot + 1);
    }

    private FatEntry EntryAt(DirData d, int slot)
        => d.AtSlot(slot).Entry;

    /// <summary>The cluster a ".." entry records for a directory whose parent starts at <paramref name="parentCluster"/> (0 for the root).</summary>
    private uint DotDotCluster(uint parentCluster) => parentCluster == _root.FirstCluster ? 0 : parentCluster;
}
