using System.Buffers.Binary;
using static Discemu.FileSystems.Fat.FatConstants;

namespace Discemu.FileSystems.Fat;

/// <summary>
/// A 32-byte short (8.3) directory entry (fatgen103 "FAT Directory Structure"). The name is kept as its 11
/// stored bytes (OEM code page; 0x05 in the first byte stands for 0xE5).
/// </summary>
public readonly record struct FatDirectoryEntry
{
    /// <summary>DIR_Name: 8 + 3 bytes, space padded, as stored.</summary>
    public byte[] Name { get; init; }

    /// <summary>DIR_Attr.</summary>
    public byte Attributes { get; init; }

    /// <summary>DIR_NTRes: the Windows NT lower-case flags (0x08 base, 0x10 extension).</summary>
    public byte NtFlags { get; init; }

    /// <summary>DIR_CrtTimeTenth: 0-199 hundredths of a second (10 ms units) added to the creation time.</summary>
    public byte CreationTenths { get; init; }

    /// <summary>DIR_CrtTime.</summary>
    public ushort CreationTime { get; init; }

    /// <summary>DIR_CrtDate.</summary>
    public ushort CreationDate { get; init; }

    /// <summary>DIR_LstAccDate.</summary>
    public ushort AccessDate { get; init; }

    /// <summary>DIR_WrtTime.</summary>
    public ushort WriteTime { get; init; }

    /// <summary>DIR_WrtDate.</summary>
    public ushort WriteDate { get; init; }

    /// <summary>The first cluster (DIR_FstClusHI:DIR_FstClusLO; the high half is 0 on FAT12/16).</summary>
    public uint FirstCluster { get; init; }

    /// <summary>DIR_FileSize.</summary>
    public uint FileSize { get; init; }

    /// <summary>True for a long-name entry (attribute 0x0F).</summary>
    public bool IsLongName => (Attributes & AttrLongNameMask) == AttrLongName;

    /// <summary>True for a directory.</summary>
    public bool IsDirectory => (Attributes & AttrDirectory) != 0;

    /// <summary>True for the volume label entry.</summary>
    public bool IsVolumeLabel => !IsLongName && (Attributes & AttrVolumeId) != 0;

    /// <summary>True for the "." and ".." entries.</summary>
    public bool IsDotEntry => Name is [(byte)'.', ..] ;

    /// <summary>Parses the entry at the start of <paramref name="data"/> (32 bytes).</summary>
    /// <exception cref="ArgumentException">Fewer than 32 bytes were given.</exception>
    public static FatDirectoryEntry Read(ReadOnlySpan<byte> data)
    {
        if (data.Length < DirEntrySize) throw new ArgumentException("A directory entry needs 32 bytes.", nameof(data));
        return new FatDirectoryEntry
        {
            Name = data[..ShortNameLength].ToArray(),
            Attributes = data[11],
            NtFlags = data[12],
            CreationTenths = data[13],
            CreationTime = BinaryPrimitives.ReadUInt16LittleEndian(data[14..]),
            CreationDate = BinaryPrimitives.ReadUInt16LittleEndian(data[16..]),
            AccessDate = BinaryPrimitives.ReadUInt16LittleEndian(data[18..]),
            FirstCluster = (uint)BinaryPrimitives.ReadUInt16LittleEndian(data[20..]) << 16 | BinaryPrimitives.ReadUInt16LittleEndian(data[26..]),
            WriteTime = BinaryPrimitives.ReadUInt16LittleEndian(data[22..]),
            WriteDate = BinaryPrimitives.ReadUInt16LittleEndian(data[24..]),
            FileSize = BinaryPrimitives.ReadUInt32LittleEndian(data[28..]),
        };
    }

    /// <summary>Writes the entry into the first 32 bytes of <paramref name="data"/>.</summary>
    /// <exception cref="ArgumentException">The buffer is shorter than 32 bytes or the name is not 11 bytes.</exception>
    public void Write(Span<byte> data)
    {
        if (data.Length < DirEntrySize) throw new ArgumentException("A directory entry needs 32 bytes.", nameof(data));
        if (Name is not { Length: ShortNameLength }) throw new ArgumentException("A short name has 11 bytes.");
        Name.CopyTo(data);
        data[11] = Attributes;
        data[12] = NtFlags;
        data[13] = CreationTenths;
        BinaryPrimitives.WriteUInt16LittleEndian(data[14..], CreationTime);
        BinaryPrimitives.WriteUInt16LittleEndian(data[16..], CreationDate);
        BinaryPrimitives.WriteUInt16LittleEndian(data[18..], AccessDate);
        BinaryPrimitives.WriteUInt16LittleEndian(data[20..], (ushort)(FirstCluster >> 16));
        BinaryPrimitives.WriteUInt16LittleEndian(data[22..], WriteTime);
        BinaryPrimitives.WriteUInt16LittleEndian(data[24..], WriteDate);
        BinaryPrimitives.WriteUInt16LittleEndian(data[26..], (ushort)FirstCluster);
        BinaryPrimitives.WriteUInt32LittleEndian(data[28..], FileSize);
    }

    /// <summary>The last write time, or null when the date is 0 or invalid.</summary>
    public DateTimeOffset? Modified => DosDateTime.ToDateTime(WriteDate, WriteTime, 0);

    /// <summary>The creation time (with its 10 ms part), or null when the date is 0 or invalid.</summary>
    public DateTimeOffset? Created => DosDateTime.ToDateTime(CreationDate, CreationTime, CreationTenths);

    /// <summary>The last access date (midnight), or null when 0 or invalid.</summary>
    public DateTimeOffset? Accessed => DosDateTime.ToDateTime(AccessDate, 0, 0);

    /// <summary>The 8.3 name as shown (base "." extension, with the NT lower-case flags applied), decoded as code page 437/Latin-1.</summary>
    public string DisplayShortName => ShortNames.Display(Name, NtFlags);
}

/// <summary>DOS date and time fields (local wall-clock time; Discemu stores and shows them as UTC, like mtools with TZ=UTC).</summary>
public static class DosDateTime
{
    /// <summary>The earliest time a DOS date holds.</summary>
    public static readonly DateTimeOffset Min = new(1980, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The latest time a DOS date holds.</summary>
    public static readonly DateTimeOffset Max = new(2107, 12, 31, 23, 59, 59, TimeSpan.Zero);

    /// <summary>Decodes a date, time and 10 ms count; null when the date is 0 or a field is out of range.</summary>
    public static DateTimeOffset? ToDateTime(ushort date, ushort time, byte tenths)
    {
        if (date == 0) return null;
        int year = DosEpochYear + (date >> 9), month = (date >> 5) & 0x0F, day = date & 0x1F;
        int hour = time >> 11, minute = (time >> 5) & 0x3F, second = (time & 0x1F) * 2;
        if (month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month)) return null;
        if (hour > 23 || minute > 59 || second > 59) return null;
        if (tenths > 199) tenths = 0;
        return new DateTimeOffset(year, month, day, hour, minute, second, TimeSpan.Zero).AddMilliseconds(tenths * 10);
    }

    /// <summary>Encodes a time (converted to UTC, clamped to 1980-2107): the date, the time (2 s units) and the 10 ms remainder 0-199.</summary>
    public static (ushort Date, ushort Time, byte Tenths) FromDateTime(DateTimeOffset value)
    {
        var t = value.ToUniversalTime();
        if (t < Min) t = Min;
        if (t > Max) t = Max;
        ushort date = (ushort)((t.Year - DosEpochYear) << 9 | t.Month << 5 | t.Day);
        ushort time = (ushort)(t.Hour << 11 | t.Minute << 5 | t.Second / 2);
        byte tenths = (byte)((t.Second % 2) * 100 + t.Millisecond / 10);
        return (date, time, tenths);
    }
}
