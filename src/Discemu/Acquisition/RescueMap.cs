namespace Discemu.Acquisition;

/// <summary>
/// The state of every byte of a rescue domain: a list of contiguous, non-overlapping blocks covering
/// <c>[0, Size)</c>, each non-tried, non-trimmed, non-scraped, bad-sector or finished, as in a GNU
/// ddrescue mapfile. Neighbours of equal status are always merged, so the list is as short as it can be.
/// Totals and area counts per status are kept up to date on every change.
/// </summary>
/// <remarks>Not thread-safe: one thread (the rescue engine) owns a map.</remarks>
public sealed class RescueMap
{
    private const int StatusCount = 5;
    private readonly List<RescueBlock> _blocks = [];
    private readonly long[] _totals = new long[StatusCount];
    private readonly int[] _areas = new int[StatusCount];
    private readonly RescueBlock[] _scratch = new RescueBlock[3];

    /// <summary>A map of <paramref name="size"/> bytes, all in <paramref name="status"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is negative.</exception>
    public RescueMap(long size, RescueBlockStatus status = RescueBlockStatus.NonTried)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        Size = size;
        if (size > 0) AddBlock(new RescueBlock(0, size, status));
    }

    /// <summary>The size of the domain in bytes.</summary>
    public long Size { get; private set; }

    /// <summary>The blocks in order of offset.</summary>
    public IReadOnlyList<RescueBlock> Blocks => _blocks;

    /// <summary>Bytes in <paramref name="status"/>.</summary>
    public long TotalOf(RescueBlockStatus status) => _totals[Slot(status)];

    /// <summary>Separate blocks in <paramref name="status"/>.</summary>
    public int AreasOf(RescueBlockStatus status) => _areas[Slot(status)];

    /// <summary>True when every byte is finished.</summary>
    public bool IsComplete => TotalOf(RescueBlockStatus.Finished) == Size;

    /// <summary>Builds a map from a complete list of blocks (contiguous from 0, positive lengths).</summary>
    /// <exception cref="ArgumentException">The blocks leave a gap, overlap or have a non-positive length.</exception>
    public static RescueMap FromBlocks(IEnumerable<RescueBlock> blocks)
    {
        ArgumentNullException.ThrowIfNull(blocks);
        var map = new RescueMap(0);
        long end = 0;
        foreach (var b in blocks)
        {
            if (b.Offset != end || b.Length <= 0 || b.Length > long.MaxValue - b.Offset)
                throw new ArgumentException($"Block {b.Offset}+{b.Length} does not follow the previous block (which ends at {end}).", nameof(blocks));
            if (!RescueStatusChars.IsBlockStatus((char)b.Status)) throw new ArgumentException($"Invalid status {(int)b.Status}.", nameof(blocks));
            if (map._blocks.Count > 0 && map._blocks[^1].Status == b.Status)
            {
                var last = map._blocks[^1];
                map.RemoveAt(map._blocks.Count - 1);
                map.AddBlock(last with { Length = last.Length + b.Length });
            }
            else map.AddBlock(b);
            end = b.End;
        }
        map.Size = end;
        return map;
    }

    /// <summary>A copy of this map.</summary>
    public RescueMap Clone() => FromBlocks(_blocks);

    /// <summary>Grows the domain to <paramref name="size"/> bytes; the new part gets <paramref name="status"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is smaller than the current size.</exception>
    public void Extend(long size, RescueBlockStatus status = RescueBlockStatus.NonTried)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, Size);
        if (size == Size) return;
        long old = Size;
        Size = size;
        if (_blocks.Count > 0 && _blocks[^1].Status == status)
        {
            var last = _blocks[^1];
            RemoveAt(_blocks.Count - 1);
            AddBlock(last with { Length = size - last.Offset });
        }
        else AddBlock(new RescueBlock(old, size - old, status));
    }

    /// <summary>The index of the block holding byte <paramref name="offset"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="offset"/> is outside the domain.</exception>
    public int IndexAt(long offset)
    {
        if ((ulong)offset >= (ulong)Size) throw new ArgumentOutOfRangeException(nameof(offset), $"Offset {offset} is outside the map ({Size} bytes).");
        int lo = 0, hi = _blocks.Count - 1;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) >>> 1;
            if (_blocks[mid].Offset <= offset) lo = mid;
            else hi = mid - 1;
        }
        return lo;
    }

    /// <summary>The status of byte <paramref name="offset"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="offset"/> is outside the domain.</exception>
    public RescueBlockStatus StatusAt(long offset) => _blocks[IndexAt(offset)].Status;

    /// <summary>
    /// The first part, searching from <paramref name="position"/> in <paramref name="forward"/> direction, of a
    /// block whose status is <paramref name="status"/>: forwards, the block at or after the position (cut to
    /// start there); backwards, the block before it (cut to end there). Null when there is none.
    /// </summary>
    public (long Start, long End)? Next(long position, RescueBlockStatus status, bool forward)
    {
        if (forward)
        {
            if (position >= Size) return null;
            for (int i = IndexAt(Math.Max(position, 0)); i < _blocks.Count; i++)
                if (_blocks[i].Status == status) return (Math.Max(_blocks[i].Offset, position), _blocks[i].End);
            return null;
        }
        if (position <= 0) return null;
        for (int i = IndexAt(Math.Min(position, Size) - 1); i >= 0; i--)
            if (_blocks[i].Status == status) return (_blocks[i].Offset, Math.Min(_blocks[i].End, position));
        return null;
    }

    /// <summary>Marks <c>[offset, offset+length)</c> as <paramref name="status"/>, merging with equal neighbours.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range is outside the domain.</exception>
    public void Set(long offset, long length, RescueBlockStatus status)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (offset > Size || length > Size - offset)
            throw new ArgumentOutOfRangeException(nameof(length), $"Range {offset}+{length} is outside the map ({Size} bytes).");
        if (length == 0) return;
        long end = offset + length;
        int first = IndexAt(offset);
        var a = _blocks[first];
        if (a.Status == status && a.End >= end) return;
        int last = a.End >= end ? first : IndexAt(end - 1);
        var b = _blocks[last];

        int n = 0;
        if (a.Offset < offset) _scratch[n++] = a with { Length = offset - a.Offset };
        _scratch[n++] = new RescueBlock(offset, length, status);
        if (b.End > end) _scratch[n++] = new RescueBlock(end, b.End - end, b.Status);

        // Merge the pieces with each other and with the neighbours outside [first, last].
        int lo = first, hi = last;
        if (lo > 0 && _blocks[lo - 1].Status == _scratch[0].Status)
        {
            lo--;
            _scratch[0] = new RescueBlock(_blocks[lo].Offset, _scratch[0].End - _blocks[lo].Offset, _scratch[0].Status);
        }
        if (hi < _blocks.Count - 1 && _blocks[hi + 1].Status == _scratch[n - 1].Status)
        {
            hi++;
            _scratch[n - 1] = _scratch[n - 1] with { Length = _blocks[hi].End - _scratch[n - 1].Offset };
        }
        int m = 0;
        for (int i = 0; i < n; i++)
        {
            if (m > 0 && _scratch[m - 1].Status == _scratch[i].Status)
                _scratch[m - 1] = _scratch[m - 1] with { Length = _scratch[i].End - _scratch[m - 1].Offset };
            else _scratch[m++] = _scratch[i];
        }
        Replace(lo, hi - lo + 1, m);
    }

    /// <summary>
    /// Joins partial sectors: a sector partly not finished is wholly given the least processed of its
    /// unfinished states, so a rescue working in whole sectors never drops data a partial read recovered
    /// (ddrescue does the same when it loads a mapfile).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="sectorSize"/> is not positive.</exception>
    public void JoinSubsectors(int sectorSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sectorSize);
        if (sectorSize == 1) return;
        var partial = new SortedSet<long>();
        foreach (var block in _blocks)
        {
            if (block.Status == RescueBlockStatus.Finished) continue;
            if (block.Offset % sectorSize != 0) partial.Add(block.Offset / sectorSize * sectorSize);
            if (block.End % sectorSize != 0 && block.End != Size) partial.Add(block.End / sectorSize * sectorSize);
        }
        foreach (long sector in partial)
        {
            long end = Math.Min(sector + sectorSize, Size);
            var least = RescueBlockStatus.Finished;
            for (int i = IndexAt(sector); i < _blocks.Count && _blocks[i].Offset < end; i++)
                if (RescueStatusChars.Progress(_blocks[i].Status) < RescueStatusChars.Progress(least)) least = _blocks[i].Status;
            Set(sector, end - sector, least);
        }
    }

    private void Replace(int index, int removeCount, int newCount)
    {
        for (int i = 0; i < removeCount; i++) Account(_blocks[index + i], -1);
        int common = Math.Min(removeCount, newCount);
        for (int i = 0; i < common; i++) _blocks[index + i] = _scratch[i];
        if (removeCount > newCount) _blocks.RemoveRange(index + newCount, removeCount - newCount);
        else for (int i = common; i < newCount; i++) _blocks.Insert(index + i, _scratch[i]);
        for (int i = 0; i < newCount; i++) Account(_scratch[i], +1);
    }

    private void AddBlock(RescueBlock block)
    {
        _blocks.Add(block);
        Account(block, +1);
    }

    private void RemoveAt(int index)
    {
        Account(_blocks[index], -1);
        _blocks.RemoveAt(index);
    }

    private void Account(RescueBlock block, int sign)
    {
        int slot = Slot(block.Status);
        _totals[slot] += sign * block.Length;
        _areas[slot] += sign;
    }

    private static int Slot(RescueBlockStatus status) => status switch
    {
        RescueBlockStatus.NonTried => 0,
        RescueBlockStatus.NonTrimmed => 1,
        RescueBlockStatus.NonScraped => 2,
        RescueBlockStatus.BadSector => 3,
        RescueBlockStatus.Finished => 4,
        _ => throw new ArgumentOutOfRangeException(nameof(status), $"Invalid rescue status {(int)status}."),
    };
}
