using System.Buffers.Binary;
using static Discemu.Formats.Vmdk.VmdkConstants;

namespace Discemu.Formats.Vmdk;

internal sealed partial class SparseExtent
{
    /// <summary>What an interval of the file holds, for the overlap test.</summary>
    private enum Holder : byte { Metadata, Grain }

    /// <summary>
    /// Checks the extent like <c>qemu-img check</c> does for VMDK, and more: every grain table lies in
    /// the file, every grain lies in the file (qemu's "points after EOF"), compressed grains carry the
    /// right LBA, no grain overlaps another grain or the metadata, and the redundant directory and
    /// tables agree with the primary ones. With <paramref name="repair"/>, entries pointing outside the
    /// file are dropped and the redundant copies are rewritten from the primary ones.
    /// </summary>
    /// <param name="result">Counters and messages to add to.</param>
    /// <param name="repair">What may be repaired (the extent must be writable for anything but None).</param>
    /// <param name="baseSector">The extent's first guest sector in the disk (for messages).</param>
    public void Check(ImageCheckResult result, CheckRepair repair, long baseSector)
    {
        bool fix = (repair & CheckRepair.All) == CheckRepair.All && _writable; // VMDK has no leaks to repair: only -r all changes anything
        lock (_lock)
        {
            long fileLength = _file.Length;
            long fileSectors = (fileLength + Sector - 1) / Sector;
            var intervals = new List<ulong>();
            bool tooMany = false;
            void Add(long startSector, long sectors, Holder holder)
            {
                if (sectors <= 0 || tooMany) return;
                if (intervals.Count > fileSectors + 16)
                {
                    tooMany = true;
                    result.Corruptions++;
                    result.Messages.Add($"ERROR: {Path}: more grains are referenced than the file can hold; grains are shared or overlap.");
                    return;
                }
                // start sector (≤ 2^43) in the high bits, length (≤ 2^20 sectors) and holder in the low bits.
                intervals.Add(((ulong)Math.Min(startSector, (1L << 42) - 1) << 21) | ((ulong)Math.Min(sectors, (1 << 20) - 1) << 1) | (byte)holder);
            }

            Add(0, 1, Holder.Metadata);
            if (Header.DescriptorOffset != 0) Add((long)Header.DescriptorOffset, (long)Header.DescriptorSectors, Holder.Metadata);
            long gdSectors = Header.GdBytes / Sector, gtSectors = Header.GtBytes / Sector;
            Add((long)Header.GdOffset, gdSectors, Holder.Metadata);
            if (_rgd is not null) Add((long)Header.RgdOffset, gdSectors, Holder.Metadata);
            else if (Header.HasRedundantGd && !Header.HasMarkers)
            {
                result.Corruptions++;
                result.Messages.Add($"ERROR: {Path}: the redundant grain directory is missing or lies outside the file.");
            }

            long gtes = Header.GtesPerGt;
            for (long i = 0; i < _gd.Length; i++)
            {
                if (_rgd is not null && (_gd[i] == 0) != (_rgd[i] == 0))
                {
                    result.Corruptions++;
                    result.Messages.Add($"ERROR: {Path}: grain directory entry {i} and its redundant copy disagree.");
                }
                if (_gd[i] == 0) continue;
                long gtOffset = (long)_gd[i] * Sector;
                if (gtOffset + Header.GtBytes > fileLength)
                {
                    result.Corruptions++;
                    result.Messages.Add($"ERROR: {Path}: grain table {i} (sector {_gd[i]}) lies outside the file.");
                    continue;
                }
                Add(_gd[i], gtSectors, Holder.Metadata);
                var table = ReadGt(_gd[i], i);
                uint[]? redundant = null;
                if (_rgd is not null && _rgd[i] != 0)
                {
                    if ((long)_rgd[i] * Sector + Header.GtBytes > fileLength)
                    {
                        result.Corruptions++;
                        result.Messages.Add($"ERROR: {Path}: redundant grain table {i} (sector {_rgd[i]}) lies outside the file.");
                    }
                    else
                    {
                        Add(_rgd[i], gtSectors, Holder.Metadata);
                        redundant = ReadGt(_rgd[i], i);
                    }
                }
                bool changed = false;
                for (long j = 0; j < gtes; j++)
                {
                    uint e = table[j];
                    long grain = i * gtes + j;
                    if (e == 0 || (e == ZeroedGrainEntry && Header.ZeroedGrains)) continue;
                    long sectors = GrainExtent(e, grain, fileLength, result, baseSector);
                    if (sectors < 0)
                    {
                        if (fix) { table[j] = 0; changed = true; result.CorruptionsFixed++; }
                        continue;
                    }
                    Add(e, sectors, Holder.Grain);
                }
                if (redundant is not null)
                {
                    int differ = 0;
                    for (long j = 0; j < gtes; j++) if (redundant[j] != table[j]) differ++;
                    if (differ > 0 && !changed)
                    {
                        result.Corruptions++;
                        result.Messages.Add($"ERROR: {Path}: grain table {i} and its redundant copy differ in {differ} entries.");
                        if (fix) { changed = true; result.CorruptionsFixed++; }
                    }
                }
                if (changed) RewriteGt(i, table);
            }
            FindOverlaps(intervals, result, baseSector);
            if (fix)
            {
                _gtCache.Clear();
                _file.Flush();
            }
        }
    }

    /// <summary>Sectors grain <paramref name="grain"/> occupies at sector <paramref name="entry"/>, or -1 (reported) when it is invalid.</summary>
    private long GrainExtent(uint entry, long grain, long fileLength, ImageCheckResult result, long baseSector)
    {
        long host = (long)entry * Sector;
        long guestSector = baseSector + grain * (long)Header.GrainSectors;
        long sectors = (long)Header.GrainSectors;
        if (Header.Compressed)
        {
            if (Header.HasMarkers)
            {
                if (host + GrainMarkerHeader > fileLength)
                {
                    result.Corruptions++;
                    result.Messages.Add($"ERROR: cluster offset for sector {guestSector} points after EOF");
                    return -1;
                }
                Span<byte> head = stackalloc byte[16];
                VmdkIO.ReadClamped(_file, host, head);
                var marker = VmdkMarker.Read(head, Path);
                if (!marker.IsGrain || marker.Value != (ulong)(grain * (long)Header.GrainSectors))
                {
                    result.Corruptions++;
                    result.Messages.Add($"ERROR: the grain marker for sector {guestSector} is missing or names another sector.");
                    return -1;
                }
                sectors = VmdkMarker.GrainSectors(marker.Size);
            }
            else sectors = 1;
        }
        if (host + sectors * Sector > fileLength + (Header.Compressed ? Sector - 1 : 0))
        {
            result.Corruptions++;
            result.Messages.Add($"ERROR: cluster offset for sector {guestSector} points after EOF");
            return -1;
        }
        return sectors;
    }

    /// <summary>Sorts the intervals and reports each one that starts before the previous one ends.</summary>
    private void FindOverlaps(List<ulong> intervals, ImageCheckResult result, long baseSector)
    {
        intervals.Sort();
        long end = 0;
        int reported = 0, overlaps = 0;
        foreach (ulong v in intervals)
        {
            long start = (long)(v >> 21), length = (long)((v >> 1) & ((1 << 20) - 1));
            if (start < end)
            {
                overlaps++;
                if (reported++ < 20)
                    result.Messages.Add($"ERROR: {Path}: {((v & 1) != 0 ? "a grain" : "metadata")} at sector {start} overlaps other data.");
            }
            end = Math.Max(end, start + length);
        }
        if (overlaps > 0)
        {
            result.Corruptions += overlaps;
            if (reported > 20) result.Messages.Add($"ERROR: {Path}: {overlaps - 20} more overlaps.");
        }
    }

    /// <summary>Writes a repaired grain table and its redundant copy.</summary>
    private void RewriteGt(long gdIndex, uint[] table)
    {
        var raw = new byte[Header.GtBytes];
        for (int i = 0; i < table.Length; i++) BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(i * 4), table[i]);
        _file.Write((long)_gd[gdIndex] * Sector, raw);
        if (_rgd is not null && _rgd[gdIndex] != 0) _file.Write((long)_rgd[gdIndex] * Sector, raw);
    }
}
