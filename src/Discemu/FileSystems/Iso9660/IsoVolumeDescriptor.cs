using System.Buffers.Binary;
using static Discemu.FileSystems.Iso9660.IsoConstants;

namespace Discemu.FileSystems.Iso9660;

/// <summary>Which directory tree a volume descriptor describes.</summary>
internal enum IsoTreeKind
{
    /// <summary>The primary volume descriptor's tree (ISO 9660 names, Rock Ridge when present).</summary>
    Primary,
    /// <summary>A Joliet supplementary descriptor's tree (UCS-2 names).</summary>
    Joliet,
    /// <summary>An ISO 9660:1999 enhanced descriptor's tree (long names without versions).</summary>
    Enhanced,
}

/// <summary>
/// A primary (ECMA-119 8.4), supplementary or enhanced (8.5; Joliet, ISO 9660:1999) volume descriptor,
/// with the fields Discemu uses validated. Both-endian numbers are read from their little-endian half,
/// as Linux does.
/// </summary>
internal readonly record struct IsoVolumeDescriptor
{
    public required IsoTreeKind Kind { get; init; }
    public int JolietLevel { get; init; }
    public required string SystemId { get; init; }
    public required string VolumeId { get; init; }
    public required uint VolumeSpaceSize { get; init; }
    public required int LogicalBlockSize { get; init; }
    public required IsoDirectoryRecord Root { get; init; }
    public string VolumeSetId { get; init; }
    public string PublisherId { get; init; }
    public string PreparerId { get; init; }
    public string ApplicationId { get; init; }
    public DateTimeOffset? Created { get; init; }
    public DateTimeOffset? Modified { get; init; }

    /// <summary>True when <paramref name="sector"/> starts with a volume descriptor header of any type.</summary>
    public static bool HasHeader(ReadOnlySpan<byte> sector)
        => sector.Length >= 7 && sector.Slice(1, 5).SequenceEqual(StandardIdentifier);

    /// <summary>The Joliet level (1–3) the escape sequences at bytes 88–119 announce, or 0.</summary>
    public static int ReadJolietLevel(ReadOnlySpan<byte> sector)
    {
        var esc = sector.Slice(88, 32);
        for (int i = 0; i + 3 <= esc.Length; i++)
        {
            var seq = esc.Slice(i, 3);
            if (seq.SequenceEqual(JolietLevel1)) return 1;
            if (seq.SequenceEqual(JolietLevel2)) return 2;
            if (seq.SequenceEqual(JolietLevel3)) return 3;
        }
        return 0;
    }

    /// <summary>Parses a primary or supplementary descriptor (a 2048-byte sector); null for an SVD that is neither Joliet nor ISO 9660:1999.</summary>
    /// <exception cref="CorruptImageException">The block size or root directory record is invalid.</exception>
    public static IsoVolumeDescriptor? Read(ReadOnlySpan<byte> sector, string? path)
    {
        if (sector.Length < SectorSize || !HasHeader(sector)) throw new CorruptImageException("Not an ISO 9660 volume descriptor.", path);
        byte type = sector[0], version = sector[6], structureVersion = sector[881];
        IsoTreeKind kind;
        int joliet = 0;
        if (type == VdPrimary) kind = IsoTreeKind.Primary;
        else if (type == VdSupplementary && version == 2 && structureVersion == 2) kind = IsoTreeKind.Enhanced;
        else if (type == VdSupplementary && (joliet = ReadJolietLevel(sector)) > 0) kind = IsoTreeKind.Joliet;
        else return null;
        int blockSize = BinaryPrimitives.ReadUInt16LittleEndian(sector[128..]);
        if (blockSize is not (512 or 1024 or 2048))
            throw new CorruptImageException($"The {kind} volume descriptor's logical block size {blockSize} is not 512, 1024 or 2048.", path);
        var root = IsoDirectoryRecord.Read(sector.Slice(156, DirectoryRecordMinLength), path)
                   ?? throw new CorruptImageException($"The {kind} volume descriptor's root directory record is empty.", path);
        if (!root.IsDirectory) throw new CorruptImageException($"The {kind} volume descriptor's root record is not a directory.", path);
        bool j = kind == IsoTreeKind.Joliet;
        return new IsoVolumeDescriptor
        {
            Kind = kind,
            JolietLevel = joliet,
            SystemId = IsoText.Field(sector.Slice(8, 32), j),
            VolumeId = IsoText.Field(sector.Slice(40, 32), j),
            VolumeSpaceSize = BinaryPrimitives.ReadUInt32LittleEndian(sector[80..]),
            LogicalBlockSize = blockSize,
            Root = root,
            VolumeSetId = IsoText.Field(sector.Slice(190, 128), j),
            PublisherId = IsoText.Field(sector.Slice(318, 128), j),
            PreparerId = IsoText.Field(sector.Slice(446, 128), j),
            ApplicationId = IsoText.Field(sector.Slice(574, 128), j),
            Created = IsoDateTime.ReadLong(sector.Slice(813, IsoDateTime.LongLength)),
            Modified = IsoDateTime.ReadLong(sector.Slice(830, IsoDateTime.LongLength)),
        };
    }

    /// <summary>The boot catalog's sector of an El Torito boot record, or null when the boot record is another system's.</summary>
    public static uint? ReadElToritoCatalog(ReadOnlySpan<byte> sector)
    {
        if (sector.Length < SectorSize || sector[0] != VdBootRecord || !HasHeader(sector)) return null;
        var system = sector.Slice(7, 32);
        if (!system.StartsWith(ElToritoIdentifier) || system[ElToritoIdentifier.Length..].IndexOfAnyExcept((byte)0, (byte)' ') >= 0) return null;
        return BinaryPrimitives.ReadUInt32LittleEndian(sector[0x47..]);
    }
}
