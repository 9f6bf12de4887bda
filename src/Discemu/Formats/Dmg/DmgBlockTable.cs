using System.Buffers.Binary;
using static Discemu.Formats.Dmg.DmgConstants;

namespace Discemu.Formats.Dmg;

/// <summary>One entry of a block table as stored: sectors relative to the table, bytes relative to the data fork.</summary>
internal readonly record struct DmgChunkEntry(DmgChunkType Type, uint Comment, long StartSector, long SectorCount, long DataOffset, long DataLength)
{
    /// <summary>Writes the entry (<see cref="DmgConstants.ChunkEntrySize"/> bytes).</summary>
    public void Write(Span<byte> dest)
    {
        BinaryPrimitives.WriteUInt32BigEndian(dest, (uint)Type);
        BinaryPrimitives.WriteUInt32BigEndian(dest[4..], Comment);
        BinaryPrimitives.WriteUInt64BigEndian(dest[8..], (ulong)StartSector);
        BinaryPrimitives.WriteUInt64BigEndian(dest[16..], (ulong)SectorCount);
        BinaryPrimitives.WriteUInt64BigEndian(dest[24..], (ulong)DataOffset);
        BinaryPrimitives.WriteUInt64BigEndian(dest[32..], (ulong)DataLength);
    }
}

/// <summary>
/// A block table ("mish", BLKXTable): the chunks of one partition (blkx resource), big-endian. Entries are
/// validated on read: known types, in sector order without overlap, inside the table's sector range.
/// </summary>
internal sealed class DmgBlockTable
{
    public long StartSector { get; init; }
    public long SectorCount { get; init; }
    public long DataOffset { get; init; }
    public uint BuffersNeeded { get; init; }
    public uint BlockDescriptors { get; init; }
    public DmgChecksum Checksum { get; init; }
    public IReadOnlyList<DmgChunkEntry> Entries { get; init; } = [];

    /// <summary>Parses and validates a block table.</summary>
    /// <exception cref="CorruptImageException">The table is malformed.</exception>
    /// <exception cref="UnsupportedFeatureException">A chunk type Discemu does not know.</exception>
    public static DmgBlockTable Read(ReadOnlySpan<byte> data, string what, string? path)
    {
        if (data.Length < MishHeaderSize || BinaryPrimitives.ReadUInt32BigEndian(data) != MishMagic)
            throw new CorruptImageException($"The block table of {what} has no mish signature.", path);
        uint version = BinaryPrimitives.ReadUInt32BigEndian(data[4..]);
        if (version != MishVersion) throw new UnsupportedFeatureException($"Block table version {version} of {what} is not supported.", path);
        long start = Sectors(BinaryPrimitives.ReadUInt64BigEndian(data[8..]), "start sector", what, path);
        long count = Sectors(BinaryPrimitives.ReadUInt64BigEndian(data[16..]), "sector count", what, path);
        ulong dataOffset = BinaryPrimitives.ReadUInt64BigEndian(data[24..]);
        if (dataOffset > long.MaxValue / 4) throw new CorruptImageException($"The data offset of {what} is out of range.", path);
        var checksum = DmgChecksum.Read(data[64..]);
        if (checksum.Bits > ChecksumBytes * 8) throw new CorruptImageException($"The checksum of {what} is wider than its field.", path);
        uint n = BinaryPrimitives.ReadUInt32BigEndian(data[200..]);
        if (n > (data.Length - MishHeaderSize) / ChunkEntrySize)
            throw new CorruptImageException($"The block table of {what} claims {n} chunks but holds only {(data.Length - MishHeaderSize) / ChunkEntrySize}.", path);
        if (checked(start + count) > long.MaxValue / SectorSize / 2) throw new CorruptImageException($"The sectors of {what} are out of range.", path);
        var entries = new List<DmgChunkEntry>((int)Math.Min(n, 1 << 16));
        long previousEnd = 0;
        for (int i = 0; i < n; i++)
        {
            var e = ReadEntry(data.Slice(MishHeaderSize + i * ChunkEntrySize, ChunkEntrySize), i, what, path);
            if (e.Type == DmgChunkType.Terminator) break;
            if (e.Type == DmgChunkType.Comment) continue;
            if (e.SectorCount == 0) continue;
            if (e.StartSector < previousEnd)
                throw new CorruptImageException($"Chunk {i} of {what} starts at sector {e.StartSector}, inside the previous chunk (ending at {previousEnd}).", path);
            long end = checked(e.StartSector + e.SectorCount);
            if (end > count) throw new CorruptImageException($"Chunk {i} of {what} ends at sector {end}, past the table's {count} sectors.", path);
            previousEnd = end;
            entries.Add(e);
        }
        return new DmgBlockTable
        {
            StartSector = start,
            SectorCount = count,
            DataOffset = (long)dataOffset,
            BuffersNeeded = BinaryPrimitives.ReadUInt32BigEndian(data[32..]),
            BlockDescriptors = BinaryPrimitives.ReadUInt32BigEndian(data[36..]),
            Checksum = checksum,
            Entries = entries,
        };
    }

    private static DmgChunkEntry ReadEntry(ReadOnlySpan<byte> e, int i, string what, string? path)
    {
        uint type = BinaryPrimitives.ReadUInt32BigEndian(e);
        if (!Enum.IsDefined((DmgChunkType)type))
            throw new UnsupportedFeatureException($"Chunk {i} of {what} has type 0x{type:x8}, which is not supported.", path);
        long start = Sectors(BinaryPrimitives.ReadUInt64BigEndian(e[8..]), $"chunk {i} start sector", what, path);
        long count = Sectors(BinaryPrimitives.ReadUInt64BigEndian(e[16..]), $"chunk {i} sector count", what, path);
        ulong offset = BinaryPrimitives.ReadUInt64BigEndian(e[24..]);
        ulong length = BinaryPrimitives.ReadUInt64BigEndian(e[32..]);
        var t = (DmgChunkType)type;
        bool stored = t is not (DmgChunkType.Zero or DmgChunkType.Ignore or DmgChunkType.Comment or DmgChunkType.Terminator);
        if (stored && (offset > long.MaxValue / 4 || length > long.MaxValue / 4))
            throw new CorruptImageException($"Chunk {i} of {what} has data out of range (offset 0x{offset:x}, length 0x{length:x}).", path);
        return new DmgChunkEntry(t, BinaryPrimitives.ReadUInt32BigEndian(e[4..]), start, count,
            stored ? (long)offset : 0, stored ? (long)length : 0);
    }

    private static long Sectors(ulong value, string field, string what, string? path)
        => value > long.MaxValue / SectorSize / 2 ? throw new CorruptImageException($"The {field} of {what} ({value}) is out of range.", path) : (long)value;

    /// <summary>Serialises the table with its entries (and a terminator when the last entry is not one).</summary>
    public byte[] Write()
    {
        bool terminated = Entries.Count > 0 && Entries[^1].Type == DmgChunkType.Terminator;
        int n = Entries.Count + (terminated ? 0 : 1);
        var b = new byte[MishHeaderSize + n * ChunkEntrySize];
        BinaryPrimitives.WriteUInt32BigEndian(b, MishMagic);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(4), MishVersion);
        BinaryPrimitives.WriteUInt64BigEndian(b.AsSpan(8), (ulong)StartSector);
        BinaryPrimitives.WriteUInt64BigEndian(b.AsSpan(16), (ulong)SectorCount);
        BinaryPrimitives.WriteUInt64BigEndian(b.AsSpan(24), (ulong)DataOffset);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(32), BuffersNeeded);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(36), BlockDescriptors);
        Checksum.Write(b.AsSpan(64));
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(200), (uint)n);
        for (int i = 0; i < Entries.Count; i++) Entries[i].Write(b.AsSpan(MishHeaderSize + i * ChunkEntrySize));
        if (!terminated) new DmgChunkEntry(DmgChunkType.Terminator, 0, SectorCount, 0, 0, 0).Write(b.AsSpan(MishHeaderSize + Entries.Count * ChunkEntrySize));
        return b;
    }
}
