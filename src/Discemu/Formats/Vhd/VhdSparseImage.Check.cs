using static Discemu.Formats.Vhd.VhdConstants;

namespace Discemu.Formats.Vhd;

public sealed partial class VhdSparseImage
{
    /// <summary>
    /// A structural check (qemu-img has none for VHD): both footers intact and identical, every BAT entry
    /// inside the file and clear of the metadata, no two blocks overlapping, and no unused space left at the
    /// end of the file. With <see cref="CheckRepair.All"/> damaged footers are rewritten, blocks outside the
    /// file are dropped and blocks cut short are completed with zeros; with <see cref="CheckRepair.Leaks"/>
    /// unused space at the end is given back.
    /// </summary>
    /// <exception cref="NotSupportedException">A repair was asked for on an image opened read-only.</exception>
    public ImageCheckResult Check(CheckRepair repair)
    {
        if (repair != CheckRepair.None && !CanWrite) throw new NotSupportedException("Repairing needs the image opened for writing.");
        var result = new ImageCheckResult();
        lock (_lock)
        {
            if (CanWrite) WriteBackMetadata();
            CheckFooters(result, repair);
            CheckBlocks(result, repair);
            CheckTail(result, repair);
        }
        return result;
    }

    private void CheckFooters(ImageCheckResult result, CheckRepair repair)
    {
        long fileLength = File.Length;
        var head = new byte[FooterSize];
        var tail = new byte[FooterSize];
        ReadHost(0, head);
        ReadHost(Math.Max(0, fileLength - FooterSize), tail);
        var expected = _footer.ToBytes();
        string? problem = null;
        if (!VhdFooter.HasCookie(tail) || !VhdFooter.ChecksumMatches(tail)) problem = "ERROR the footer at the end of the file is missing or damaged";
        else if (!VhdFooter.HasCookie(head) || !VhdFooter.ChecksumMatches(head)) problem = "ERROR the footer copy at offset 0 is damaged";
        else if (!head.AsSpan().SequenceEqual(tail)) problem = "ERROR the footer copy at offset 0 differs from the footer at the end of the file";
        else if (!tail.AsSpan().SequenceEqual(expected)) problem = "ERROR the footers differ from the one in use";
        if (problem is null) return;
        result.Messages.Add(problem);
        if ((repair & CheckRepair.All) == CheckRepair.All)
        {
            _headDirty = true;
            WriteTailFooter();
            if (_nextFree + FooterSize < File.Length) File.Resize(_nextFree + FooterSize);
            File.Flush();
            result.CorruptionsFixed++;
        }
        else result.Corruptions++;
    }

    private void CheckBlocks(ImageCheckResult result, CheckRepair repair)
    {
        var h = _header;
        long fileLength = File.Length;
        long slot = _bitmapSize + (long)_blockSize;
        var metadata = new List<(long Start, long End, string What)>
        {
            (0, FooterSize, "footer copy"),
            (_headerOffset, _headerOffset + DynamicHeaderSize, "dynamic disk header"),
            (h.TableOffset, h.TableOffset + _bat.Length * 4L, "block allocation table"),
        };
        if (IsDifferencing)
            foreach (var l in h.Locators)
                if (l.InUse && l.DataOffset >= 0) metadata.Add((l.DataOffset, l.DataOffset + l.DataLength, $"{FourCC(l.PlatformCode)} parent locator"));
        long totalBlocks = (_size + _blockSize - 1) >> _blockBits;
        long allocated = 0, fragmented = 0, previousEnd = -1;
        var blocks = new List<(long Start, long Block)>();
        bool fixedSomething = false;
        for (long b = 0; b < _bat.Length; b++)
        {
            uint entry = _bat[b];
            if (entry == Unallocated) continue;
            long start = entry * (long)SectorSize, end = start + slot;
            if (start < FooterSize || start + _bitmapSize > fileLength)
            {
                result.Messages.Add($"ERROR block {b} points outside the file (sector {entry})");
                if ((repair & CheckRepair.All) == CheckRepair.All)
                {
                    File.Write(h.TableOffset + b * 4, [0xFF, 0xFF, 0xFF, 0xFF]);
                    _bat[b] = Unallocated;
                    _bitmaps.Remove(b);
                    result.CorruptionsFixed++;
                    fixedSomething = true;
                }
                else result.Corruptions++;
                continue;
            }
            if (end > fileLength - FooterSize)
            {
                result.Messages.Add($"ERROR block {b} (offset {start}) runs past the end of the data in the file");
                if ((repair & CheckRepair.All) == CheckRepair.All)
                {
                    _nextFree = Math.Max(_nextFree, end);
                    WriteTailFooter();
                    result.CorruptionsFixed++;
                    fixedSomething = true;
                }
                else result.Corruptions++;
            }
            foreach (var (mStart, mEnd, what) in metadata)
            {
                if (start < mEnd && mStart < end)
                {
                    result.Messages.Add($"ERROR block {b} (offset {start}) overlaps the {what}");
                    result.Corruptions++;
                }
            }
            blocks.Add((start, b));
            if (b < totalBlocks)
            {
                allocated++;
                if (previousEnd >= 0 && start != previousEnd) fragmented++;
                previousEnd = end;
            }
        }
        blocks.Sort();
        for (int i = 1; i < blocks.Count; i++)
        {
            if (blocks[i].Start < blocks[i - 1].Start + slot)
            {
                result.Messages.Add($"ERROR blocks {blocks[i - 1].Block} and {blocks[i].Block} overlap (offsets {blocks[i - 1].Start} and {blocks[i].Start})");
                result.Corruptions++;
            }
        }
        if (fixedSomething) File.Flush();
        result.TotalClusters = totalBlocks;
        result.AllocatedClusters = allocated;
        result.FragmentedClusters = fragmented;
    }

    /// <summary>Space of a block or more between the last structure and the footer is a leak (a block appended by a write that was cut short).</summary>
    private void CheckTail(ImageCheckResult result, CheckRepair repair)
    {
        long used = UsedEnd(File.Length);
        long footerAt = File.Length - FooterSize;
        result.ImageEndOffset = used + FooterSize;
        // Less than a block is padding (Windows puts the footer where the next block's data would start on a 4 KiB boundary).
        long slot = _bitmapSize + (long)_blockSize;
        if (footerAt - used < slot) return;
        long leakedBlocks = (footerAt - used) / slot;
        result.Messages.Add($"Leaked space: {footerAt - used} bytes after the last block");
        if ((repair & CheckRepair.Leaks) != 0)
        {
            _nextFree = used;
            WriteTailFooter();
            File.Resize(used + FooterSize);
            File.Flush();
            result.LeaksFixed += (int)leakedBlocks;
        }
        else result.Leaks += (int)leakedBlocks;
    }
}
