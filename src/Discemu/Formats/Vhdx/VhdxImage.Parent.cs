using System.Buffers.Binary;
using static Discemu.Formats.Vhdx.VhdxConstants;

namespace Discemu.Formats.Vhdx;

public sealed partial class VhdxImage
{
    private ImageOpenRequest? _openRequest;

    /// <summary>Builds the parent locator of a differencing image at <paramref name="childPath"/> whose parent is <paramref name="parentName"/>.</summary>
    internal static VhdxParentLocator BuildLocator(string childPath, string parentName, Guid parentDataWriteGuid)
    {
        string relative = System.IO.Path.IsPathRooted(parentName)
            ? System.IO.Path.GetRelativePath(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(childPath)) ?? ".", parentName)
            : parentName;
        var entries = new List<KeyValuePair<string, string>>
        {
            new(VhdxParentLocator.ParentLinkage, parentDataWriteGuid.ToString("B")),
            new(VhdxParentLocator.RelativePath, relative.Replace('/', '\\')),
        };
        if (OperatingSystem.IsWindows())
            entries.Add(new(VhdxParentLocator.AbsoluteWin32Path, @"\\?\" + System.IO.Path.GetFullPath(DiskImage.ResolveRelative(childPath, parentName))));
        return new VhdxParentLocator(VhdxParentLocatorType, entries);
    }

    /// <summary>
    /// The paths the locator names, in the order Hyper-V tries them (relative_path, volume_path,
    /// absolute_win32_path), as host paths. Volume paths and drive-letter paths cannot be resolved off Windows.
    /// </summary>
    private List<string> ParentCandidates(VhdxParentLocator locator)
    {
        var list = new List<string>();
        if (locator.Get(VhdxParentLocator.RelativePath) is { } rel)
            list.Add(ResolveRelative(Path, OperatingSystem.IsWindows() ? rel : rel.Replace('\\', '/')));
        foreach (var key in new[] { VhdxParentLocator.VolumePath, VhdxParentLocator.AbsoluteWin32Path })
        {
            if (locator.Get(key) is not { } abs) continue;
            string p = abs.StartsWith(@"\\?\", StringComparison.Ordinal) ? abs[4..] : abs;
            if (OperatingSystem.IsWindows()) { list.Add(p); continue; }
            bool windowsOnly = p.StartsWith("Volume{", StringComparison.OrdinalIgnoreCase) || p.StartsWith(@"UNC\", StringComparison.OrdinalIgnoreCase)
                || (p.Length >= 2 && p[1] == ':');
            if (!windowsOnly) list.Add(p.Replace('\\', '/'));
        }
        return list;
    }

    /// <summary>Opens the parent: the first existing candidate whose DataWriteGuid matches the linkage, else the first existing one.</summary>
    private void OpenParent(ImageOpenRequest request)
    {
        _openRequest = request;
        var locator = _metadata.ParentLocator!;
        var candidates = ParentCandidates(locator);
        _parentName = DisplayName(locator);
        if (candidates.Count == 0) throw new CorruptImageException("The parent locator names no path this system can use.", Path);
        var linkages = locator.Linkages().ToList();
        string? chosen = null;
        foreach (var c in candidates)
        {
            if (!File.Exists(c)) continue;
            var guid = TryReadDataWriteGuid(c);
            bool match = guid is { } g && linkages.Contains(g);
            if (match) { chosen = c; _linkageMatches = true; break; }
            if (chosen is null) { chosen = c; _linkageMatches = guid is null ? null : false; }
        }
        _parent = request.Opener.OpenBacking(request, chosen ?? candidates[0], null);
        if (_parent is VhdxImage p && p.LogicalSectorSize != LogicalSectorSize)
            throw new CorruptImageException($"The parent has {p.LogicalSectorSize}-byte logical sectors, this image {LogicalSectorSize}.", Path);
    }

    private static string? DisplayName(VhdxParentLocator? locator)
    {
        if (locator is null) return null;
        if (locator.Get(VhdxParentLocator.RelativePath) is { } rel) return OperatingSystem.IsWindows() ? rel : rel.Replace('\\', '/');
        return locator.Get(VhdxParentLocator.AbsoluteWin32Path) ?? locator.Get(VhdxParentLocator.VolumePath);
    }

    /// <summary>The current DataWriteGuid of the VHDX file at <paramref name="path"/>, or null when it is not a readable VHDX file.</summary>
    internal static Guid? TryReadDataWriteGuid(string path)
    {
        try
        {
            using var file = Block.FileDevice.Open(path, false);
            if (file.Length < HeaderSectionSize) return null;
            var buffer = new byte[HeaderSize];
            file.Read(0, buffer.AsSpan(0, 8));
            if (BinaryPrimitives.ReadUInt64LittleEndian(buffer) != FileSignature) return null;
            file.Read(Header1Offset, buffer);
            bool ok1 = VhdxHeader.TryRead(buffer, out var h1, out _);
            file.Read(Header2Offset, buffer);
            bool ok2 = VhdxHeader.TryRead(buffer, out var h2, out _);
            if (!ok1 && !ok2) return null;
            return (ok1 && (!ok2 || h1.SequenceNumber > h2.SequenceNumber) ? h1 : h2).DataWriteGuid;
        }
        catch (DiscemuException) { return null; }
        catch (IOException) { return null; }
    }

    /// <summary>The metadata region pages that differ between what is on disk and the metadata as it is now.</summary>
    private List<(long Offset, byte[] Page)> MetadataPages(out byte[] image)
    {
        image = _metadata.ToBytes(_metadataRegion.Length);
        var pages = new List<(long, byte[])>();
        for (int p = 0; p < image.Length; p += LogSectorSize)
        {
            var page = image.AsSpan(p, LogSectorSize);
            bool same = p + LogSectorSize <= _metadataImage.Length && page.SequenceEqual(_metadataImage.AsSpan(p, LogSectorSize));
            if (!same) pages.Add((_metadataRegion.FileOffset + p, page.ToArray()));
        }
        return pages;
    }

    /// <summary>Commits the metadata items (and anything pending) through the log. Caller holds the allocation lock.</summary>
    private void CommitMetadata()
    {
        var pages = MetadataPages(out var image);
        ReserveLogRoom(pages.Count);
        Commit(pages);
        _metadataImage = image;
    }

    /// <inheritdoc/>
    /// <exception cref="NotSupportedException">The image is read-only.</exception>
    /// <exception cref="ImageAccessException">The new parent cannot be opened.</exception>
    public void SetBackingFile(string? fileName, string? formatName)
    {
        if (!_writable) throw new NotSupportedException("The image is read-only.");
        if (fileName is { Length: 0 }) fileName = null;
        lock (_allocLock)
        {
            EnsureDataChange();
            if (HasPending) Commit();
            if (fileName is null)
            {
                if (!_metadata.HasParent) return;
                DetachParent();
                return;
            }
            string resolved = ResolveRelative(Path, fileName);
            Guid linkage = Guid.NewGuid();
            if (File.Exists(resolved))
            {
                using var parent = (_openRequest?.Opener ?? ImageOpener.Default).Open(resolved, new ImageOpenOptions { Format = formatName, OpenBacking = false });
                if (parent is VhdxImage v)
                {
                    if (v.LogicalSectorSize != LogicalSectorSize)
                        throw new BadArgumentException($"The new parent has {v.LogicalSectorSize}-byte logical sectors, this image {LogicalSectorSize}.", Path);
                    linkage = v.Header.DataWriteGuid;
                }
            }
            EnsureBatEntries(_layout.FullEntries);
            _metadata.SetParent(BuildLocator(Path, fileName, linkage));
            CommitMetadata();
            _parentName = DisplayName(_metadata.ParentLocator);
            _linkageMatches = true;
            var old = _parent;
            _parent = null;
            old?.Dispose();
            if (File.Exists(resolved) && _openRequest is { } request)
                _parent = request.Opener.OpenBacking(request, resolved, formatName);
        }
    }

    /// <summary>
    /// Turns a differencing image into a dynamic one: partially present blocks become fully present with
    /// their absent sectors zeroed, sector bitmap blocks are dropped, the parent locator is removed.
    /// Caller holds the allocation lock.
    /// </summary>
    private void DetachParent()
    {
        var layout = _layout;
        for (long b = 0; b < layout.PayloadBlocks; b++)
        {
            long index = layout.PayloadIndex(b);
            ulong e = _bat[index];
            if (VhdxLayout.State(e) != PayloadPartiallyPresent) continue;
            long host = VhdxLayout.Offset(e);
            for (long pos = b * layout.BlockSize, end = Math.Min((b + 1) * layout.BlockSize, layout.VirtualSize); pos < end;)
            {
                var (present, runEnd) = SectorRun(layout, _bat, b, pos, end);
                if (!present) _file.Zero(host + pos - b * layout.BlockSize, runEnd - pos, punch: false);
                pos = runEnd;
            }
            ReserveLogRoom(2);
            SetEntry(index, VhdxLayout.Entry(PayloadFullyPresent, host));
        }
        for (long c = 0; c < layout.BitmapBlocks; c++)
        {
            long index = layout.BitmapIndex(c);
            if (index >= _bat.Length || VhdxLayout.State(_bat[index]) != BitmapPresent) continue;
            ReserveLogRoom(2);
            _pendingPunches.Add((VhdxLayout.Offset(_bat[index]), BitmapBlockSize));
            SetEntry(index, 0);
        }
        _metadata.SetParent(null);
        CommitMetadata();
        lock (_metaLock) _bitmapPages.Clear();
        var old = _parent;
        _parent = null;
        _parentName = null;
        _linkageMatches = null;
        old?.Dispose();
    }

    /// <inheritdoc/>
    /// <exception cref="NotSupportedException">The image is read-only.</exception>
    public void MakeEmpty()
    {
        if (!_writable) throw new NotSupportedException("The image is read-only.");
        EnsureDataChange();
        lock (_allocLock)
        {
            var layout = _layout;
            for (long b = 0; b < layout.PayloadBlocks; b++)
            {
                long index = layout.PayloadIndex(b);
                ulong e = _bat[index];
                int state = VhdxLayout.State(e);
                if (state == PayloadNotPresent) continue;
                ReserveLogRoom(2);
                if (VhdxLayout.IsPresent(state)) _pendingPunches.Add((VhdxLayout.Offset(e), layout.BlockSize));
                SetEntry(index, 0);
            }
            for (long c = 0; c < layout.BitmapBlocks; c++)
            {
                long index = layout.BitmapIndex(c);
                if (index >= _bat.Length || VhdxLayout.State(_bat[index]) != BitmapPresent) continue;
                ReserveLogRoom(2);
                _pendingPunches.Add((VhdxLayout.Offset(_bat[index]), BitmapBlockSize));
                SetEntry(index, 0);
            }
            // The parent was usually just changed by a commit: point the linkage at its data as it is now.
            if (_metadata.ParentLocator is { } locator && _parent is VhdxImage parent && TryReadDataWriteGuid(parent.Path) is { } now
                && !locator.Linkages().Contains(now))
            {
                var entries = locator.Entries.Where(e => e.Key != VhdxParentLocator.ParentLinkage).Prepend(new(VhdxParentLocator.ParentLinkage, now.ToString("B")));
                _metadata.SetParent(new VhdxParentLocator(locator.Type, entries));
                CommitMetadata();
                _linkageMatches = true;
            }
            else if (HasPending) Commit();
            lock (_metaLock) _bitmapPages.Clear();
        }
    }

    /// <summary>Makes sure the in-memory BAT (and the BAT region) hold <paramref name="entries"/> entries. Caller holds the allocation lock.</summary>
    private void EnsureBatEntries(long entries)
    {
        if (entries <= _bat.Length) return;
        long wanted = AlignUp(entries, LogSectorSize / 8);
        if (wanted * 8 > _batRegion.Length) RelocateBat(wanted);
        var bat = new ulong[Math.Min(_batRegion.Length / 8, wanted)];
        var raw = new byte[(bat.Length - _bat.Length) * 8];
        _file.Read(_batRegion.FileOffset + _bat.Length * 8L, raw);
        _bat.CopyTo(bat, 0);
        for (long i = _bat.Length; i < bat.Length; i++) bat[i] = BinaryPrimitives.ReadUInt64LittleEndian(raw.AsSpan((int)((i - _bat.Length) * 8)));
        lock (_metaLock) Volatile.Write(ref _bat, bat);
    }
}
