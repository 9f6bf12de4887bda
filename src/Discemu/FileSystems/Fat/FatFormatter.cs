using System.Security.Cryptography;
using System.Text;
using static Discemu.FileSystems.Fat.FatConstants;

namespace Discemu.FileSystems.Fat;

/// <summary>
/// Makes an empty FAT12/16/32 file system on a device or a byte range of one (the <c>mkfs fat</c> command).
/// The layout follows fatgen103: FAT size by the specification's formula on FAT16/32 (and the exact minimum on
/// FAT12, where that formula does not apply), cluster sizes from its tables, reserved sectors 1 (FAT12/16) or
/// 32 (FAT32, backup boot sector at 6, FSInfo at 1). Only the metadata is written: the reserved area, the FATs
/// (zeroed, then the media and end-of-chain entries), and the root directory; the data area is left alone.
/// </summary>
public static partial class FatFormatter
{
    private const int Fat32ReservedSectors = 32;
    private const int Fat32BackupBootSector = 6;
    private const int Fat32FsInfoSector = 1;
    private const int DefaultRootEntries = 512;
    private const byte HardDiskMedia = 0xF8;
    private const long Fat32DefaultFrom = 512L << 20;
    private const int MaxClusterBytes = 64 * 1024;

    /// <summary>Computes the boot sector <see cref="Format(Discemu.Block.BlockDevice, FatFormatOptions)"/> would write for a volume of <paramref name="length"/> bytes.</summary>
    /// <param name="length">The volume size in bytes.</param>
    /// <param name="options">The format options.</param>
    /// <returns>The boot sector (validated: its derived layout is a correct FAT of the chosen type).</returns>
    /// <exception cref="BadArgumentException">An option is invalid, or the size cannot hold the requested FAT type or cluster size.</exception>
    public static FatBootSector Plan(long length, FatFormatOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        int bps = options.BytesPerSector;
        if (bps is not (512 or 1024 or 2048 or 4096)) throw new BadArgumentException($"Sector size {bps} is not 512, 1024, 2048 or 4096.");
        if (options.NumberOfFats is not (1 or 2)) throw new BadArgumentException($"The FAT count {options.NumberOfFats} is not 1 or 2.");
        if (length <= 0 || length % bps != 0) throw new BadArgumentException($"The volume size {length} is not a positive multiple of the {bps}-byte sector.");
        long total = length / bps;
        if (total > uint.MaxValue) throw new BadArgumentException($"The volume is larger than FAT can describe ({uint.MaxValue} sectors of {bps} bytes).");
        var floppy = options.Floppy;
        if (floppy is not null)
        {
            if (bps != 512) throw new BadArgumentException("Floppy formats use 512-byte sectors.");
            if (length != floppy.Length) throw new BadArgumentException($"A {floppy.Name} floppy is {floppy.Length} bytes, not {length}.");
            if (options.Type is { } t && t != FatType.Fat12) throw new BadArgumentException("Floppy formats are FAT12.");
        }
        var type = options.Type ?? (floppy is not null ? FatType.Fat12 : DefaultType(length, bps, options));
        int spc = ClusterSectors(options, type, length, bps);
        int reserved = type == FatType.Fat32 ? Fat32ReservedSectors : 1;
        int rootEntries = 0;
        if (type != FatType.Fat32)
        {
            int perSector = bps / DirEntrySize;
            int wanted = options.RootEntries ?? floppy?.RootEntries ?? DefaultRootEntries;
            if (wanted is < 1 or > 65535 - 64) throw new BadArgumentException($"The root directory entry count {wanted} is out of range.");
            rootEntries = (wanted + perSector - 1) / perSector * perSector;
        }
        else if (options.RootEntries is not null) throw new BadArgumentException("FAT32 has no fixed root directory; the root entry count does not apply.");

        long fatSectors;
        long clusters;
        while (true)
        {
            fatSectors = floppy is not null && options.ClusterSize is null && options.RootEntries is null ? floppy.FatSectors : FatSectors(type, total, reserved, rootEntries, spc, options.NumberOfFats, bps);
            long rootSectors = (long)rootEntries * DirEntrySize / bps;
            long dataStart = reserved + options.NumberOfFats * fatSectors + rootSectors;
            if (dataStart >= total) throw new BadArgumentException($"{length} bytes are too small for a {Name(type)} file system.");
            clusters = (total - dataStart) / spc;
            if (options.ClusterSize is null && floppy is null)
            {
                // The table's cluster size can miss the type's cluster-count range near its edges: adjust by powers of two.
                if (FatTypes.FromClusterCount(clusters) < type && spc > 1) { spc /= 2; continue; }
                if (FatTypes.FromClusterCount(clusters) > type && (long)spc * 2 * bps <= MaxClusterBytes) { spc *= 2; continue; }
            }
            break;
        }
        var actual = FatTypes.FromClusterCount(clusters);
        if (actual != type)
        {
            throw new BadArgumentException(actual < type
                ? $"{length} bytes with {spc * bps}-byte clusters give {clusters} clusters, too few for {Name(type)} (at least {(type == FatType.Fat32 ? Fat16ClusterLimit : Fat12ClusterLimit)}); use a smaller cluster or FAT type."
                : $"{length} bytes with {spc * bps}-byte clusters give {clusters} clusters, too many for {Name(type)}; use a larger cluster or FAT type.");
        }
        if (type == FatType.Fat32 && fatSectors > uint.MaxValue || type != FatType.Fat32 && fatSectors > ushort.MaxValue)
            throw new BadArgumentException("The FAT would be larger than the BPB can describe.");

        var (heads, sectorsPerTrack) = floppy is not null ? (floppy.Heads, floppy.SectorsPerTrack) : DiskGeometry(total);
        var stamp = Stamp(options);
        byte[] label = LabelBytes(options.Label);
        var boot = new FatBootSector
        {
            Jump = type == FatType.Fat32 ? [0xEB, 0x58, 0x90] : [0xEB, 0x3C, 0x90],
            OemName = Encoding.ASCII.GetBytes(OemName),
            BytesPerSector = bps,
            SectorsPerCluster = spc,
            ReservedSectors = reserved,
            NumberOfFats = options.NumberOfFats,
            RootEntryCount = rootEntries,
            TotalSectors16 = type != FatType.Fat32 && total <= ushort.MaxValue ? (int)total : 0,
            TotalSectors32 = type != FatType.Fat32 && total <= ushort.MaxValue ? 0 : (uint)total,
            Media = floppy?.Media ?? HardDiskMedia,
            FatSize16 = type == FatType.Fat32 ? 0 : (int)fatSectors,
            FatSize32 = type == FatType.Fat32 ? (uint)fatSectors : 0,
            SectorsPerTrack = sectorsPerTrack,
            NumberOfHeads = heads,
            HiddenSectors = options.HiddenSectors,
            RootCluster = type == FatType.Fat32 ? FirstCluster : 0,
            FsInfoSector = type == FatType.Fat32 ? Fat32FsInfoSector : 0,
            BackupBootSector = type == FatType.Fat32 ? Fat32BackupBootSector : 0,
            DriveNumber = floppy is not null ? (byte)0x00 : (byte)0x80,
            ExtendedSignature = ExtendedBootSignature,
            VolumeId = options.VolumeId ?? stamp.VolumeId,
            VolumeLabel = label.Length == 0 ? Encoding.ASCII.GetBytes("NO NAME    ") : label,
            FileSystemTypeLabel = Encoding.ASCII.GetBytes(type switch { FatType.Fat12 => "FAT12   ", FatType.Fat16 => "FAT16   ", _ => "FAT32   " }),
        };
        if (boot.Validate() is { } problem) throw new BadArgumentException($"The planned layout is invalid: {problem}");
        return boot;
    }

    /// <summary>The OEM name written in the boot sector (the value fatgen103 recommends for compatibility).</summary>
    public const string OemName = "MSWIN4.1";

    private static string Name(FatType type) => type switch { FatType.Fat12 => "FAT12", FatType.Fat16 => "FAT16", _ => "FAT32" };

    /// <summary>FAT32 from 512 MiB; below, FAT12 while the volume's clusters (2 KiB unless given) number under 4085 after the FATs and root (mkfs.fat's choice), else FAT16.</summary>
    private static FatType DefaultType(long length, int bps, FatFormatOptions options)
    {
        if (length >= Fat32DefaultFrom) return FatType.Fat32;
        int spc = Math.Max(1, (options.ClusterSize ?? Math.Max(2048, bps)) / bps);
        long total = length / bps;
        int root = options.RootEntries ?? DefaultRootEntries;
        long fat = FatSectors(FatType.Fat12, total, 1, root, spc, options.NumberOfFats, bps);
        long clusters = (total - 1 - ((long)root * DirEntrySize + bps - 1) / bps - options.NumberOfFats * fat) / spc;
        return clusters < Fat12ClusterLimit ? FatType.Fat12 : FatType.Fat16;
    }

    /// <summary>Sectors per cluster: the option, the floppy's, or fatgen103's table for the type and size.</summary>
    private static int ClusterSectors(FatFormatOptions options, FatType type, long length, int bps)
    {
        if (options.ClusterSize is { } size)
        {
            if (size < bps || size > MaxClusterBytes || (size & (size - 1)) != 0)
                throw new BadArgumentException($"The cluster size {size} is not a power of two from the sector size ({bps}) to 64 KiB.");
            return size / bps;
        }
        if (options.Floppy is { } f) return f.SectorsPerCluster;
        long bytes = type switch
        {
            FatType.Fat12 => 2048,
            FatType.Fat16 => length switch
            {
                <= 32680L * 512 => 1024,
                <= 262144L * 512 => 2048,
                <= 524288L * 512 => 4096,
                <= 1048576L * 512 => 8192,
                <= 2097152L * 512 => 16384,
                <= 4194304L * 512 => 32768,
                _ => 65536,
            },
            _ => length switch
            {
                <= 532480L * 512 => 512,
                <= 16777216L * 512 => 4096,
                <= 33554432L * 512 => 8192,
                <= 67108864L * 512 => 16384,
                _ => 32768,
            },
        };
        return (int)Math.Max(1, bytes / bps);
    }

    /// <summary>
    /// Sectors per FAT. FAT16/32: fatgen103's formula (never too small; at most a sector or so larger than
    /// needed). FAT12: the smallest size whose FAT holds every cluster the remaining space gives.
    /// </summary>
    internal static long FatSectors(FatType type, long total, int reserved, int rootEntries, int spc, int fats, int bps)
    {
        long rootSectors = ((long)rootEntries * DirEntrySize + bps - 1) / bps;
        long available = total - reserved - rootSectors;
        if (available <= 0) return 1;
        if (type != FatType.Fat12 && bps == 512)
        {
            long divisor = 256L * spc + fats;
            if (type == FatType.Fat32) divisor /= 2;
            return Math.Max(1, (available + divisor - 1) / divisor);
        }
        // Smallest f with need(f) <= f, where need shrinks as f grows (binary search).
        long lo = 1, hi = Math.Max(1, (FatTypes.FatBytes(type, available / spc + 2) + bps - 1) / bps);
        while (lo < hi)
        {
            long mid = lo + (hi - lo) / 2;
            long clusters = Math.Max(0, (available - fats * mid) / spc);
            long need = (FatTypes.FatBytes(type, clusters + 2) + bps - 1) / bps;
            if (need <= mid) hi = mid; else lo = mid + 1;
        }
        return lo;
    }

    /// <summary>A BIOS-style geometry for a disk volume: 63 sectors per track, the fewest heads (16..255) keeping 1024 cylinders.</summary>
    private static (int Heads, int SectorsPerTrack) DiskGeometry(long totalSectors)
    {
        foreach (int heads in new[] { 16, 32, 64, 128 })
            if (totalSectors <= 1024L * heads * 63) return (heads, 63);
        return (255, 63);
    }

    /// <summary>The time for the label entry and the serial it implies.</summary>
    private static (DateTimeOffset Time, uint VolumeId) Stamp(FatFormatOptions options)
    {
        if (options.Timestamp is { } t) return (t, DerivedVolumeId(t));
        if (options.Invariant) return (DosDateTime.Min, FatFormatOptions.InvariantVolumeId);
        return (DateTimeOffset.UtcNow, BitConverter.ToUInt32(RandomNumberGenerator.GetBytes(4)));
    }

    /// <summary>A serial from a time, the way DOS makes one: the date and time words, each mixed with the seconds.</summary>
    private static uint DerivedVolumeId(DateTimeOffset t)
    {
        var (date, time, tenths) = DosDateTime.FromDateTime(t);
        uint hi = (uint)(date + (time >> 8 | (time & 0xFF) << 8)) & 0xFFFF;
        uint lo = (uint)(time + (tenths << 8 | t.ToUniversalTime().Second)) & 0xFFFF;
        return hi << 16 | lo;
    }

    /// <summary>The 11-byte label, upper case and space padded; empty when there is none.</summary>
    /// <exception cref="BadArgumentException">The label is too long or has a character an 8.3 name cannot hold.</exception>
    internal static byte[] LabelBytes(string? label)
    {
        if (string.IsNullOrEmpty(label)) return [];
        string upper = label.ToUpperInvariant();
        if (upper.Length > ShortNameLength) throw new BadArgumentException($"The label '{label}' is longer than 11 characters.");
        if (upper[0] == ' ' || upper.Any(c => c != ' ' && !ShortNames.IsShortChar(c)))
            throw new BadArgumentException($"The label '{label}' has a character a FAT label cannot hold (letters, digits, space and !#$%&'()-@^_`{{}}~ are allowed; not a leading space).");
        return Encoding.ASCII.GetBytes(upper.PadRight(ShortNameLength));
    }
}
