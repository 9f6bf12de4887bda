namespace Discemu.FileSystems.Fat;

/// <summary>One live entry of a directory as parsed.</summary>
internal sealed class DirItem
{
    public required FatEntry Entry { get; init; }
    public string? LongName { get; init; }
    public required string ShortKey { get; init; }
}

/// <summary>
/// A directory's bytes and parsed entries, with where each of its clusters is. The items are kept in slot order
/// and indexed by name (long names and 8.3 names, ignoring case), so finding a name or checking a clash does not
/// scan the directory; a directory holding two names equal but for case (a damaged or foreign one) is scanned.
/// </summary>
internal sealed class DirData
{
    private readonly List<DirItem> _items = [];
    private readonly Dictionary<string, DirItem> _byName = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, DirItem> _byShortName = new(StringComparer.OrdinalIgnoreCase);
    private bool _ambiguous;

    public required uint FirstCluster { get; init; }
    public required List<uint> Clusters { get; init; }
    /// <summary>The directory's bytes; past <see cref="Length"/> the array is spare capacity (zeros) for growing.</summary>
    public required byte[] Bytes { get; set; }

    /// <summary>The directory's length in bytes (its clusters, or the fixed root's size).</summary>
    public required int Length { get; set; }

    /// <summary>The live entries in slot order.</summary>
    public IReadOnlyList<DirItem> Items => _items;

    /// <summary>Every 8.3 name in use (dot entries included), as <see cref="ShortNames.Key"/> strings.</summary>
    public HashSet<string> ShortKeys { get; } = new(StringComparer.Ordinal);

    /// <summary>Per alias basis (its padded key), a tail number N such that every "~n" alias with n &lt; N is taken.</summary>
    public Dictionary<string, int> AliasTails { get; } = new(StringComparer.Ordinal);

    /// <summary>A slot such that every slot before it holds an entry (none is free, deleted or the end marker).</summary>
    public int FreeScanStart { get; set; }

    public int VolumeLabelSlot { get; set; } = -1;

    /// <summary>Runs of slots (first, count) changed in memory and not yet written (write-back mode), or null.</summary>
    public List<(int First, int Count)>? DirtySlots { get; set; }

    /// <summary>Forgets the parsed entries and every hint derived from them (before a re-parse).</summary>
    public void Reset()
    {
        _items.Clear();
        _byName.Clear();
        _byShortName.Clear();
        _ambiguous = false;
        ShortKeys.Clear();
        AliasTails.Clear();
        FreeScanStart = 0;
        VolumeLabelSlot = -1;
    }

    /// <summary>Adds an item past every item held (parsing goes in slot order), or at its place in slot order.</summary>
    public void Add(DirItem item)
    {
        int at = _items.Count;
        if (at > 0 && _items[at - 1].Entry.ShortSlot > item.Entry.ShortSlot) at = ~Search(item.Entry.ShortSlot);
        _items.Insert(at, item);
        // The index keeps the first item (in slot order) of each name; a duplicate makes lookups scan instead.
        if (!_byName.TryAdd(item.Entry.Name, item) | !_byShortName.TryAdd(item.Entry.ShortName, item)) _ambiguous = true;
    }

    /// <summary>Replaces the item at the same slot by <paramref name="item"/>, whose names are unchanged.</summary>
    public void Replace(int index, DirItem item)
    {
        var old = _items[index];
        _items[index] = item;
        if (_byName.TryGetValue(old.Entry.Name, out var n) && ReferenceEquals(n, old)) _byName[old.Entry.Name] = item;
        if (_byShortName.TryGetValue(old.Entry.ShortName, out var s) && ReferenceEquals(s, old)) _byShortName[old.Entry.ShortName] = item;
    }

    /// <summary>The index of the item whose short entry is at <paramref name="slot"/>, or -1.</summary>
    public int IndexOfSlot(int slot)
    {
        int i = Search(slot);
        return i >= 0 ? i : -1;
    }

    /// <summary>The item whose short entry is at <paramref name="slot"/>.</summary>
    /// <exception cref="InvalidOperationException">No item is there.</exception>
    public DirItem AtSlot(int slot)
    {
        int i = Search(slot);
        return i >= 0 ? _items[i] : throw new InvalidOperationException($"No directory entry at slot {slot}.");
    }

    /// <summary>The entry called <paramref name="name"/>: the exact long name, then ignoring case, then the 8.3 name.</summary>
    public DirItem? Find(string name)
    {
        if (_ambiguous)
        {
            return _items.FirstOrDefault(i => string.Equals(i.Entry.Name, name, StringComparison.Ordinal))
                   ?? _items.FirstOrDefault(i => string.Equals(i.Entry.Name, name, StringComparison.OrdinalIgnoreCase))
                   ?? _items.FirstOrDefault(i => string.Equals(i.Entry.ShortName, name, StringComparison.OrdinalIgnoreCase));
        }
        // Names are unique ignoring case here, so the exact match, if any, is the case-insensitive one.
        return _byName.TryGetValue(name, out var item) ? item : _byShortName.GetValueOrDefault(name);
    }

    /// <summary>True when an item other than <paramref name="ignore"/> has the 8.3 name <paramref name="name"/> (ignoring case).</summary>
    public bool HasShortName(string name, DirItem? ignore)
    {
        if (_ambiguous) return _items.Any(i => !ReferenceEquals(i, ignore) && string.Equals(i.Entry.ShortName, name, StringComparison.OrdinalIgnoreCase));
        return _byShortName.TryGetValue(name, out var item) && !ReferenceEquals(item, ignore);
    }

    /// <summary>Extends the directory in memory by <paramref name="bytes"/> zero bytes, doubling the array when it is full.</summary>
    public void Grow(int bytes, int maxLength)
    {
        int length = checked(Length + bytes);
        if (length > Bytes.Length)
        {
            var grown = new byte[Math.Max(length, Math.Min(maxLength, 2 * Bytes.Length))];
            Bytes.AsSpan(0, Length).CopyTo(grown);
            Bytes = grown;
        }
        else Bytes.AsSpan(Length, bytes).Clear();
        Length = length;
    }

    /// <summary>Binary search by short-entry slot: the index, or the complement of where it would go.</summary>
    private int Search(int slot)
    {
        int lo = 0, hi = _items.Count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            int s = _items[mid].Entry.ShortSlot;
            if (s == slot) return mid;
            if (s < slot) lo = mid + 1;
            else hi = mid - 1;
        }
        return ~lo;
    }
}
