namespace Discemu.Partitions;

/// <summary>Chooses where a new partition goes: inside an area, clear of used ranges, aligned by default.</summary>
internal static class PartitionPlacer
{
    /// <summary>The free ranges of [<paramref name="areaStart"/>, <paramref name="areaEnd"/>) not covered by <paramref name="used"/>.</summary>
    public static List<(long Start, long End)> Free(IEnumerable<(long Start, long End)> used, long areaStart, long areaEnd)
    {
        var free = new List<(long, long)>();
        long pos = areaStart;
        foreach (var (s, e) in used.Where(u => u.End > u.Start).OrderBy(u => u.Start))
        {
            if (e <= pos) continue;
            if (s >= areaEnd) break;
            if (s > pos) free.Add((pos, s));
            pos = Math.Max(pos, e);
        }
        if (pos < areaEnd) free.Add((pos, areaEnd));
        return free;
    }

    /// <summary>
    /// Places a partition. With a start, it must lie in a free range (at least <paramref name="reserveBefore"/>
    /// bytes past the range's start); without one, the first free range where the aligned start fits is used.
    /// Without a length or end, the partition runs to the end of its free range.
    /// </summary>
    /// <returns>The start, the exclusive end, and the start of the free range chosen.</returns>
    /// <exception cref="BadArgumentException">Unaligned values, no room, or an overlap.</exception>
    public static (long Start, long End, long RangeStart) Place(PartitionSpec spec, IEnumerable<(long Start, long End)> used,
        long areaStart, long areaEnd, long alignment, int sectorSize, string? path, long reserveBefore = 0)
    {
        if (spec.Length is not null && spec.End is not null) throw new BadArgumentException("Give a size or an end, not both.", path);
        CheckMultiple(spec.Start, "start", sectorSize, path);
        CheckMultiple(spec.Length, "size", sectorSize, path);
        CheckMultiple(spec.End, "end", sectorSize, path);
        if (spec.Length is <= 0) throw new BadArgumentException("The partition size must be positive.", path);
        if (areaEnd <= areaStart) throw new BadArgumentException("The disk has no usable space for partitions.", path);
        var free = Free(used, areaStart, areaEnd);
        if (spec.Start is { } start)
        {
            var range = free.FirstOrDefault(r => start >= r.Start && start < r.End);
            if (range == default)
                throw new BadArgumentException(start < areaStart || start >= areaEnd
                    ? $"Start {start} is outside the usable area [{areaStart}, {areaEnd})."
                    : $"Start {start} is inside an existing partition.", path);
            if (start - range.Start < reserveBefore)
                throw new BadArgumentException($"Start {start} leaves no room for the partition's EBR sector before it (free space begins at {range.Start}).", path);
            long end = EndFor(spec, start, range.End, alignment, path);
            if (end > range.End)
                throw new BadArgumentException(range.End == areaEnd
                    ? $"The partition would end at {end}, past the end of the usable area ({areaEnd})."
                    : $"The partition would end at {end}, overlapping the partition that starts at {range.End}.", path);
            return (start, end, range.Start);
        }
        foreach (var range in free)
        {
            long s = AlignUp(range.Start + reserveBefore, alignment);
            if (s >= range.End) continue;
            if (spec.End is { } e && (e <= s || e > range.End)) continue;
            long end = EndFor(spec, s, range.End, alignment, path);
            if (end <= range.End) return (s, end, range.Start);
        }
        throw new BadArgumentException(spec.Length is { } len
            ? $"No free space of {len} bytes (aligned to {alignment}) is left."
            : spec.End is { } end2 ? $"No free space ends at or after {end2} with an aligned start before it." : "No free space is left.", path);
    }

    private static long EndFor(PartitionSpec spec, long start, long rangeEnd, long alignment, string? path)
    {
        long end;
        if (spec.Length is { } len)
        {
            if (len > long.MaxValue - start) throw new BadArgumentException($"Size {len} is too large.", path);
            end = start + len;
        }
        else if (spec.End is { } e) end = e;
        else
        {
            // The rest of the free range, ending on an alignment boundary when that leaves room (as sfdisk does).
            end = rangeEnd / alignment * alignment;
            if (end <= start) end = rangeEnd;
        }
        if (end <= start) throw new BadArgumentException($"The end ({end}) must be after the start ({start}).", path);
        return end;
    }

    private static void CheckMultiple(long? value, string what, int sectorSize, string? path)
    {
        if (value is { } v && (v < 0 || v % sectorSize != 0))
            throw new BadArgumentException($"The {what} ({v}) must be a non-negative multiple of the sector size ({sectorSize}).", path);
    }

    /// <summary>Rounds up to a multiple of <paramref name="alignment"/> (saturating).</summary>
    public static long AlignUp(long value, long alignment)
        => value > long.MaxValue - alignment ? long.MaxValue / alignment * alignment : (value + alignment - 1) / alignment * alignment;

    /// <summary>Describes ranges that overlap, as "partitions A and B overlap" lines.</summary>
    public static IEnumerable<string> Overlaps(IReadOnlyList<(string Name, long Start, long End)> ranges)
    {
        var sorted = ranges.Where(r => r.End > r.Start).OrderBy(r => r.Start).ToList();
        for (int i = 0; i < sorted.Count; i++)
            for (int j = i + 1; j < sorted.Count && sorted[j].Start < sorted[i].End; j++)
                yield return $"{sorted[i].Name} and {sorted[j].Name} overlap ({sorted[j].Start}..{Math.Min(sorted[i].End, sorted[j].End)}).";
    }
}
