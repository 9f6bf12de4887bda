using System.Security.Cryptography;
using System.Text;
using Discemu.Block;
using Discemu.Partitions;

namespace Discemu.FileSystems.Fat;

/// <summary>The partition table <see cref="FatFormatter.FormatDisk"/> writes.</summary>
public enum FatPartitionScheme
{
    /// <summary>An MBR with one primary partition of a FAT type (0x01, 0x04, 0x06, 0x0E or 0x0C).</summary>
    Mbr,

    /// <summary>A GPT with one Microsoft basic data partition.</summary>
    Gpt,
}

public static partial class FatFormatter
{
    /// <summary>The last sector a CHS address reaches (1024 cylinders × 255 heads × 63 sectors); types past it use LBA codes.</summary>
    private const long ChsLimitSectors = 1024L * 255 * 63;

    /// <summary>
    /// Writes a new partition table on <paramref name="disk"/> with one partition over the free space (1 MiB
    /// aligned) and formats it. In invariant mode the disk identifier and partition GUID are derived from the
    /// volume serial, so the same options give the same bytes.
    /// </summary>
    /// <param name="disk">The whole disk (writable).</param>
    /// <param name="scheme">MBR or GPT.</param>
    /// <param name="options">The format options (<see cref="FatFormatOptions.HiddenSectors"/> is set to the partition start).</param>
    /// <returns>The partition and the boot sector written.</returns>
    /// <exception cref="BadArgumentException">The disk is too small or an option is invalid.</exception>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static (Partition Partition, FatBootSector Boot) FormatDisk(BlockDevice disk, FatPartitionScheme scheme, FatFormatOptions options)
    {
        ArgumentNullException.ThrowIfNull(disk);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Floppy is not null) throw new BadArgumentException("Floppy images have no partition table.");
        var (time, id) = Stamp(options);
        options = options with { Timestamp = options.Timestamp ?? (options.Invariant ? time : null), VolumeId = options.VolumeId ?? id };
        bool fixedIds = options.Invariant || options.Timestamp is not null;
        uint serial = options.VolumeId!.Value;
        var format = PartitionTableRegistry.Default.Find(scheme == FatPartitionScheme.Gpt ? "gpt" : "mbr");
        var create = new PartitionTableCreateOptions { SectorSize = options.BytesPerSector };
        if (fixedIds) create = create with { DiskGuid = DerivedGuid(serial, "disk"), DiskSignature = serial };
        var table = format.Create(disk, create);
        var placeholder = scheme == FatPartitionScheme.Gpt ? PartitionType.FromGuid(PartitionTypes.MicrosoftBasicData) : PartitionType.FromMbrCode(0x0C);
        var partition = table.Add(new PartitionSpec { Type = placeholder, UniqueId = fixedIds && scheme == FatPartitionScheme.Gpt ? DerivedGuid(serial, "partition") : null });
        var volumeOptions = options with { HiddenSectors = checked((uint)(partition.Start / options.BytesPerSector)) };
        var planned = Plan(partition.Length - partition.Length % options.BytesPerSector, volumeOptions);
        if (scheme == FatPartitionScheme.Mbr)
            partition = table.Update(partition.Number, new PartitionUpdate { Type = PartitionType.FromMbrCode(MbrType(planned.Type, partition.Length, partition.End / options.BytesPerSector)) });
        var boot = Format(disk, partition.Start, partition.Length - partition.Length % options.BytesPerSector, volumeOptions);
        return (partition, boot);
    }

    /// <summary>
    /// The MBR type for a FAT partition: 0x01 FAT12; FAT16 0x04 under 32 MiB, 0x06 within CHS reach, else 0x0E
    /// (LBA); FAT32 0x0C (LBA), what current systems write.
    /// </summary>
    public static byte MbrType(FatType type, long length, long endSector) => type switch
    {
        FatType.Fat12 => 0x01,
        FatType.Fat16 when endSector > ChsLimitSectors => 0x0E,
        FatType.Fat16 when length < 32L << 20 => 0x04,
        FatType.Fat16 => 0x06,
        _ => 0x0C,
    };

    private static Guid DerivedGuid(uint serial, string purpose)
    {
        var hash = SHA256.HashData(Encoding.ASCII.GetBytes($"discemu-fat-{purpose}-{serial:X8}"));
        var bytes = hash.AsSpan(0, 16).ToArray();
        bytes[7] = (byte)(bytes[7] & 0x0F | 0x40); // version 4 layout (Guid stores the third group little-endian)
        bytes[8] = (byte)(bytes[8] & 0x3F | 0x80);
        return new Guid(bytes);
    }
}
