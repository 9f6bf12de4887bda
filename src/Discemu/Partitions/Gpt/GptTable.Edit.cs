namespace Discemu.Partitions.Gpt;

public sealed partial class GptTable
{
    /// <inheritdoc/>
    public override Partition Add(PartitionSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Logical) throw new BadArgumentException("GPT disks have no logical partitions (a GPT holds up to its entry count of partitions directly).", Path);
        var type = GuidType(spec.Type);
        string name = GptEntry.CheckName(spec.Name ?? "", Path);
        int slot;
        if (spec.Number is { } n)
        {
            if (n < 1 || n > _entries.Length) throw new BadArgumentException($"Partition numbers of this GPT are 1-{_entries.Length}, not {n}.", Path);
            if (_entries[n - 1].IsUsed) throw new BadArgumentException($"Partition {n} already exists.", Path);
            slot = n - 1;
        }
        else
        {
            slot = Array.FindIndex(_entries, e => !e.IsUsed);
            if (slot < 0) throw new BadArgumentException($"All {_entries.Length} partition entries of the GPT are used.", Path);
        }
        var used = Partitions.Select(p => (p.Start, p.End));
        var (start, end, _) = PartitionPlacer.Place(spec, used, UsableStart, UsableEnd, Alignment, SectorSize, Path);
        ulong attributes = spec.Attributes | (spec.Bootable ? GptAttributes.LegacyBiosBootable : 0);
        _entries[slot] = new GptEntry(type, spec.UniqueId ?? Guid.NewGuid(), (ulong)(start / SectorSize), (ulong)(end / SectorSize - 1), attributes, name);
        Commit();
        return Get(slot + 1);
    }

    /// <inheritdoc/>
    public override void Remove(int number)
    {
        Get(number);
        _entries[number - 1] = default;
        _array.AsSpan((number - 1) * (int)_header.EntrySize, (int)_header.EntrySize).Clear();
        Commit();
    }

    /// <inheritdoc/>
    public override Partition Update(int number, PartitionUpdate update)
    {
        ArgumentNullException.ThrowIfNull(update);
        Get(number);
        var e = _entries[number - 1];
        if (update.Type is { } t) e = e with { Type = GuidType(t) };
        if (update.Name is { } name) e = e with { Name = GptEntry.CheckName(name, Path) };
        if (update.Attributes is { } attributes) e = e with { Attributes = attributes };
        if (update.Bootable is { } boot)
            e = e with { Attributes = boot ? e.Attributes | GptAttributes.LegacyBiosBootable : e.Attributes & ~GptAttributes.LegacyBiosBootable };
        if (update.UniqueId is { } id) e = e with { Unique = id };
        _entries[number - 1] = e;
        Commit();
        return Get(number);
    }

    private Guid GuidType(PartitionType type)
        => type.Guid is { } g && g != Guid.Empty ? g : throw new BadArgumentException($"Type {type} is not a GPT partition type GUID.", Path);
}
