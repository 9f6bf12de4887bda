using System.Buffers.Binary;
using System.IO.Hashing;
using static Discemu.Partitions.Gpt.GptConstants;

namespace Discemu.Partitions.Gpt;

/// <summary>A GPT header (primary at LBA 1, backup at the last LBA), little-endian, validated on read.</summary>
internal readonly record struct GptHeader
{
    public uint Revision { get; init; }
    public uint Size { get; init; }
    public ulong MyLba { get; init; }
    public ulong AlternateLba { get; init; }
    public ulong FirstUsableLba { get; init; }
    public ulong LastUsableLba { get; init; }
    public Guid DiskGuid { get; init; }
    public ulong EntriesLba { get; init; }
    public uint EntryCount { get; init; }
    public uint EntrySize { get; init; }
    public uint EntriesCrc { get; init; }

    /// <summary>Bytes of the partition entry array.</summary>
    public int ArrayBytes => (int)Math.Min((ulong)EntryCount * EntrySize, int.MaxValue);

    /// <summary>True when the sector starts with "EFI PART".</summary>
    public static bool HasSignature(ReadOnlySpan<byte> sector)
        => sector.Length >= 8 && BinaryPrimitives.ReadUInt64LittleEndian(sector) == Signature;

    /// <summary>
    /// Parses a header sector and checks what the sector alone can show: signature, revision, size, CRC32, entry
    /// size and count, and the usable range's order. Positions on the disk are checked by the caller.
    /// </summary>
    /// <returns>False with <paramref name="problem"/> describing the first fault.</returns>
    public static bool TryRead(ReadOnlySpan<byte> sector, out GptHeader header, out string problem)
    {
        header = default;
        if (sector.Length < HeaderSize || !HasSignature(sector)) { problem = "no \"EFI PART\" signature"; return false; }
        uint size = BinaryPrimitives.ReadUInt32LittleEndian(sector[12..]);
        if (size < HeaderSize || size > sector.Length) { problem = $"header size {size} is outside {HeaderSize}..{sector.Length}"; return false; }
        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(sector[HeaderCrcOffset..]);
        if (Crc(sector[..(int)size]) != stored) { problem = "header CRC32 mismatch"; return false; }
        header = new GptHeader
        {
            Revision = BinaryPrimitives.ReadUInt32LittleEndian(sector[8..]),
            Size = size,
            MyLba = BinaryPrimitives.ReadUInt64LittleEndian(sector[24..]),
            AlternateLba = BinaryPrimitives.ReadUInt64LittleEndian(sector[32..]),
            FirstUsableLba = BinaryPrimitives.ReadUInt64LittleEndian(sector[40..]),
            LastUsableLba = BinaryPrimitives.ReadUInt64LittleEndian(sector[48..]),
            DiskGuid = new Guid(sector.Slice(56, 16)),
            EntriesLba = BinaryPrimitives.ReadUInt64LittleEndian(sector[72..]),
            EntryCount = BinaryPrimitives.ReadUInt32LittleEndian(sector[80..]),
            EntrySize = BinaryPrimitives.ReadUInt32LittleEndian(sector[84..]),
            EntriesCrc = BinaryPrimitives.ReadUInt32LittleEndian(sector[88..]),
        };
        problem = header.Validate() ?? "";
        return problem.Length == 0;
    }

    private string? Validate()
    {
        if (Revision >> 16 != 1) return $"revision 0x{Revision:x8} is not 1.x";
        if (EntrySize < GptConstants.EntrySize || EntrySize % GptConstants.EntrySize != 0 || !uint.IsPow2(EntrySize / GptConstants.EntrySize))
            return $"partition entry size {EntrySize} is not 128 x 2^n";
        if (EntryCount == 0) return "the partition entry array has no entries";
        if ((ulong)EntryCount * EntrySize > MaxArrayBytes) return $"partition entry array of {EntryCount} x {EntrySize} bytes is larger than {MaxArrayBytes} bytes";
        if (MyLba > MaxLba || AlternateLba > MaxLba || FirstUsableLba > MaxLba || LastUsableLba > MaxLba || EntriesLba > MaxLba)
            return "an LBA is out of range";
        if (FirstUsableLba > LastUsableLba) return $"first usable LBA {FirstUsableLba} is after the last usable LBA {LastUsableLba}";
        return null;
    }

    /// <summary>Writes the header (revision 1.0 size, reserved bytes zero) into <paramref name="sector"/> with its CRC32.</summary>
    public void Write(Span<byte> sector)
    {
        sector.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(sector, Signature);
        BinaryPrimitives.WriteUInt32LittleEndian(sector[8..], Revision);
        BinaryPrimitives.WriteUInt32LittleEndian(sector[12..], HeaderSize);
        BinaryPrimitives.WriteUInt64LittleEndian(sector[24..], MyLba);
        BinaryPrimitives.WriteUInt64LittleEndian(sector[32..], AlternateLba);
        BinaryPrimitives.WriteUInt64LittleEndian(sector[40..], FirstUsableLba);
        BinaryPrimitives.WriteUInt64LittleEndian(sector[48..], LastUsableLba);
        DiskGuid.TryWriteBytes(sector.Slice(56, 16));
        BinaryPrimitives.WriteUInt64LittleEndian(sector[72..], EntriesLba);
        BinaryPrimitives.WriteUInt32LittleEndian(sector[80..], EntryCount);
        BinaryPrimitives.WriteUInt32LittleEndian(sector[84..], EntrySize);
        BinaryPrimitives.WriteUInt32LittleEndian(sector[88..], EntriesCrc);
        BinaryPrimitives.WriteUInt32LittleEndian(sector[HeaderCrcOffset..], Crc(sector[..HeaderSize]));
    }

    /// <summary>The CRC32 of a header, computed with its CRC field as zeros.</summary>
    private static uint Crc(ReadOnlySpan<byte> header)
    {
        var crc = new Crc32();
        crc.Append(header[..HeaderCrcOffset]);
        crc.Append([0, 0, 0, 0]);
        crc.Append(header[(HeaderCrcOffset + 4)..]);
        return crc.GetCurrentHashAsUInt32();
    }
}
