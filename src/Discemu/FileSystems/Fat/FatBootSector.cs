using System.Buffers.Binary;
using System.Text;
using static Discemu.FileSystems.Fat.FatConstants;

namespace Discemu.FileSystems.Fat;

/// <summary>
/// The FAT boot sector's BIOS Parameter Block (fatgen103 "Boot Sector and BPB"), for FAT12/16 and FAT32
/// with the extended fields. Little-endian; <see cref="TryRead"/> validates every field and derives the layout.
/// </summary>
public readonly record struct FatBootSector
{
    /// <summary>BS_jmpBoot (3 bytes).</summary>
    public byte[] Jump { get; init; }

    /// <summary>BS_OEMName (8 bytes, as stored).</summary>
    public byte[] OemName { get; init; }

    /// <summary>BPB_BytsPerSec: 512, 1024, 2048 or 4096.</summary>
    public int BytesPerSector { get; init; }

    /// <summary>BPB_SecPerClus: a power of two 1..128.</summary>
    public int SectorsPerCluster { get; init; }

    /// <summary>BPB_RsvdSecCnt: sectors before the first FAT (at least 1).</summary>
    public int ReservedSectors { get; init; }

    /// <summary>BPB_NumFATs.</summary>
    public int NumberOfFats { get; init; }

    /// <summary>BPB_RootEntCnt: 32-byte entries of the fixed FAT12/16 root directory (0 on FAT32).</summary>
    public int RootEntryCount { get; init; }

    /// <summary>BPB_TotSec16 (0 when <see cref="TotalSectors32"/> holds the count).</summary>
    public int TotalSectors16 { get; init; }

    /// <summary>BPB_Media.</summary>
    public byte Media { get; init; }

    /// <summary>BPB_FATSz16 (0 on FAT32).</summary>
    public int FatSize16 { get; init; }

    /// <summary>BPB_SecPerTrk.</summary>
    public int SectorsPerTrack { get; init; }

    /// <summary>BPB_NumHeads.</summary>
    public int NumberOfHeads { get; init; }

    /// <summary>BPB_HiddSec: sectors before the volume (the partition start).</summary>
    public uint HiddenSectors { get; init; }

    /// <summary>BPB_TotSec32.</summary>
    public uint TotalSectors32 { get; init; }

    /// <summary>BPB_FATSz32 (FAT32 layout only).</summary>
    public uint FatSize32 { get; init; }

    /// <summary>BPB_ExtFlags (FAT32 layout only): mirroring and active FAT.</summary>
    public ushort ExtFlags { get; init; }

    /// <summary>BPB_FSVer (FAT32 layout only, must be 0).</summary>
    public ushort FsVersion { get; init; }

    /// <summary>BPB_RootClus (FAT32 layout only).</summary>
    public uint RootCluster { get; init; }

    /// <summary>BPB_FSInfo sector number (FAT32 layout only; 0 or 0xFFFF when absent).</summary>
    public int FsInfoSector { get; init; }

    /// <summary>BPB_BkBootSec (FAT32 layout only; 0 or 0xFFFF when absent).</summary>
    public int BackupBootSector { get; init; }

    /// <summary>BS_DrvNum.</summary>
    public byte DriveNumber { get; init; }

    /// <summary>BS_BootSig: 0x29 when the volume id, label and type follow.</summary>
    public byte ExtendedSignature { get; init; }

    /// <summary>BS_VolID.</summary>
    public uint VolumeId { get; init; }

    /// <summary>BS_VolLab (11 bytes, space padded).</summary>
    public byte[] VolumeLabel { get; init; }

    /// <summary>BS_FilSysType (8 bytes, informative only).</summary>
    public byte[] FileSystemTypeLabel { get; init; }

    /// <summary>True when the FAT32 BPB layout is used (BPB_FATSz16 is 0).</summary>
    public bool IsFat32Layout => FatSize16 == 0;

    /// <summary>The volume size in sectors.</summary>
    public long TotalSectors => TotalSectors16 != 0 ? TotalSectors16 : TotalSectors32;

    /// <summary>Sectors of one FAT.</summary>
    public long FatSize => FatSize16 != 0 ? FatSize16 : FatSize32;

    /// <summary>Sectors of the fixed root directory (0 on FAT32).</summary>
    public long RootDirSectors => ((long)RootEntryCount * DirEntrySize + BytesPerSector - 1) / BytesPerSector;

    /// <summary>The first sector of the fixed root directory.</summary>
    public long RootDirStartSector => ReservedSectors + NumberOfFats * FatSize;

    /// <summary>The first sector of cluster 2.</summary>
    public long FirstDataSector => RootDirStartSector + RootDirSectors;

    /// <summary>The number of data clusters.</summary>
    public long ClusterCount => (TotalSectors - FirstDataSector) / SectorsPerCluster;

    /// <summary>The FAT type by cluster count.</summary>
    public FatType Type => FatTypes.FromClusterCount(ClusterCount);

    /// <summary>Bytes per cluster.</summary>
    public int ClusterSize => BytesPerSector * SectorsPerCluster;

    /// <summary>The label from the boot sector (trailing spaces removed), or null when there is none.</summary>
    public string? LabelText
    {
        get
        {
            if (ExtendedSignature != ExtendedBootSignature || VolumeLabel is null) return null;
            var s = Encoding.Latin1.GetString(VolumeLabel).TrimEnd(' ', '\0');
            return s.Length == 0 || s == "NO NAME" ? null : s;
        }
    }

    /// <summary>True when the boot sector looks like FAT enough to probe: a jump instruction or the 0x55AA signature, and sane BPB numbers.</summary>
    public static bool LooksLikeFat(ReadOnlySpan<byte> sector) => TryRead(sector, out _, out _);

    /// <summary>Parses and validates the boot sector (at least 512 bytes).</summary>
    /// <param name="sector">The first sector of the volume.</param>
    /// <param name="bootSector">The parsed values when valid.</param>
    /// <param name="error">Why it is not a valid FAT boot sector.</param>
    /// <returns>True when every field is in range and the derived layout fits.</returns>
    public static bool TryRead(ReadOnlySpan<byte> sector, out FatBootSector bootSector, out string? error)
    {
        bootSector = default;
        error = null;
        if (sector.Length < BootSectorLength) { error = "The boot sector is shorter than 512 bytes."; return false; }
        bool jumpOk = sector[0] == 0xEB && sector[2] == 0x90 || sector[0] == 0xE9 || sector[0] == 0xEB;
        bool sigOk = BinaryPrimitives.ReadUInt16LittleEndian(sector[BootSignatureOffset..]) == BootSignature;
        if (!jumpOk && !sigOk) { error = "No boot jump instruction and no 0x55AA signature."; return false; }
        var b = new FatBootSector
        {
            Jump = sector[..3].ToArray(),
            OemName = sector.Slice(3, 8).ToArray(),
            BytesPerSector = BinaryPrimitives.ReadUInt16LittleEndian(sector[11..]),
            SectorsPerCluster = sector[13],
            ReservedSectors = BinaryPrimitives.ReadUInt16LittleEndian(sector[14..]),
            NumberOfFats = sector[16],
            RootEntryCount = BinaryPrimitives.ReadUInt16LittleEndian(sector[17..]),
            TotalSectors16 = BinaryPrimitives.ReadUInt16LittleEndian(sector[19..]),
            Media = sector[21],
            FatSize16 = BinaryPrimitives.ReadUInt16LittleEndian(sector[22..]),
            SectorsPerTrack = BinaryPrimitives.ReadUInt16LittleEndian(sector[24..]),
            NumberOfHeads = BinaryPrimitives.ReadUInt16LittleEndian(sector[26..]),
            HiddenSectors = BinaryPrimitives.ReadUInt32LittleEndian(sector[28..]),
            TotalSectors32 = BinaryPrimitives.ReadUInt32LittleEndian(sector[32..]),
        };
        int ext;
        if (b.FatSize16 == 0)
        {
            b = b with
            {
                FatSize32 = BinaryPrimitives.ReadUInt32LittleEndian(sector[36..]),
                ExtFlags = BinaryPrimitives.ReadUInt16LittleEndian(sector[40..]),
                FsVersion = BinaryPrimitives.ReadUInt16LittleEndian(sector[42..]),
                RootCluster = BinaryPrimitives.ReadUInt32LittleEndian(sector[44..]),
                FsInfoSector = BinaryPrimitives.ReadUInt16LittleEndian(sector[48..]),
                BackupBootSector = BinaryPrimitives.ReadUInt16LittleEndian(sector[50..]),
            };
            ext = 64;
        }
        else ext = 36;
        b = b with
        {
            DriveNumber = sector[ext],
            ExtendedSignature = sector[ext + 2],
            VolumeId = BinaryPrimitives.ReadUInt32LittleEndian(sector[(ext + 3)..]),
            VolumeLabel = sector.Slice(ext + 7, ShortNameLength).ToArray(),
            FileSystemTypeLabel = sector.Slice(ext + 18, 8).ToArray(),
        };
        error = b.Validate();
        if (error is not null) return false;
        bootSector = b;
        return true;
    }

    /// <summary>Checks the fields and the layout they imply; returns why they are invalid, or null.</summary>
    public string? Validate()
    {
        if (BytesPerSector is not (512 or 1024 or 2048 or 4096)) return $"Bytes per sector {BytesPerSector} is not 512, 1024, 2048 or 4096.";
        if (SectorsPerCluster == 0 || (SectorsPerCluster & (SectorsPerCluster - 1)) != 0 || SectorsPerCluster > 128)
            return $"Sectors per cluster {SectorsPerCluster} is not a power of two up to 128.";
        if ((long)BytesPerSector * SectorsPerCluster > 256 * 1024) return "The cluster size is larger than 256 KiB.";
        if (ReservedSectors == 0) return "The reserved sector count is 0.";
        if (NumberOfFats is < 1 or > 4) return $"The FAT count {NumberOfFats} is not 1 to 4.";
        if (TotalSectors16 == 0 && TotalSectors32 == 0) return "The total sector count is 0.";
        if (FatSize == 0) return "The FAT size is 0.";
        if (IsFat32Layout)
        {
            if (RootEntryCount != 0) return "A FAT32 BPB has a non-zero root entry count.";
            if (FsVersion != 0) return $"FAT32 version {FsVersion >> 8}.{FsVersion & 0xFF} is not 0.0.";
        }
        else if (RootEntryCount == 0) return "A FAT12/16 BPB has no root directory entries.";
        long firstData = FirstDataSector;
        if (firstData >= TotalSectors) return "The FATs and root directory do not fit the volume.";
        long clusters = ClusterCount;
        if (clusters < 1) return "The volume has no data clusters.";
        if (clusters > Fat32MaxClusters) return $"The volume has {clusters} clusters, more than FAT32 can address.";
        var type = Type;
        if (IsFat32Layout != (type == FatType.Fat32))
            return $"The BPB layout ({(IsFat32Layout ? "FAT32" : "FAT12/16")}) does not match the cluster count {clusters} ({type}).";
        if (FatTypes.FatBytes(type, clusters + 2) > FatSize * BytesPerSector) return "The FAT is too small for the cluster count.";
        if (type == FatType.Fat32)
        {
            if (RootCluster < FirstCluster || RootCluster >= clusters + 2) return $"The root cluster {RootCluster} is outside the data area.";
            if (HasFsInfo && FsInfoSector >= ReservedSectors) return "The FSInfo sector is outside the reserved area.";
            if (HasBackupBoot && BackupBootSector >= ReservedSectors) return "The backup boot sector is outside the reserved area.";
        }
        return null;
    }

    /// <summary>True when a FAT32 volume records an FSInfo sector.</summary>
    public bool HasFsInfo => IsFat32Layout && FsInfoSector is not (0 or 0xFFFF);

    /// <summary>True when a FAT32 volume records a backup boot sector.</summary>
    public bool HasBackupBoot => IsFat32Layout && BackupBootSector is not (0 or 0xFFFF);

    /// <summary>True when every FAT is written (FAT32 may disable mirroring in BPB_ExtFlags).</summary>
    public bool Mirrored => !IsFat32Layout || (ExtFlags & ExtFlagsNoMirroring) == 0;

    /// <summary>The FAT that is read (0 unless FAT32 mirroring is off).</summary>
    public int ActiveFat => Mirrored ? 0 : ExtFlags & 0x0F;

    /// <summary>
    /// Writes the BPB fields over <paramref name="sector"/> (bytes 0-89 for FAT32, 0-61 otherwise) and the 0x55AA
    /// signature; boot code elsewhere in the sector is kept.
    /// </summary>
    /// <exception cref="ArgumentException">The buffer is shorter than 512 bytes or a byte array field has the wrong length.</exception>
    public void Write(Span<byte> sector)
    {
        if (sector.Length < BootSectorLength) throw new ArgumentException("The boot sector buffer is shorter than 512 bytes.", nameof(sector));
        Put(sector, 0, Jump, 3);
        Put(sector, 3, OemName, 8);
        BinaryPrimitives.WriteUInt16LittleEndian(sector[11..], checked((ushort)BytesPerSector));
        sector[13] = checked((byte)SectorsPerCluster);
        BinaryPrimitives.WriteUInt16LittleEndian(sector[14..], checked((ushort)ReservedSectors));
        sector[16] = checked((byte)NumberOfFats);
        BinaryPrimitives.WriteUInt16LittleEndian(sector[17..], checked((ushort)RootEntryCount));
        BinaryPrimitives.WriteUInt16LittleEndian(sector[19..], checked((ushort)TotalSectors16));
        sector[21] = Media;
        BinaryPrimitives.WriteUInt16LittleEndian(sector[22..], checked((ushort)FatSize16));
        BinaryPrimitives.WriteUInt16LittleEndian(sector[24..], checked((ushort)SectorsPerTrack));
        BinaryPrimitives.WriteUInt16LittleEndian(sector[26..], checked((ushort)NumberOfHeads));
        BinaryPrimitives.WriteUInt32LittleEndian(sector[28..], HiddenSectors);
        BinaryPrimitives.WriteUInt32LittleEndian(sector[32..], TotalSectors32);
        int ext = 36;
        if (IsFat32Layout)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(sector[36..], FatSize32);
            BinaryPrimitives.WriteUInt16LittleEndian(sector[40..], ExtFlags);
            BinaryPrimitives.WriteUInt16LittleEndian(sector[42..], FsVersion);
            BinaryPrimitives.WriteUInt32LittleEndian(sector[44..], RootCluster);
            BinaryPrimitives.WriteUInt16LittleEndian(sector[48..], checked((ushort)FsInfoSector));
            BinaryPrimitives.WriteUInt16LittleEndian(sector[50..], checked((ushort)BackupBootSector));
            sector.Slice(52, 12).Clear();
            ext = 64;
        }
        sector[ext] = DriveNumber;
        sector[ext + 1] = 0;
        sector[ext + 2] = ExtendedSignature;
        BinaryPrimitives.WriteUInt32LittleEndian(sector[(ext + 3)..], VolumeId);
        Put(sector, ext + 7, VolumeLabel, ShortNameLength);
        Put(sector, ext + 18, FileSystemTypeLabel, 8);
        BinaryPrimitives.WriteUInt16LittleEndian(sector[BootSignatureOffset..], BootSignature);
    }

    private static void Put(Span<byte> sector, int offset, byte[]? value, int length)
    {
        var target = sector.Slice(offset, length);
        if (value is null) { target.Fill((byte)' '); return; }
        if (value.Length != length) throw new ArgumentException($"A boot sector field of {length} bytes was given {value.Length}.");
        value.CopyTo(target);
    }

    /// <summary>Where the BS_VolLab field is in the boot sector of this layout.</summary>
    public int VolumeLabelOffset => (IsFat32Layout ? 64 : 36) + 7;
}
