using System.IO.Hashing;
using Discemu.Block;
using Discemu.Partitions.Mbr;

namespace Discemu.Partitions.Gpt;

public sealed partial class GptTable
{
    /// <summary>
    /// Writes the table. Crash order: the backup array and header first, a flush, then the primary array and
    /// header, a flush. Until the backup header is written the old primary is intact; from then on the new backup
    /// is complete, and a primary caught mid-write fails its CRC, so readers fall back to the new backup. The
    /// primary header is written after its array, so it never vouches for an array not yet on the disk.
    /// </summary>
    private void Commit(bool primary = true, bool backup = true)
    {
        _partitions = null;
        long n = SectorCount;
        int arraySectors = ArraySectors(_header);
        if (_backupLba >= n || _backupLba <= (long)_header.LastUsableLba)
            throw new CorruptImageException($"The backup GPT header's place (LBA {_backupLba}) is not at the end of this {n}-sector disk; run 'check -r all' to move it.", Path);
        if (_backupEntriesLba <= (long)_header.LastUsableLba || _backupEntriesLba + arraySectors > _backupLba
            || _primaryEntriesLba < 2 || _primaryEntriesLba + arraySectors > (long)_header.FirstUsableLba)
            throw new CorruptImageException("The GPT's entry arrays do not fit between its headers and the usable area; the table cannot be rewritten.", Path);
        for (int i = 0; i < _entries.Length; i++)
            _entries[i].Write(_array.AsSpan(i * (int)_header.EntrySize, (int)_header.EntrySize));
        uint crc = Crc32.HashToUInt32(_array);
        _header = _header with { Revision = GptConstants.Revision10, Size = GptConstants.HeaderSize, EntriesCrc = crc };
        if (backup)
        {
            WriteCopy(_backupLba, 1, _backupEntriesLba);
            Device.Flush();
        }
        if (primary)
        {
            WriteCopy(1, _backupLba, _primaryEntriesLba);
            Device.Flush();
        }
        _header = _header with { MyLba = 1, AlternateLba = (ulong)_backupLba, EntriesLba = (ulong)_primaryEntriesLba };
        if (primary) PrimaryProblem = null;
        if (backup) BackupProblem = null;
        if (primary && backup) CopiesDisagree = null;
    }

    private void WriteCopy(long headerLba, long alternateLba, long entriesLba)
    {
        var padded = new byte[(long)ArraySectors(_header) * SectorSize];
        _array.CopyTo(padded, 0);
        Device.Write(entriesLba * SectorSize, padded.AsSpan(0, (_array.Length + SectorSize - 1) / SectorSize * SectorSize));
        var sector = new byte[SectorSize];
        (_header with { MyLba = (ulong)headerLba, AlternateLba = (ulong)alternateLba, EntriesLba = (ulong)entriesLba }).Write(sector);
        Device.Write(headerLba * SectorSize, sector);
    }

    /// <summary>Writes a protective MBR at LBA 0, keeping the first 440 bytes (boot code) of what is there.</summary>
    private void WriteProtectiveMbr(bool keepBootCode)
    {
        var sector = new byte[SectorSize];
        if (keepBootCode) _mbr.AsSpan(0, MbrConstants.BootCodeLength).CopyTo(sector);
        BuildProtectiveRecord(SectorCount).WriteAt(sector, 0);
        sector[MbrConstants.SignatureOffset] = 0x55;
        sector[MbrConstants.SignatureOffset + 1] = 0xAA;
        Device.Write(0, sector);
        Device.Flush();
        sector.AsSpan(0, _mbr.Length).CopyTo(_mbr);
        ReadProtectiveMbr();
    }

    /// <summary>
    /// The protective record (UEFI spec, "Protective MBR"): type 0xEE from LBA 1 over the rest of the disk (capped
    /// at 2^32-1 sectors), starting CHS 0/0/2, ending CHS of the last LBA or 0xFFFFFF when CHS cannot reach it.
    /// </summary>
    internal static MbrRecord BuildProtectiveRecord(long sectorCount)
    {
        long last = sectorCount - 1;
        var geometry = MbrGeometry.Default;
        var end = last / (geometry.Heads * (long)geometry.SectorsPerTrack) > ChsAddress.MaxCylinder
            ? new ChsAddress(ChsAddress.MaxCylinder, 255, 63)
            : ChsAddress.FromLba(last, geometry);
        return new MbrRecord(0, new ChsAddress(0, 0, 2), PartitionTypes.MbrGptProtective, end, 1, (uint)Math.Min(last, MbrConstants.MaxLba32));
    }

    /// <summary>Writes a new, empty table: both copies (backup first), then the protective MBR.</summary>
    internal static GptTable CreateNew(BlockDevice device, PartitionTableCreateOptions options)
    {
        int ss = PartitionTableFormat.CheckSectorSize(options.SectorSize);
        if (options.EntryCount < 1 || (long)options.EntryCount * GptConstants.EntrySize > GptConstants.MaxArrayBytes)
            throw new BadArgumentException($"A GPT holds 1 to {GptConstants.MaxArrayBytes / GptConstants.EntrySize} entries, not {options.EntryCount}.", options.Path);
        var table = new GptTable(device, ss, options.Path) { Alignment = options.Alignment };
        long n = table.SectorCount;
        var header = new GptHeader
        {
            Revision = GptConstants.Revision10,
            Size = GptConstants.HeaderSize,
            DiskGuid = options.DiskGuid ?? Guid.NewGuid(),
            EntryCount = (uint)options.EntryCount,
            EntrySize = GptConstants.EntrySize,
        };
        int arraySectors = table.ArraySectors(header);
        long firstUsable = 2 + arraySectors, lastUsable = n - 2 - arraySectors;
        if (lastUsable < firstUsable)
            throw new BadArgumentException($"The disk ({device.Length} bytes) is too small for a GPT with {ss}-byte sectors.", options.Path);
        table._header = header with { MyLba = 1, AlternateLba = (ulong)(n - 1), FirstUsableLba = (ulong)firstUsable, LastUsableLba = (ulong)lastUsable, EntriesLba = 2 };
        table._primaryEntriesLba = 2;
        table._backupLba = n - 1;
        table._backupEntriesLba = n - 1 - arraySectors;
        table._array = new byte[header.ArrayBytes];
        table._entries = new GptEntry[options.EntryCount];
        table.Commit();
        table.WriteProtectiveMbr(keepBootCode: false);
        return table;
    }
}
