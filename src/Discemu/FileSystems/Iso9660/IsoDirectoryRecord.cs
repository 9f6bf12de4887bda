using System.Buffers.Binary;
using static Discemu.FileSystems.Iso9660.IsoConstants;

namespace Discemu.FileSystems.Iso9660;

/// <summary>
/// A directory record (ECMA-119 9.1): where an entry's extent is, its size, date, flags and identifier,
/// followed by its System Use area (SUSP entries). Both-endian numbers are read from their little-endian half.
/// </summary>
internal readonly record struct IsoDirectoryRecord
{
    public required int RecordLength { get; init; }
    public required byte ExtendedAttributeLength { get; init; }
    public required uint Extent { get; init; }
    public required uint DataLength { get; init; }
    public DateTimeOffset? Recorded { get; init; }
    public required byte Flags { get; init; }
    public byte FileUnitSize { get; init; }
    public byte InterleaveGap { get; init; }
    public required byte[] Identifier { get; init; }
    public required byte[] SystemUse { get; init; }

    public bool IsDirectory => (Flags & FlagDirectory) != 0;
    public bool IsMultiExtent => (Flags & FlagMultiExtent) != 0;
    public bool IsHidden => (Flags & FlagHidden) != 0;
    public bool IsAssociated => (Flags & FlagAssociated) != 0;

    /// <summary>The "." record (identifier 0x00).</summary>
    public bool IsSelf => Identifier is [0];

    /// <summary>The ".." record (identifier 0x01).</summary>
    public bool IsParent => Identifier is [1];

    /// <summary>
    /// Parses the record at the start of <paramref name="data"/> (which ends where the logical sector ends).
    /// </summary>
    /// <returns>The record, or null when the length byte is 0 (no more records in this sector).</returns>
    /// <exception cref="CorruptImageException">The record's lengths do not fit.</exception>
    public static IsoDirectoryRecord? Read(ReadOnlySpan<byte> data, string? path)
    {
        if (data.IsEmpty || data[0] == 0) return null;
        int length = data[0];
        if (length < DirectoryRecordMinLength) throw new CorruptImageException($"A directory record is {length} bytes long (at least 34).", path);
        if (length > data.Length) throw new CorruptImageException($"A directory record of {length} bytes crosses the end of its sector.", path);
        int nameLength = data[32];
        if (nameLength == 0 || DirectoryRecordHeaderLength + nameLength > length)
            throw new CorruptImageException($"A directory record's identifier length {nameLength} does not fit its {length} bytes.", path);
        int suStart = DirectoryRecordHeaderLength + nameLength + ((nameLength & 1) == 0 ? 1 : 0);
        var record = data[..length];
        return new IsoDirectoryRecord
        {
            RecordLength = length,
            ExtendedAttributeLength = record[1],
            Extent = BinaryPrimitives.ReadUInt32LittleEndian(record[2..]),
            DataLength = BinaryPrimitives.ReadUInt32LittleEndian(record[10..]),
            Recorded = IsoDateTime.ReadShort(record.Slice(18, IsoDateTime.ShortLength)),
            Flags = record[25],
            FileUnitSize = record[26],
            InterleaveGap = record[27],
            Identifier = record.Slice(DirectoryRecordHeaderLength, nameLength).ToArray(),
            SystemUse = suStart < length ? record[suStart..].ToArray() : [],
        };
    }
}
