using static Discemu.FileSystems.Fat.FatConstants;

namespace Discemu.FileSystems.Fat;

/// <summary>
/// The editing operations. Order of writes: file data into newly allocated clusters, then the FAT copies and
/// FSInfo, then the directory entry; removal writes the directory entry first and frees clusters after. A failure
/// part-way leaves at worst clusters allocated to nothing (fsck's "lost clusters"), never a lost or cross-linked file.
/// </summary>
internal sealed partial class FatFileSystem : IWritableFileSystem
{
    /// <inheritdoc/>
    public long FreeBytes { get { lock (_sync) return (long)_freeCount * _clusterSize; } }

    /// <inheritdoc/>
    public FileSystemEntry CreateFile(string path, EntryTimes? times = null)
    {
        CheckWritable();
        lock (_sync)
        {
            var (parent, name) = ParentOf(path);
            var d = ReadDir(parent.FirstCluster);
            var e = Stamp(new FatDirectoryEntry { Name = new byte[ShortNameLength], Attributes = AttrArchive }, times, creating: true);
            int slot = AddEntry(d, name, e, path);
            return EntryAt(d, slot);
        }
    }

    /// <inheritdoc/>
    public FileSystemEntry CreateFile(string path, ReadOnlySpan<byte> content, EntryTimes? times = null)
    {
        CheckWritable();
        lock (_sync)
        {
            var (parent, name) = ParentOf(path);
            var d = ReadDir(parent.FirstCluster);
            if (d.Find(name) is not null || d.HasShortName(name, null))
                throw new BadArgumentException("A file or directory of that name already exists.", DescribePath(path));
            // Content into new clusters, then the FAT, then the entry (already holding size and times): one slot write.
            var chain = Allocate(((long)content.Length + _clusterSize - 1) / _clusterSize);
            try
            {
                for (int i = 0; i < chain.Count;)
                {
                    int j = i + 1;
                    while (j < chain.Count && chain[j] == chain[j - 1] + 1) j++;
                    _ = ClusterOffset(chain[j - 1]);
                    var part = content.Slice(i * _clusterSize, Math.Min(content.Length - i * _clusterSize, (j - i) * _clusterSize));
                    // In write-back mode the cluster's slack is zeroed too, so consecutive new files form one run of bytes.
                    WriteNewClusters(ClusterOffset(chain[i]), part, Deferring ? (j - i) * _clusterSize - part.Length : 0);
                    i = j;
                }
                CommitFat();
                var e = Stamp(new FatDirectoryEntry
                {
                    Name = new byte[ShortNameLength],
                    Attributes = AttrArchive,
                    FileSize = (uint)content.Length,
                    FirstCluster = chain.Count > 0 ? chain[0] : 0,
                }, times, creating: true);
                return EntryAt(d, AddEntry(d, name, e, path));
            }
            catch
            {
                Free(chain);
                TryCommitFat();
                throw;
            }
        }
    }

    /// <inheritdoc/>
    public FileSystemEntry CreateDirectory(string path, EntryTimes? times = null)
    {
        CheckWritable();
        lock (_sync)
        {
            var (parent, name) = ParentOf(path);
            var d = ReadDir(parent.FirstCluster);
            if (d.Find(name) is not null) throw new BadArgumentException("A file or directory of that name already exists.", DescribePath(path));
            var cluster = Allocate(1);
            try
            {
                var e = Stamp(new FatDirectoryEntry { Name = new byte[ShortNameLength], Attributes = AttrDirectory, FirstCluster = cluster[0] }, times, creating: true);
                var content = new byte[_clusterSize];
                (e with { Name = ShortNames.Pad(".", "") }).Write(content);
                (e with { Name = ShortNames.Pad("..", ""), FirstCluster = DotDotCluster(parent.FirstCluster) }).Write(content.AsSpan(DirEntrySize));
                WriteNewClusters(ClusterOffset(cluster[0]), content, 0);
                CommitFat();
                int slot = AddEntry(d, name, e, path);
                var made = EntryAt(d, slot);
                // The new directory is known: cache it rather than read it back from the device later.
                Cache(new DirData { FirstCluster = cluster[0], Clusters = [cluster[0]], Bytes = content, Length = content.Length });
                return made;
            }
            catch
            {
                Free(cluster);
                TryCommitFat();
                throw;
            }
        }
    }

    /// <inheritdoc/>
    public void Write(string path, long offset, ReadOnlySpan<byte> data)
    {
        CheckWritable();
        lock (_sync)
        {
            var f = File(path);
            if (offset < 0 || offset > MaxFileSize - data.Length)
                throw new BadArgumentException($"A FAT file cannot extend past {MaxFileSize} bytes.", DescribePath(path));
            if (data.IsEmpty) return;
            long end = offset + data.Length;
            long newSize = Math.Max(f.Size, end);
            var (chain, added) = Grow(f, newSize, path);
            try
            {
                if (offset > f.Size) WriteMapped(chain, f.Size, default, offset - f.Size);
                WriteMapped(chain, offset, data, 0);
                if (added > 0) CommitFat();
            }
            catch
            {
                Shrink(chain, chain.Count - added);
                TryCommitFat();
                throw;
            }
            uint first = chain.Count > 0 ? chain[0] : 0;
            UpdateEntry(f, e => Stamp(e with { FileSize = (uint)newSize, FirstCluster = first, Attributes = (byte)(e.Attributes | AttrArchive) }, new EntryTimes(DateTimeOffset.UtcNow), false));
        }
    }

    /// <inheritdoc/>
    public void SetLength(string path, long length)
    {
        CheckWritable();
        lock (_sync)
        {
            using var writeThrough = WriteThrough();
            var f = File(path);
            if (length < 0 || length > MaxFileSize) throw new BadArgumentException($"A FAT file has 0 to {MaxFileSize} bytes.", DescribePath(path));
            if (length == f.Size) return;
            if (length > f.Size)
            {
                var (chain, added) = Grow(f, length, path);
                try
                {
                    WriteMapped(chain, f.Size, default, length - f.Size);
                    if (added > 0) CommitFat();
                }
                catch
                {
                    Shrink(chain, chain.Count - added);
                    TryCommitFat();
                    throw;
                }
                UpdateEntry(f, e => Stamp(e with { FileSize = (uint)length, FirstCluster = chain.Count > 0 ? chain[0] : 0, Attributes = (byte)(e.Attributes | AttrArchive) }, new EntryTimes(DateTimeOffset.UtcNow), false));
                return;
            }
            var all = Chain(f.FirstCluster);
            long keep = (length + _clusterSize - 1) / _clusterSize;
            UpdateEntry(f, e => Stamp(e with { FileSize = (uint)length, FirstCluster = keep == 0 ? 0 : e.FirstCluster, Attributes = (byte)(e.Attributes | AttrArchive) }, new EntryTimes(DateTimeOffset.UtcNow), false));
            if (keep < all.Count)
            {
                Shrink(all, (int)keep);
                CommitFat();
            }
        }
    }

    /// <inheritdoc/>
    public void Delete(string path)
    {
        CheckWritable();
        lock (_sync)
        {
            using var writeThrough = WriteThrough();
            ForgetParent();
            var e = Existing(path);
            if (e.IsRoot) throw new BadArgumentException("The root directory cannot be removed.", DescribePath(path));
            if (e.IsDirectory && ReadDir(e.FirstCluster).Items.Count > 0)
                throw new BadArgumentException("The directory is not empty.", DescribePath(path));
            var chain = Chain(e.FirstCluster);
            RemoveSlots(e);
            if (e.IsDirectory) _dirCache.Remove(e.FirstCluster);
            Free(chain);
            CommitFat();
        }
    }

    /// <inheritdoc/>
    public void Move(string from, string to, bool replace = false)
    {
        CheckWritable();
        lock (_sync)
        {
            using var writeThrough = WriteThrough();
            ForgetParent();
            var src = Existing(from);
            if (src.IsRoot) throw new BadArgumentException("The root directory cannot be moved.", DescribePath(from));
            var (parent, name) = ParentOfSlow(to); // not cached: the move may change what a path spelling reaches
            var d = ReadDir(parent.FirstCluster);
            var self = ReadDir(src.ParentCluster).AtSlot(src.ShortSlot);
            var existing = d.Find(name);
            if (existing is not null && !(parent.FirstCluster == src.ParentCluster && existing.Entry.ShortSlot == src.ShortSlot))
            {
                var target = existing.Entry;
                if (!replace) throw new BadArgumentException("The target already exists.", DescribePath(to));
                if (target.IsDirectory != src.IsDirectory) throw new BadArgumentException(target.IsDirectory ? "A directory cannot be replaced by a file." : "A file cannot be replaced by a directory.", DescribePath(to));
                if (target.IsDirectory && ReadDir(target.FirstCluster).Items.Count > 0) throw new BadArgumentException("The target directory is not empty.", DescribePath(to));
                Delete(to);
                src = Existing(from);
                d = ReadDir(parent.FirstCluster);
                self = ReadDir(src.ParentCluster).AtSlot(src.ShortSlot);
            }
            if (src.IsDirectory)
            {
                var walk = _root;
                foreach (var part in SplitPath(to)[..^1])
                {
                    walk = (FatEntry)ReadDir(walk.FirstCluster).Find(part)!.Entry;
                    if (walk.FirstCluster == src.FirstCluster) throw new BadArgumentException("A directory cannot move into itself.", DescribePath(to));
                }
            }
            if (parent.FirstCluster == src.ParentCluster && self.Entry.Name == name) return;
            var raw = src.Raw;
            bool sameDir = parent.FirstCluster == src.ParentCluster;
            AddEntry(d, name, raw, to, sameDir ? self : null);
            src = (FatEntry)ReadDir(src.ParentCluster).AtSlot(src.ShortSlot).Entry;
            RemoveSlots(src);
            if (src.IsDirectory && !sameDir)
            {
                var moved = ReadDir(src.FirstCluster);
                if (moved.Length >= 2 * DirEntrySize && moved.Bytes[DirEntrySize] == (byte)'.' && moved.Bytes[DirEntrySize + 1] == (byte)'.')
                {
                    var span = moved.Bytes.AsSpan(DirEntrySize, DirEntrySize);
                    (FatDirectoryEntry.Read(span) with { FirstCluster = DotDotCluster(parent.FirstCluster) }).Write(span);
                    WriteSlots(moved, 1, 1);
                }
            }
        }
    }

    /// <inheritdoc/>
    public void SetTimes(string path, EntryTimes times)
    {
        ArgumentNullException.ThrowIfNull(times);
        CheckWritable();
        lock (_sync)
        {
            var e = Existing(path);
            if (e.IsRoot) return; // the root directory has no entry to hold times
            UpdateEntry(e, raw => Stamp(raw, times, false));
        }
    }

    /// <inheritdoc/>
    public void SetAttributes(string path, FileAttributes attributes)
    {
        CheckWritable();
        lock (_sync)
        {
            var e = Existing(path);
            if (e.IsRoot) throw new BadArgumentException("The root directory has no attributes.", DescribePath(path));
            byte bits = 0;
            if (attributes.HasFlag(FileAttributes.ReadOnly)) bits |= AttrReadOnly;
            if (attributes.HasFlag(FileAttributes.Hidden)) bits |= AttrHidden;
            if (attributes.HasFlag(FileAttributes.System)) bits |= AttrSystem;
            if (attributes.HasFlag(FileAttributes.Archive)) bits |= AttrArchive;
            UpdateEntry(e, raw => raw with { Attributes = (byte)(raw.Attributes & AttrDirectory | bits) });
        }
    }

    /// <inheritdoc/>
    public void Flush()
    {
        CheckWritable();
        lock (_sync)
        {
            WritePending();
            WriteFsInfo();
            FlushNewClusters();
            _device.Flush();
        }
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing && _writable)
        {
            lock (_sync)
            {
                WritePending();
                WriteFsInfo();
            }
        }
        base.Dispose(disposing);
    }

    private FatEntry File(string path)
    {
        var f = Existing(path);
        if (f.Kind != FileSystemEntryKind.File) throw new BadArgumentException("Not a regular file.", DescribePath(path));
        return f;
    }

    /// <summary>The file's chain extended (in memory) to hold <paramref name="newSize"/> bytes, and how many clusters were added.</summary>
    private (List<uint> Chain, int Added) Grow(FatEntry f, long newSize, string path)
    {
        var chain = Chain(f.FirstCluster);
        long have = (f.Size + _clusterSize - 1) / _clusterSize;
        if (chain.Count < have) throw new CorruptImageException($"The file's cluster chain is shorter than its size.", DescribePath(path));
        long need = (newSize + _clusterSize - 1) / _clusterSize;
        if (need <= chain.Count) return (chain, 0);
        var added = Allocate(need - chain.Count);
        if (chain.Count > 0) Set(chain[^1], added[0]);
        chain.AddRange(added);
        return (chain, added.Count);
    }

    /// <summary>Cuts <paramref name="chain"/> to <paramref name="keep"/> clusters, freeing the rest (in memory).</summary>
    private void Shrink(List<uint> chain, int keep)
    {
        if (keep >= chain.Count) return;
        var freed = chain.GetRange(keep, chain.Count - keep);
        if (keep > 0) Set(chain[keep - 1], FatTypes.EndOfChain(_type));
        Free(freed);
        chain.RemoveRange(keep, chain.Count - keep);
    }

    /// <summary>Writes <paramref name="data"/> (or <paramref name="zeros"/> zero bytes when data is empty) at file position <paramref name="pos"/>.</summary>
    private void WriteMapped(List<uint> chain, long pos, ReadOnlySpan<byte> data, long zeros)
    {
        long remaining = data.IsEmpty ? zeros : data.Length;
        while (remaining > 0)
        {
            int ci = (int)(pos / _clusterSize);
            long within = pos % _clusterSize;
            int cj = ci;
            while (cj + 1 < chain.Count && chain[cj + 1] == chain[cj] + 1 && (long)(cj + 1 - ci) * _clusterSize - within < remaining) cj++;
            long n = Math.Min(remaining, (long)(cj - ci + 1) * _clusterSize - within);
            _ = ClusterOffset(chain[cj]);
            long at = ClusterOffset(chain[ci]) + within;
            FlushNewClusters();
            if (data.IsEmpty) _device.WriteZeroes(at, n, mayUnmap: false);
            else
            {
                _device.Write(at, data[..(int)n]);
                data = data[(int)n..];
            }
            pos += n;
            remaining -= n;
        }
    }
}
