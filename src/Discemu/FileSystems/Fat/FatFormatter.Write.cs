using System.Buffers.Binary;
using Discemu.Block;
using static Discemu.FileSystems.Fat.FatConstants;

namespace Discemu.FileSystems.Fat;

public static partial class FatFormatter
{
    /// <summary>Boot code at the jump target: INT 18h (BIOS "no bootable disk", try the next device), then halt forever.</summary>
    private static readonly byte[] NotBootableCode = [0xCD, 0x18, 0xFA, 0xF4, 0xEB, 0xFD];

    /// <summary>Formats the whole device.</summary>
    /// <inheritdoc cref="Format(BlockDevice, long, long, FatFormatOptions)"/>
    public static FatBootSector Format(BlockDevice device, FatFormatOptions options)
    {
        ArgumentNullException.ThrowIfNull(device);
        return Format(device, 0, device.Length - device.Length % options.BytesPerSector, options);
    }

    /// <summary>
    /// Writes an empty FAT file system over bytes [<paramref name="offset"/>, <paramref name="offset"/> +
    /// <paramref name="length"/>) of <paramref name="device"/>: boot sector (FAT32: with FSInfo and the backup
    /// pair at sectors 6-7), every FAT (zeroed, then entries 0 and 1, and the root cluster's end mark on FAT32),
    /// the root directory (zeroed, with the label entry when there is a label). Nothing else is written.
    /// </summary>
    /// <param name="device">A writable device.</param>
    /// <param name="offset">Where the volume starts (a multiple of the sector size).</param>
    /// <param name="length">The volume size in bytes.</param>
    /// <param name="options">The format options.</param>
    /// <returns>The boot sector written.</returns>
    /// <exception cref="BadArgumentException">An option is invalid or the range does not fit the device.</exception>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static FatBootSector Format(BlockDevice device, long offset, long length, FatFormatOptions options)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(options);
        if (!device.CanWrite) throw new BadArgumentException("The device is read-only.");
        if (offset < 0 || length < 0 || offset > device.Length - length) throw new BadArgumentException("The volume does not fit the device.");
        if (offset % options.BytesPerSector != 0) throw new BadArgumentException("The volume does not start on a sector boundary.");
        var (time, id) = Stamp(options);
        var resolved = options with { Timestamp = time, VolumeId = options.VolumeId ?? id };
        var boot = Plan(length, resolved);
        int bps = boot.BytesPerSector;
        var type = boot.Type;

        // Reserved area: boot sector, and on FAT32 the FSInfo sector and the backup copies at 6 and 7.
        var reserved = new byte[checked(boot.ReservedSectors * bps)];
        WriteBootSector(reserved.AsSpan(0, bps), boot);
        if (type == FatType.Fat32)
        {
            uint free = checked((uint)boot.ClusterCount - 1);
            var fsInfo = new FatFsInfo(free, FirstCluster + 1);
            fsInfo.Write(reserved.AsSpan(boot.FsInfoSector * bps, bps));
            // fatgen103's boot region is three sectors; the third carries only the signature.
            BinaryPrimitives.WriteUInt16LittleEndian(reserved.AsSpan(2 * bps + BootSignatureOffset), BootSignature);
            reserved.AsSpan(0, 3 * bps).CopyTo(reserved.AsSpan(boot.BackupBootSector * bps));
        }
        device.Write(offset, reserved);

        // FATs: zero, then the first sector with the reserved entries.
        long fatBytes = boot.FatSize * bps;
        var first = new byte[bps];
        SetEntry(first, type, 0, type switch { FatType.Fat12 => 0xF00u, FatType.Fat16 => 0xFF00u, _ => 0x0FFFFF00u } | boot.Media);
        SetEntry(first, type, 1, FatTypes.EndOfChain(type));
        if (type == FatType.Fat32) SetEntry(first, type, boot.RootCluster, FatTypes.EndOfChain(type));
        for (int i = 0; i < boot.NumberOfFats; i++)
        {
            long at = offset + (boot.ReservedSectors + i * boot.FatSize) * bps;
            device.WriteZeroes(at, fatBytes);
            device.Write(at, first);
        }

        // Root directory: the fixed area, or the root cluster on FAT32.
        long rootAt, rootBytes;
        if (type == FatType.Fat32)
        {
            rootAt = offset + (boot.FirstDataSector + (boot.RootCluster - FirstCluster) * boot.SectorsPerCluster) * bps;
            rootBytes = boot.ClusterSize;
        }
        else
        {
            rootAt = offset + boot.RootDirStartSector * bps;
            rootBytes = boot.RootDirSectors * bps;
        }
        device.WriteZeroes(rootAt, rootBytes);
        if (LabelBytes(options.Label) is { Length: > 0 } label)
        {
            var (date, dosTime, _) = DosDateTime.FromDateTime(time);
            var entry = new FatDirectoryEntry { Name = label, Attributes = AttrVolumeId, WriteDate = date, WriteTime = dosTime };
            var buffer = new byte[DirEntrySize];
            entry.Write(buffer);
            device.Write(rootAt, buffer);
        }
        return boot;
    }

    private static void WriteBootSector(Span<byte> sector, FatBootSector boot)
    {
        boot.Write(sector);
        int codeAt = boot.Jump[1] + 2;
        NotBootableCode.CopyTo(sector[codeAt..]);
    }

    /// <summary>Sets FAT entry <paramref name="cluster"/> in a buffer holding the start of a FAT.</summary>
    internal static void SetEntry(Span<byte> fat, FatType type, uint cluster, uint value)
    {
        switch (type)
        {
            case FatType.Fat12:
            {
                int at = checked((int)(cluster + cluster / 2));
                ushort pair = BinaryPrimitives.ReadUInt16LittleEndian(fat[at..]);
                uint p = pair;
                p = (cluster & 1) == 0 ? (p & 0xF000u) | (value & 0x0FFFu) : (p & 0x000Fu) | ((value & 0x0FFFu) << 4);
                pair = (ushort)p;
                BinaryPrimitives.WriteUInt16LittleEndian(fat[at..], pair);
                break;
            }
            case FatType.Fat16:
                BinaryPrimitives.WriteUInt16LittleEndian(fat[checked((int)cluster * 2)..], (ushort)value);
                break;
            default:
            {
                int at = checked((int)cluster * 4);
                uint old = BinaryPrimitives.ReadUInt32LittleEndian(fat[at..]);
                BinaryPrimitives.WriteUInt32LittleEndian(fat[at..], old & ~Fat32EntryMask | value & Fat32EntryMask);
                break;
            }
        }
    }
}
