using System.Buffers.Binary;
using static Discemu.Formats.Vhd.VhdConstants;

namespace Discemu.Formats.Vhd;

public sealed partial class VhdSparseImage
{
    /// <inheritdoc/>
    /// <remarks>
    /// Growing may enlarge the block allocation table in place (when the space after it is free) or move it to
    /// the end of the file. Shrinking drops the blocks past the new end. Either way, what the disk did not show
    /// before reads as zeros afterwards, also over a parent. Not to be called while other threads do I/O.
    /// </remarks>
    /// <exception cref="BadArgumentException">The size is not a multiple of 512 or larger than 2040 GiB.</exception>
    protected override void ResizeCore(long newLength)
    {
        if (newLength % SectorSize != 0) throw new BadArgumentException($"The size {newLength} is not a multiple of 512 bytes.", Path);
        if (newLength > MaxVirtualSize) throw new BadArgumentException("The image size is too large for file format 'vpc' (at most 2040 GiB).", Path);
        long oldLength = Length;
        if (newLength == oldLength) return;
        if (newLength < oldLength) DropBeyond(newLength, oldLength);
        lock (_lock)
        {
            WriteDirtyBitmaps();
            long needed = (newLength + _blockSize - 1) >> _blockBits;
            if (needed > _bat.Length) GrowTable((int)needed);
            WriteFooters(_footer.WithSize(newLength));
            Volatile.Write(ref _size, newLength);
        }
        if (newLength > oldLength) ZeroGrown(oldLength, newLength);
    }

    /// <summary>Unallocates the blocks wholly past <paramref name="newLength"/>, clears the cut part of the last one, and gives trailing space back.</summary>
    private void DropBeyond(long newLength, long oldLength)
    {
        long firstDropped = (newLength + _blockSize - 1) >> _blockBits;
        long partialEnd = Math.Min(oldLength, firstDropped << _blockBits);
        if (partialEnd > newLength) ZeroRange(newLength, partialEnd - newLength, unmap: true);
        lock (_lock)
        {
            Span<byte> e = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(e, Unallocated);
            for (long b = firstDropped; b < _bat.Length; b++)
            {
                uint entry = _bat[b];
                if (entry == Unallocated) continue;
                File.Write(_header.TableOffset + b * 4, e);
                Volatile.Write(ref _bat[b], Unallocated);
                _bitmaps.Remove(b);
                _dirtyBitmaps.Remove(b);
                VhdImageInfo.ZeroHost(File, entry * (long)SectorSize, _bitmapSize + (long)_blockSize, punch: true);
            }
            TrimTail();
        }
    }

    /// <summary>Moves the footer back over unused space at the end of the file and cuts the file there. Caller holds the lock.</summary>
    private void TrimTail()
    {
        long used = UsedEnd(File.Length);
        if (used >= _nextFree) return;
        _nextFree = used;
        WriteTailFooter();
        File.Resize(_nextFree + FooterSize);
    }

    /// <summary>
    /// Makes the grown range read as zeros: the cut tail of the old last block, blocks this file still maps,
    /// and (differencing) whatever the parent would show through. Past the parent's end, unmapped blocks
    /// already read as zeros.
    /// </summary>
    private void ZeroGrown(long oldLength, long newLength)
    {
        long oldBlockEnd = Math.Min(newLength, ((oldLength + _blockSize - 1) >> _blockBits) << _blockBits);
        if (oldBlockEnd > oldLength) ZeroRange(oldLength, oldBlockEnd - oldLength, unmap: true);
        long showsThrough = IsDifferencing ? Math.Min(newLength, ParentLength() ?? 0) : 0;
        for (long pos = oldBlockEnd; pos < newLength;)
        {
            long block = pos >> _blockBits;
            long end = Math.Min(newLength, (block + 1) << _blockBits);
            if (Volatile.Read(ref _bat[block]) != Unallocated || pos < showsThrough)
                ZeroRange(pos, (IsDifferencing && Volatile.Read(ref _bat[block]) == Unallocated ? Math.Min(end, showsThrough) : end) - pos, unmap: true);
            pos = end;
        }
    }

    /// <summary>The parent's size: the opened parent's, else read from its file; null when it cannot be opened.</summary>
    private long? ParentLength()
    {
        if (_backing is not null) return _backing.Length;
        if (_backingName is null) return null;
        try
        {
            using var parent = _opener.Open(ResolveRelative(Path, _backingName), new ImageOpenOptions { OpenBacking = false });
            return parent.Length;
        }
        catch (DiscemuException) { return null; }
    }

    /// <summary>Makes room for <paramref name="entries"/> BAT entries: in place when the space after the table is free, else in a new table at the end of the file. Caller holds the lock.</summary>
    private void GrowTable(int entries)
    {
        var h = _header;
        long oldEntries = _bat.Length;
        long tableEnd = h.TableOffset + entries * 4L;
        bool fits = tableEnd <= _nextFree && !OverlapsAnything(h.TableOffset + oldEntries * 4, tableEnd);
        var bat = new uint[entries];
        _bat.CopyTo(bat, 0);
        Array.Fill(bat, Unallocated, _bat.Length, entries - _bat.Length);
        long tableOffset = h.TableOffset;
        if (fits)
        {
            var raw = new byte[(entries - oldEntries) * 4];
            raw.AsSpan().Fill(0xFF);
            File.Write(h.TableOffset + oldEntries * 4, raw);
        }
        else
        {
            var raw = new byte[RoundUp(entries * 4L)];
            raw.AsSpan().Fill(0xFF);
            for (int i = 0; i < bat.Length; i++) BinaryPrimitives.WriteUInt32BigEndian(raw.AsSpan(i * 4), bat[i]);
            tableOffset = Reserve(raw.Length, forBlock: false);
            File.Write(tableOffset, raw);
            WriteTailFooter();
        }
        WriteHeader(h with { TableOffset = tableOffset, MaxTableEntries = (uint)entries });
        _bat = bat;
    }

    /// <summary>True when [<paramref name="from"/>, <paramref name="to"/>) meets the header, a block or locator data.</summary>
    private bool OverlapsAnything(long from, long to)
    {
        if (from < _headerOffset + DynamicHeaderSize && _headerOffset < to) return true;
        foreach (var l in _header.Locators)
            if (l.InUse && l.DataOffset < to && l.DataOffset + Math.Max(l.DataLength, 1) > from) return true;
        long slot = _bitmapSize + (long)_blockSize;
        foreach (uint e in _bat)
        {
            if (e == Unallocated) continue;
            long start = e * (long)SectorSize;
            if (start < to && start + slot > from) return true;
        }
        return false;
    }

    /// <summary>Drops every block of this file, so the whole disk reads from the parent (or as zeros), and gives the space back. Not to be called during other I/O.</summary>
    /// <exception cref="NotSupportedException">The image is read-only.</exception>
    public void MakeEmpty()
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if (!CanWrite) throw new NotSupportedException("The device is read-only.");
        lock (_lock)
        {
            _bitmaps.Clear();
            _dirtyBitmaps.Clear();
            Array.Fill(_bat, Unallocated);
            var raw = new byte[_bat.Length * 4L];
            raw.AsSpan().Fill(0xFF);
            File.Write(_header.TableOffset, raw);
            File.Flush();
            // The table no longer names any block: the footer moves back over them and the file is cut.
            long used = UsedEnd(File.Length);
            _nextFree = used;
            WriteTailFooter();
            File.Resize(_nextFree + FooterSize);
            File.Flush();
        }
    }
}
