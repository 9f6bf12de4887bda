using Discemu.Formats;

namespace Discemu.Partitions.Gpt;

public sealed partial class GptTable
{
    /// <summary>At most this many overlap lines are reported.</summary>
    private const int MaxOverlapMessages = 100;

    /// <summary>
    /// Checks both copies (header and array CRC32s, positions), their agreement, the backup's place at the end of
    /// the disk, the protective MBR, and every partition (order of its LBAs, inside the usable range, no overlap).
    /// With <see cref="CheckRepair.All"/>: rewrites a damaged or stale copy from the good one, moves the backup to
    /// the end of a grown disk, writes a missing protective MBR; then reads the table again and reports what is left.
    /// </summary>
    public override ImageCheckResult Check(CheckRepair repair)
    {
        var result = new ImageCheckResult();
        long n = SectorCount;
        bool fixPrimary = false, fixBackup = false, relocate = false, fixMbr = false;
        var repairable = new List<string>();
        if (PrimaryProblem is not null) { repairable.Add($"The primary GPT is damaged ({PrimaryProblem}); the backup is intact."); fixPrimary = true; }
        if (BackupProblem is not null) { repairable.Add($"The backup GPT is damaged ({BackupProblem})."); fixBackup = true; }
        if (CopiesDisagree is not null)
        {
            // Both are rewritten from the primary (backup first): the copies' pointers to each other may be what differs.
            repairable.Add($"The primary and backup GPTs disagree: {CopiesDisagree}.");
            fixBackup = fixPrimary = true;
        }
        if (_backupLba >= n || (long)_header.LastUsableLba >= n - 1 - ArraySectors(_header))
        {
            repairable.Add($"The GPT describes a larger disk: its last usable LBA is {_header.LastUsableLba} and its backup header's place LBA {_backupLba}, but the disk ends at LBA {n - 1}.");
            relocate = true;
        }
        else if (_backupLba != n - 1)
        {
            repairable.Add($"The backup GPT header is at LBA {_backupLba}, not at the end of the disk (LBA {n - 1}).");
            relocate = true;
        }
        if (!HasProtectiveMbr)
        {
            repairable.Add("LBA 0 holds no protective MBR.");
            fixMbr = !HasOtherMbrPartitions();
        }
        var fatal = PartitionProblems(n);
        if (repair != CheckRepair.All || repairable.Count == 0)
        {
            result.Corruptions = repairable.Count + fatal.Count;
            result.Messages.AddRange(repairable.Concat(fatal).Select(m => "ERROR: " + m));
            if (IsHybridMbr) result.Messages.Add($"Note: hybrid MBR: the protective MBR also lists {HybridDescription()}.");
            return result;
        }

        foreach (var m in repairable) result.Messages.Add("Repairing: " + m);
        if (relocate) relocate = TryRelocateBackup(n, result);
        if ((relocate || fixPrimary || fixBackup) && _backupLba < n) Commit(primary: relocate || fixPrimary, backup: relocate || fixBackup);
        if (fixMbr) WriteProtectiveMbr(keepBootCode: true);
        Load();
        var again = Check(CheckRepair.None);
        result.CorruptionsFixed = Math.Max(0, repairable.Count + fatal.Count - again.Corruptions);
        result.Corruptions = again.Corruptions;
        result.Messages.AddRange(again.Messages);
        return result;
    }

    /// <summary>Moves the backup array and header to the end of the disk and makes the usable range reach them (as
    /// <c>sgdisk -e</c> does after a disk grew); refused when partitions reach past the room left.</summary>
    private bool TryRelocateBackup(long n, ImageCheckResult result)
    {
        int arraySectors = ArraySectors(_header);
        long newEntries = n - 1 - arraySectors;
        long lastUsable = newEntries - 1;
        long highest = Partitions.Count == 0 ? 0 : Partitions.Max(p => p.End) / SectorSize - 1;
        if (lastUsable < (long)_header.FirstUsableLba || highest > lastUsable)
        {
            result.Messages.Add($"Cannot move the backup GPT to the end of the disk: partitions reach LBA {highest}, past the room left ({lastUsable}).");
            return false;
        }
        _header = _header with { LastUsableLba = (ulong)lastUsable };
        _backupLba = n - 1;
        _backupEntriesLba = newEntries;
        return true;
    }

    private List<string> PartitionProblems(long n)
    {
        var problems = new List<string>();
        var ranges = new List<(string, long, long)>();
        for (int i = 0; i < _entries.Length; i++)
        {
            var e = _entries[i];
            if (!e.IsUsed) continue;
            string name = $"Partition {i + 1}";
            if (e.LastLba < e.FirstLba) { problems.Add($"{name} ends (LBA {e.LastLba}) before it starts (LBA {e.FirstLba})."); continue; }
            if (e.LastLba >= (ulong)n) problems.Add($"{name} (LBA {e.FirstLba}..{e.LastLba}) extends past the end of the disk (LBA {n - 1}).");
            else if (e.FirstLba < _header.FirstUsableLba || e.LastLba > _header.LastUsableLba)
                problems.Add($"{name} (LBA {e.FirstLba}..{e.LastLba}) is outside the usable range (LBA {_header.FirstUsableLba}..{_header.LastUsableLba}).");
            ranges.Add(($"partition {i + 1}", (long)Math.Min(e.FirstLba, GptConstants.MaxLba), (long)Math.Min(e.LastLba, GptConstants.MaxLba) + 1));
        }
        problems.AddRange(PartitionPlacer.Overlaps(ranges).Take(MaxOverlapMessages).Select(m => char.ToUpperInvariant(m[0]) + m[1..]));
        return problems;
    }

    private bool HasOtherMbrPartitions()
    {
        if (!Mbr.MbrConstants.HasBootSignature(_mbr)) return false;
        for (int i = 0; i < Mbr.MbrConstants.RecordCount; i++)
            if (Mbr.MbrRecord.ReadAt(_mbr, i).IsUsed) return true;
        return false;
    }
}
