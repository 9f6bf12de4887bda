namespace Discemu.Partitions.Mbr;

/// <summary>Offsets and magic numbers of the MBR and EBR sectors (UEFI spec table "Legacy MBR").</summary>
internal static class MbrConstants
{
    /// <summary>Bytes of x86 boot code at the start of the MBR (kept as they are on every edit).</summary>
    public const int BootCodeLength = 440;

    /// <summary>Offset of the 32-bit little-endian disk signature.</summary>
    public const int DiskSignatureOffset = 440;

    /// <summary>Offset of the four 16-byte partition records.</summary>
    public const int RecordsOffset = 446;

    /// <summary>Bytes of one partition record.</summary>
    public const int RecordLength = 16;

    /// <summary>Records in the MBR (and in each EBR, of which only two are used).</summary>
    public const int RecordCount = 4;

    /// <summary>Offset of the boot signature 0x55 0xAA.</summary>
    public const int SignatureOffset = 510;

    /// <summary>The boot signature as a little-endian 16-bit value.</summary>
    public const ushort BootSignature = 0xAA55;

    /// <summary>The boot indicator of an active (bootable) partition.</summary>
    public const byte BootActive = 0x80;

    /// <summary>Bytes of the structure inside LBA 0 (the rest of a larger sector is reserved).</summary>
    public const int SectorLength = 512;

    /// <summary>The most logical partitions read from an EBR chain before it is called absurd.</summary>
    public const int MaxLogicalPartitions = 1024;

    /// <summary>Largest LBA or sector count a 32-bit record field holds.</summary>
    public const long MaxLba32 = uint.MaxValue;

    /// <summary>True when <paramref name="sector"/> ends its first 512 bytes with 0x55 0xAA.</summary>
    public static bool HasBootSignature(ReadOnlySpan<byte> sector)
        => sector.Length >= SectorLength && sector[SignatureOffset] == 0x55 && sector[SignatureOffset + 1] == 0xAA;
}
