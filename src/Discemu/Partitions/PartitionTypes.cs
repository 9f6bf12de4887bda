using System.Globalization;

namespace Discemu.Partitions;

/// <summary>
/// Known partition types: the short aliases users type (<c>esp</c>, <c>linux</c>, <c>fat32</c>…) with the GPT
/// GUID and MBR byte each stands for, and the friendly names of common GPT GUIDs and MBR type codes
/// (published identifiers: the UEFI specification's EFI System GUID, the registered Microsoft, Linux
/// (Discoverable Partitions Specification), Apple and BSD GUIDs, and the customary MBR type codes).
/// </summary>
public static class PartitionTypes
{
    /// <summary>EFI System Partition (GPT).</summary>
    public static readonly Guid EfiSystem = new("C12A7328-F81F-11D2-BA4B-00A0C93EC93B");
    /// <summary>BIOS boot partition (GRUB's core image on GPT disks).</summary>
    public static readonly Guid BiosBoot = new("21686148-6449-6E6F-744E-656564454649");
    /// <summary>Microsoft reserved partition.</summary>
    public static readonly Guid MicrosoftReserved = new("E3C9E316-0B5C-4DB8-817D-F92DF00215AE");
    /// <summary>Microsoft basic data (FAT, exFAT, NTFS).</summary>
    public static readonly Guid MicrosoftBasicData = new("EBD0A0A2-B9E5-4433-87C0-68B6B72699C7");
    /// <summary>Linux filesystem data.</summary>
    public static readonly Guid LinuxFilesystem = new("0FC63DAF-8483-4772-8E79-3D69D8477DE4");
    /// <summary>Linux swap.</summary>
    public static readonly Guid LinuxSwap = new("0657FD6D-A4AB-43C4-84E5-0933C84B4F4F");
    /// <summary>Linux LVM physical volume.</summary>
    public static readonly Guid LinuxLvm = new("E6D6D379-F507-44C2-A23C-238F2A3DF928");
    /// <summary>Linux /home.</summary>
    public static readonly Guid LinuxHome = new("933AC7E1-2EB4-4F13-B844-0E14E2AEF915");
    /// <summary>Linux RAID member.</summary>
    public static readonly Guid LinuxRaid = new("A19D880F-05FC-4D3B-A006-743F0F84911E");

    /// <summary>MBR type of a CHS-addressed extended partition.</summary>
    public const byte MbrExtended = 0x05;
    /// <summary>MBR type of an LBA-addressed extended partition.</summary>
    public const byte MbrExtendedLba = 0x0F;
    /// <summary>MBR type of a Linux extended partition.</summary>
    public const byte MbrLinuxExtended = 0x85;
    /// <summary>MBR type of the protective (or hybrid) MBR record covering a GPT disk.</summary>
    public const byte MbrGptProtective = 0xEE;

    /// <summary>One alias: what it means on a GPT and on an MBR disk (null: not available there).</summary>
    public sealed record Alias(string Name, Guid? Gpt, byte? Mbr, string Description);

    /// <summary>The aliases <see cref="Parse"/> accepts, in the order help lists them.</summary>
    public static IReadOnlyList<Alias> Aliases { get; } =
    [
        new("esp", EfiSystem, 0xEF, "EFI System partition"),
        new("linux", LinuxFilesystem, 0x83, "Linux file system"),
        new("fat32", MicrosoftBasicData, 0x0C, "FAT32 (GPT: Microsoft basic data)"),
        new("fat16", MicrosoftBasicData, 0x0E, "FAT16 (GPT: Microsoft basic data)"),
        new("fat12", MicrosoftBasicData, 0x01, "FAT12 (GPT: Microsoft basic data)"),
        new("ntfs", MicrosoftBasicData, 0x07, "NTFS or exFAT (GPT: Microsoft basic data)"),
        new("swap", LinuxSwap, 0x82, "Linux swap"),
        new("lvm", LinuxLvm, 0x8E, "Linux LVM"),
        new("raid", LinuxRaid, 0xFD, "Linux RAID"),
        new("linux-home", LinuxHome, 0x83, "Linux /home (MBR: Linux)"),
        new("bios-boot", BiosBoot, null, "BIOS boot partition (GPT only)"),
        new("msr", MicrosoftReserved, null, "Microsoft reserved (GPT only)"),
        new("extended", null, MbrExtended, "Extended partition holding logical partitions (MBR only)"),
    ];

    private static readonly Dictionary<Guid, string> GuidNames = new()
    {
        [EfiSystem] = "EFI System",
        [BiosBoot] = "BIOS boot",
        [MicrosoftReserved] = "Microsoft reserved",
        [MicrosoftBasicData] = "Microsoft basic data",
        [new Guid("DE94BBA4-06D1-4D40-A16A-BFD50179D6AC")] = "Windows recovery environment",
        [new Guid("5808C8AA-7E8F-42E0-85D2-E1E90434CFB3")] = "Microsoft LDM metadata",
        [new Guid("AF9B60A0-1431-4F62-BC68-3311714A69AD")] = "Microsoft LDM data",
        [LinuxFilesystem] = "Linux filesystem",
        [LinuxSwap] = "Linux swap",
        [LinuxLvm] = "Linux LVM",
        [LinuxRaid] = "Linux RAID",
        [LinuxHome] = "Linux home",
        [new Guid("4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709")] = "Linux root (x86-64)",
        [new Guid("44479540-F297-41B2-9AF7-D131D5F0458A")] = "Linux root (x86)",
        [new Guid("B921B045-1DF0-41C3-AF44-4C6F280D3FAE")] = "Linux root (ARM-64)",
        [new Guid("8484680C-9521-48C6-9C11-B0720656F69E")] = "Linux /usr (x86-64)",
        [new Guid("3B8F8425-20E0-4F3B-907F-1A25A76F98E8")] = "Linux server data",
        [new Guid("BC13C2FF-59E6-4262-A352-B275FD6F7172")] = "Linux extended boot",
        [new Guid("CA7D7CCB-63ED-4C53-861C-1742536059CC")] = "Linux LUKS",
        [new Guid("8DA63339-0007-60C0-C436-083AC8230908")] = "Linux reserved",
        [new Guid("FE3A2A5D-4F32-41A7-B725-ACCC3285A309")] = "ChromeOS kernel",
        [new Guid("48465300-0000-11AA-AA11-00306543ECAC")] = "Apple HFS/HFS+",
        [new Guid("7C3457EF-0000-11AA-AA11-00306543ECAC")] = "Apple APFS",
        [new Guid("426F6F74-0000-11AA-AA11-00306543ECAC")] = "Apple boot",
        [new Guid("83BD6B9D-7F41-11DC-BE0B-001560B84F0F")] = "FreeBSD boot",
        [new Guid("516E7CB4-6ECF-11D6-8FF8-00022D09712B")] = "FreeBSD data",
        [new Guid("516E7CB5-6ECF-11D6-8FF8-00022D09712B")] = "FreeBSD swap",
        [new Guid("516E7CB6-6ECF-11D6-8FF8-00022D09712B")] = "FreeBSD UFS",
        [new Guid("516E7CBA-6ECF-11D6-8FF8-00022D09712B")] = "FreeBSD ZFS",
        [new Guid("6A898CC3-1DD2-11B2-99A6-080020736631")] = "Solaris /usr & Apple ZFS",
        [new Guid("024DEE41-33E7-11D3-9D69-0008C781F39F")] = "MBR partition scheme",
    };

    private static readonly Dictionary<byte, string> MbrNames = new()
    {
        [0x00] = "Empty",
        [0x01] = "FAT12",
        [0x04] = "FAT16 <32M",
        [0x05] = "Extended",
        [0x06] = "FAT16",
        [0x07] = "HPFS/NTFS/exFAT",
        [0x0B] = "W95 FAT32",
        [0x0C] = "W95 FAT32 (LBA)",
        [0x0E] = "W95 FAT16 (LBA)",
        [0x0F] = "W95 Ext'd (LBA)",
        [0x11] = "Hidden FAT12",
        [0x14] = "Hidden FAT16 <32M",
        [0x16] = "Hidden FAT16",
        [0x17] = "Hidden HPFS/NTFS",
        [0x1B] = "Hidden W95 FAT32",
        [0x1C] = "Hidden W95 FAT32 (LBA)",
        [0x1E] = "Hidden W95 FAT16 (LBA)",
        [0x27] = "Hidden NTFS WinRE",
        [0x82] = "Linux swap / Solaris",
        [0x83] = "Linux",
        [0x85] = "Linux extended",
        [0x86] = "NTFS volume set",
        [0x87] = "NTFS volume set",
        [0x8E] = "Linux LVM",
        [0xA5] = "FreeBSD",
        [0xA6] = "OpenBSD",
        [0xA8] = "Darwin UFS",
        [0xA9] = "NetBSD",
        [0xAB] = "Darwin boot",
        [0xAF] = "HFS / HFS+",
        [0xBE] = "Solaris boot",
        [0xBF] = "Solaris",
        [0xDA] = "Non-FS data",
        [0xEE] = "GPT",
        [0xEF] = "EFI (FAT-12/16/32)",
        [0xFB] = "VMware VMFS",
        [0xFC] = "VMware VMKCORE",
        [0xFD] = "Linux raid autodetect",
    };

    /// <summary>The friendly name of <paramref name="type"/>, or null when it is not known.</summary>
    public static string? NameOf(PartitionType type)
    {
        if (type.Guid is { } g) return GuidNames.GetValueOrDefault(g);
        return type.MbrCode is { } b ? MbrNames.GetValueOrDefault(b) : null;
    }

    /// <summary>True for the MBR type codes of extended partitions (0x05, 0x0F, 0x85).</summary>
    public static bool IsExtended(byte code) => code is MbrExtended or MbrExtendedLba or MbrLinuxExtended;

    /// <summary>
    /// Parses what a user typed for a partition type: an alias (<see cref="Aliases"/>), a GUID (GPT), or an MBR
    /// type byte in hex (<c>83</c>, <c>0x83</c>).
    /// </summary>
    /// <param name="text">The text.</param>
    /// <param name="gpt">True for a GPT disk, false for MBR.</param>
    /// <exception cref="BadArgumentException">The text is not a type of that partitioning scheme.</exception>
    public static PartitionType Parse(string text, bool gpt)
    {
        ArgumentNullException.ThrowIfNull(text);
        string t = text.Trim();
        var alias = Aliases.FirstOrDefault(a => string.Equals(a.Name, t, StringComparison.OrdinalIgnoreCase));
        if (alias is not null)
        {
            if (gpt && alias.Gpt is { } g) return PartitionType.FromGuid(g);
            if (!gpt && alias.Mbr is { } b) return PartitionType.FromMbrCode(b);
            throw new BadArgumentException($"Partition type '{alias.Name}' does not exist on {(gpt ? "GPT" : "MBR")} disks.");
        }
        if (gpt)
        {
            if (System.Guid.TryParse(t, out var guid) && guid != System.Guid.Empty) return PartitionType.FromGuid(guid);
        }
        else
        {
            string hex = t.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? t[2..] : t;
            if (hex.Length is 1 or 2 && byte.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out byte code) && code != 0)
                return PartitionType.FromMbrCode(code);
        }
        throw new BadArgumentException(
            $"Unknown partition type '{text}': expected one of {string.Join(", ", Aliases.Where(a => (gpt ? a.Gpt : (object?)a.Mbr) is not null).Select(a => a.Name))}, " +
            (gpt ? "or a type GUID." : "or a type byte in hex (83, 0x0c)."));
    }
}
