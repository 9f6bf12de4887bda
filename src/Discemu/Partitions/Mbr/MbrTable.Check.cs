using Discemu.Formats;

namespace Discemu.Partitions.Mbr;

public sealed partial class MbrTable
{
    /// <summary>At most this many overlap lines are reported.</summary>
    private const int MaxOverlapMessages = 100;

    /// <summary>Checks boot indicators, partitions past the disk's end or over LBA 0, overlaps, and logical partitions
    /// outside the extended one. Nothing an MBR holds can be repaired without guessing, so repair changes nothing.</summary>
    public override ImageCheckResult Check(CheckRepair repair)
    {
        var problems = new List<string>(_readProblems);
        long diskEnd = SectorCount * SectorSize;
        var primaries = new List<(string, long, long)>();
        foreach (var p in Partitions)
        {
            string name = $"Partition {p.Number}";
            if (p.Kind != PartitionKind.Logical && _primary[p.Number - 1].BootIndicator is not (0 or MbrConstants.BootActive))
                problems.Add($"{name} has an invalid boot indicator 0x{_primary[p.Number - 1].BootIndicator:x2} (expected 0x00 or 0x80).");
            if (p.Kind == PartitionKind.Logical && _logicals[p.Number - 5].BootIndicator is not (0 or MbrConstants.BootActive))
                problems.Add($"{name} has an invalid boot indicator 0x{_logicals[p.Number - 5].BootIndicator:x2} (expected 0x00 or 0x80).");
            if (p.Start < SectorSize) problems.Add($"{name} starts at sector {p.Start / SectorSize}, over the MBR.");
            if (p.End > diskEnd) problems.Add($"{name} ({p.Start}..{p.End}) extends past the end of the disk ({diskEnd}).");
            if (p.Kind != PartitionKind.Logical) primaries.Add(($"partition {p.Number}", p.Start, p.End));
        }
        problems.AddRange(PartitionPlacer.Overlaps(primaries).Take(MaxOverlapMessages).Select(Capitalize));
        if (ExtendedSlot is { } slot && _logicals.Count > 0)
        {
            var ext = Get(slot + 1);
            var logicals = new List<(string, long, long)>();
            for (int i = 0; i < _logicals.Count; i++)
            {
                var l = _logicals[i];
                long start = l.StartLba * SectorSize, end = l.EndLba * SectorSize;
                if (start < ext.Start || end > ext.End)
                    problems.Add($"Partition {5 + i} ({start}..{end}) is not inside the extended partition {slot + 1} ({ext.Start}..{ext.End}).");
                logicals.Add(($"partition {5 + i}", start, end));
                logicals.Add(($"the EBR of partition {5 + i}", l.EbrLba * SectorSize, (l.EbrLba + 1) * SectorSize));
            }
            problems.AddRange(PartitionPlacer.Overlaps(logicals).Take(MaxOverlapMessages).Select(Capitalize));
        }
        var result = new ImageCheckResult { Corruptions = problems.Count };
        result.Messages.AddRange(problems.Select(m => "ERROR: " + m));
        if (repair != CheckRepair.None && problems.Count > 0)
            result.Messages.Add("The MBR's problems cannot be repaired automatically: fix the partitions with 'discemu part set/rm'.");
        return result;
    }

    private static string Capitalize(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];
}
