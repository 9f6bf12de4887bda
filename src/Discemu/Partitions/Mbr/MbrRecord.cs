using System.Buffers.Binary;

namespace Discemu.Partitions.Mbr;

/// <summary>
/// One 16-byte MBR/EBR partition record (UEFI spec table "Legacy MBR Partition Record"): boot indicator, starting
/// CHS, type, ending CHS, starting LBA and size in sectors (32-bit little-endian).
/// </summary>
internal readonly record struct MbrRecord(byte BootIndicator, ChsAddress StartChs, byte Type, ChsAddress EndChs, uint StartLba, uint SectorCount)
{
    /// <summary>A record describes a partition when its size is not zero (as Linux reads them).</summary>
    public bool IsUsed => SectorCount != 0;

    /// <summary>True for the extended partition types 0x05, 0x0F, 0x85.</summary>
    public bool IsExtended => IsUsed && PartitionTypes.IsExtended(Type);

    /// <summary>Decodes a record.</summary>
    public static MbrRecord Read(ReadOnlySpan<byte> r)
        => new(r[0], ChsAddress.Read(r[1..4]), r[4], ChsAddress.Read(r[5..8]),
            BinaryPrimitives.ReadUInt32LittleEndian(r[8..]), BinaryPrimitives.ReadUInt32LittleEndian(r[12..]));

    /// <summary>The record at <paramref name="index"/> (0–3) of an MBR/EBR sector.</summary>
    public static MbrRecord ReadAt(ReadOnlySpan<byte> sector, int index)
        => Read(sector.Slice(MbrConstants.RecordsOffset + index * MbrConstants.RecordLength, MbrConstants.RecordLength));

    /// <summary>A record for sectors [<paramref name="startLba"/>, +<paramref name="count"/>) whose LBA field is
    /// <paramref name="storedStart"/> (relative in EBRs) and whose CHS fields are absolute.</summary>
    /// <exception cref="BadArgumentException">A value does not fit the 32-bit fields.</exception>
    public static MbrRecord Make(bool bootable, byte type, long startLba, long count, long storedStart, MbrGeometry geometry)
    {
        if (storedStart is < 0 or > MbrConstants.MaxLba32 || count is <= 0 or > MbrConstants.MaxLba32)
            throw new BadArgumentException($"A partition at sector {startLba} of {count} sectors does not fit the MBR's 32-bit fields (at most 2^32 sectors).");
        return new(bootable ? MbrConstants.BootActive : (byte)0, ChsAddress.FromLba(startLba, geometry), type,
            ChsAddress.FromLba(startLba + count - 1, geometry), (uint)storedStart, (uint)count);
    }

    /// <summary>Encodes the record into 16 bytes.</summary>
    public void Write(Span<byte> r)
    {
        r[0] = BootIndicator;
        StartChs.Write(r[1..4]);
        r[4] = Type;
        EndChs.Write(r[5..8]);
        BinaryPrimitives.WriteUInt32LittleEndian(r[8..], StartLba);
        BinaryPrimitives.WriteUInt32LittleEndian(r[12..], SectorCount);
    }

    /// <summary>Writes the record at <paramref name="index"/> (0–3) of an MBR/EBR sector.</summary>
    public void WriteAt(Span<byte> sector, int index)
        => Write(sector.Slice(MbrConstants.RecordsOffset + index * MbrConstants.RecordLength, MbrConstants.RecordLength));
}
