namespace Discemu.Partitions.Mbr;

public sealed partial class MbrTable
{
    /// <summary>
    /// Writes the table: the EBRs from the last to the first (so a new EBR exists before anything links to it),
    /// then LBA 0 with its boot code and disk signature untouched, then a flush.
    /// </summary>
    private void Commit()
    {
        _partitions = null;
        if (ExtendedSlot is { } slot)
        {
            long extStart = _primary[slot].StartLba;
            if (_logicals.Count > 0) _logicals[0].EbrLba = extStart;
            for (int i = _logicals.Count - 1; i >= 0; i--)
            {
                var l = _logicals[i];
                var sector = new byte[SectorSize];
                LogicalRecord(l, l.EbrLba).WriteAt(sector, 0);
                if (i + 1 < _logicals.Count)
                {
                    var next = _logicals[i + 1];
                    MbrRecord.Make(false, PartitionTypes.MbrExtended, next.EbrLba, next.EndLba - next.EbrLba, next.EbrLba - extStart, Geometry).WriteAt(sector, 1);
                }
                SetSignature(sector);
                Device.Write(l.EbrLba * SectorSize, sector);
            }
            if (_logicals.Count == 0)
            {
                // An empty chain: a blank EBR, so stale bytes at the extended partition's start are not read as one.
                var blank = new byte[SectorSize];
                SetSignature(blank);
                Device.Write(extStart * SectorSize, blank);
            }
        }
        for (int i = 0; i < MbrConstants.RecordCount; i++) _primary[i].WriteAt(_sector0, i);
        SetSignature(_sector0);
        Device.Write(0, _sector0);
        Device.Flush();
    }

    /// <summary>Writes a table just created in memory.</summary>
    internal void CommitNew() => Commit();

    private MbrRecord LogicalRecord(Logical l, long ebrLba)
    {
        if (l.StartLba <= ebrLba) throw new CorruptImageException($"A logical partition starts at sector {l.StartLba}, not after its EBR at {ebrLba}; the table cannot be rewritten.", Path);
        return MbrRecord.Make(false, l.Type, l.StartLba, l.SectorCount, l.StartLba - ebrLba, Geometry) with { BootIndicator = l.BootIndicator };
    }

    private static void SetSignature(Span<byte> sector)
    {
        sector[MbrConstants.SignatureOffset] = 0x55;
        sector[MbrConstants.SignatureOffset + 1] = 0xAA;
    }
}
