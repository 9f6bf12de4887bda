using static Discemu.Formats.Vhdx.VhdxConstants;

namespace Discemu.Formats.Vhdx;

public sealed partial class VhdxImage
{
    /// <summary>
    /// Checks the structure: both headers and region tables, the log state, that regions and the log do not
    /// overlap, and that every present block and sector bitmap block lies after the header section, inside
    /// the file, clear of the metadata structures and of each other. With <see cref="CheckRepair.All"/> a bad
    /// header or region table copy is rewritten from the good one and a file too short for its blocks is extended.
    /// </summary>
    public ImageCheckResult Check(CheckRepair repair)
    {
        var result = new ImageCheckResult();
        bool fix = (repair & CheckRepair.All) == CheckRepair.All && _writable;
        lock (_allocLock)
        {
            CheckHeaders(result, fix);
            if (_logState != "clean") result.Messages.Add($"The log was not empty: {_logState}.");
            CheckRegions(result, fix);
            CheckBlocks(result, fix);
        }
        return result;
    }

    private void CheckHeaders(ImageCheckResult result, bool fix)
    {
        if (_otherHeaderProblem is null) return;
        if (fix)
        {
            StartSession(clearLog: !_header.HasLog);
            result.Messages.Add($"Repaired: {_otherHeaderProblem}.");
            result.CorruptionsFixed++;
        }
        else result.Messages.Add($"The non-current {_otherHeaderProblem}; the current header is used.");
    }

    private void CheckRegions(ImageCheckResult result, bool fix)
    {
        var h = _header;
        if (h.LogLength > 0 && h.LogOffset + h.LogLength > _file.Length)
        {
            result.Corruptions++;
            result.Messages.Add("The log lies beyond the end of the file.");
        }
        if (_regionTableProblem is not null)
        {
            if (fix)
            {
                var bytes = _regions.ToBytes();
                StartSession(clearLog: true);
                var pages = new List<(long, byte[])>();
                foreach (long t in new[] { RegionTable1Offset, RegionTable2Offset })
                    for (int p = 0; p < RegionTableSize; p += LogSectorSize) pages.Add((t + p, bytes.AsSpan(p, LogSectorSize).ToArray()));
                for (int i = 0; i < pages.Count; i += Math.Max(1, LogCapacity)) Commit(pages.GetRange(i, Math.Min(LogCapacity, pages.Count - i)));
                result.Messages.Add($"Repaired: {_regionTableProblem}.");
                result.CorruptionsFixed++;
                _regionTableProblem = null;
            }
            else
            {
                result.Corruptions++;
                result.Messages.Add($"ERROR: {_regionTableProblem}.");
            }
        }
    }

    private void CheckBlocks(ImageCheckResult result, bool fix)
    {
        var layout = _layout;
        var extents = new List<(long Offset, long Length, string What)>();
        long allocated = 0, fragmented = 0, previousEnd = -1;
        long fileLength = _file.Length;
        long needed = 0;
        for (long b = 0; b < layout.PayloadBlocks; b++)
        {
            ulong e = _bat[layout.PayloadIndex(b)];
            int state = VhdxLayout.State(e);
            if ((e & ReservedMask) != 0)
            {
                result.Corruptions++;
                result.Messages.Add($"ERROR: BAT entry of block {b} has reserved bits set (0x{e:x16}).");
            }
            if (!VhdxLayout.IsPresent(state)) continue;
            long offset = VhdxLayout.Offset(e);
            allocated++;
            if (previousEnd >= 0 && offset != previousEnd) fragmented++;
            previousEnd = offset + layout.BlockSize;
            extents.Add((offset, layout.BlockSize, $"block {b}"));
            if (state == PayloadPartiallyPresent)
            {
                long index = layout.BitmapIndex(b / layout.ChunkRatio);
                if (index >= _bat.Length || VhdxLayout.State(_bat[index]) != BitmapPresent)
                {
                    result.Corruptions++;
                    result.Messages.Add($"ERROR: block {b} is partially present but its sector bitmap block is not.");
                }
            }
        }
        if (_metadata.HasParent)
        {
            for (long c = 0; c < layout.BitmapBlocks; c++)
            {
                long index = layout.BitmapIndex(c);
                if (index >= _bat.Length || VhdxLayout.State(_bat[index]) != BitmapPresent) continue;
                extents.Add((VhdxLayout.Offset(_bat[index]), BitmapBlockSize, $"sector bitmap block {c}"));
            }
        }
        foreach (var (offset, length, what) in extents)
        {
            needed = Math.Max(needed, offset + length);
            if (OverlapsStructure(offset, length))
            {
                result.Corruptions++;
                result.Messages.Add($"ERROR: {what} at 0x{offset:x} overlaps the header section, the log or a region.");
            }
        }
        extents.Sort((a, b) => a.Offset.CompareTo(b.Offset));
        for (int i = 1; i < extents.Count; i++)
        {
            if (extents[i].Offset < extents[i - 1].Offset + extents[i - 1].Length)
            {
                result.Corruptions++;
                result.Messages.Add($"ERROR: {extents[i - 1].What} and {extents[i].What} overlap at 0x{extents[i].Offset:x}.");
            }
        }
        if (needed > fileLength)
        {
            if (fix)
            {
                StartSession(clearLog: true);
                _file.SetLength(AlignUp(needed, MiB));
                _fileEnd = Math.Max(_fileEnd, AlignUp(needed, MiB));
                result.CorruptionsFixed++;
                result.Messages.Add($"Repaired: the file was extended to {AlignUp(needed, MiB)} bytes to hold every block.");
            }
            else
            {
                result.Corruptions++;
                result.Messages.Add($"ERROR: blocks reach 0x{needed:x}, past the end of the file (0x{fileLength:x}).");
            }
        }
        result.TotalClusters = layout.PayloadBlocks;
        result.AllocatedClusters = allocated;
        result.FragmentedClusters = fragmented;
        result.ImageEndOffset = Math.Max(_file.Length, StructuresEnd());
    }
}
