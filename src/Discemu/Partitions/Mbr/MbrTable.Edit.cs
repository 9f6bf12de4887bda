namespace Discemu.Partitions.Mbr;

public sealed partial class MbrTable
{
    /// <inheritdoc/>
    public override Partition Add(PartitionSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        RefuseGptFields(spec.Name, spec.Attributes, spec.UniqueId);
        byte type = MbrType(spec.Type);
        bool extendedType = PartitionTypes.IsExtended(type);
        byte boot = spec.Bootable ? MbrConstants.BootActive : (byte)0;
        int number;
        if (spec.Logical)
        {
            if (extendedType) throw new BadArgumentException("A logical partition cannot be an extended partition.", Path);
            if (spec.Number is not null) throw new BadArgumentException("Logical partitions are numbered in chain order (5 and up); --number applies to primary partitions.", Path);
            int slot = ExtendedSlot ?? throw new BadArgumentException("The disk has no extended partition to hold logical partitions: add one with type 'extended' first.", Path);
            var ext = _primary[slot];
            long extStart = ext.StartLba * (long)SectorSize, extEnd = Math.Min((ext.StartLba + (long)ext.SectorCount) * SectorSize, SectorCount * SectorSize);
            var (start, end, rangeStart) = PartitionPlacer.Place(spec, LogicalUsedRanges(extStart), extStart, extEnd, Alignment, SectorSize, Path, reserveBefore: SectorSize);
            _logicals.Add(new Logical(rangeStart / SectorSize, start / SectorSize, (end - start) / SectorSize, type, boot));
            number = 4 + _logicals.Count;
        }
        else
        {
            int slot = spec.Number is { } n
                ? n is >= 1 and <= MbrConstants.RecordCount ? n - 1 : throw new BadArgumentException($"Primary partition numbers are 1-4, not {n}.", Path)
                : Array.FindIndex(_primary, r => !r.IsUsed);
            if (slot < 0) throw new BadArgumentException("All four primary partition slots are used (use an extended partition and --logical for more).", Path);
            if (_primary[slot].IsUsed) throw new BadArgumentException($"Partition {slot + 1} already exists.", Path);
            if (extendedType && ExtendedSlot is { } existing) throw new BadArgumentException($"Partition {existing + 1} is already an extended partition; a disk has one.", Path);
            var used = _primary.Where(r => r.IsUsed).Select(r => (r.StartLba * (long)SectorSize, (r.StartLba + (long)r.SectorCount) * SectorSize));
            var (start, end, _) = PartitionPlacer.Place(spec, used, UsableStart, UsableEnd, Alignment, SectorSize, Path);
            _primary[slot] = MbrRecord.Make(spec.Bootable, type, start / SectorSize, (end - start) / SectorSize, start / SectorSize, Geometry);
            number = slot + 1;
        }
        Commit();
        return Get(number);
    }

    /// <summary>Ranges taken inside the extended partition: each logical partition and its EBR sector (the first EBR is at the extended partition's start).</summary>
    private IEnumerable<(long Start, long End)> LogicalUsedRanges(long extStart)
    {
        for (int i = 0; i < _logicals.Count; i++)
        {
            var l = _logicals[i];
            long ebr = i == 0 ? extStart : l.EbrLba * SectorSize;
            yield return (ebr, ebr + SectorSize);
            yield return (l.StartLba * SectorSize, l.EndLba * SectorSize);
        }
    }

    /// <inheritdoc/>
    public override void Remove(int number)
    {
        var p = Get(number);
        switch (p.Kind)
        {
            case PartitionKind.Logical:
                _logicals.RemoveAt(number - 5);
                break;
            case PartitionKind.Extended when _logicals.Count > 0:
                throw new BadArgumentException($"Partition {number} is the extended partition holding {_logicals.Count} logical partition(s): remove them first.", Path);
            default:
                _primary[number - 1] = default;
                break;
        }
        Commit();
    }

    /// <inheritdoc/>
    public override Partition Update(int number, PartitionUpdate update)
    {
        ArgumentNullException.ThrowIfNull(update);
        RefuseGptFields(update.Name, update.Attributes ?? 0, update.UniqueId);
        var p = Get(number);
        byte? type = update.Type is { } t ? MbrType(t) : null;
        if (type is { } code && PartitionTypes.IsExtended(code) != (p.Kind == PartitionKind.Extended))
            throw new BadArgumentException(p.Kind == PartitionKind.Extended
                ? $"Partition {number} is an extended partition; its type can only change to another extended type (05, 0f, 85)."
                : $"Partition {number} cannot become an extended partition.", Path);
        if (p.Kind == PartitionKind.Logical)
        {
            var l = _logicals[number - 5];
            if (type is { } lt) l.Type = lt;
            if (update.Bootable is { } lb) l.BootIndicator = lb ? MbrConstants.BootActive : (byte)0;
        }
        else
        {
            var r = _primary[number - 1];
            if (type is { } pt) r = r with { Type = pt };
            if (update.Bootable is { } pb) r = r with { BootIndicator = pb ? MbrConstants.BootActive : (byte)0 };
            _primary[number - 1] = r;
        }
        Commit();
        return Get(number);
    }

    private byte MbrType(PartitionType type)
        => type.MbrCode is { } code and not 0 ? code : throw new BadArgumentException($"Type {type} is not an MBR partition type (one byte, 01-ff).", Path);

    private void RefuseGptFields(string? name, ulong attributes, Guid? uniqueId)
    {
        if (!string.IsNullOrEmpty(name)) throw new BadArgumentException("MBR partitions have no names (names are a GPT feature).", Path);
        if (attributes != 0) throw new BadArgumentException("MBR partitions have no attribute bits (use --bootable for the boot flag).", Path);
        if (uniqueId is not null) throw new BadArgumentException("MBR partitions have no GUIDs.", Path);
    }
}
