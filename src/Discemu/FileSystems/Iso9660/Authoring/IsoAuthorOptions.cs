namespace Discemu.FileSystems.Iso9660.Authoring;

/// <summary>How an El Torito boot image is presented to the firmware.</summary>
public enum IsoBootEmulation
{
    /// <summary>No emulation: the firmware loads <see cref="IsoBootEntry.LoadSize"/> 512-byte sectors.</summary>
    NoEmulation,
    /// <summary>Floppy emulation: the image must be exactly 1 200, 1 440 or 2 880 KiB.</summary>
    Floppy,
    /// <summary>Hard-disk emulation: the image must start with an MBR holding exactly one partition.</summary>
    HardDisk,
}

/// <summary>One El Torito boot catalog entry (BIOS or EFI).</summary>
public sealed record IsoBootEntry
{
    /// <summary>Path of the boot image inside the ISO tree (as given to <c>-b</c> or <c>-e</c>).</summary>
    public required string ImagePath { get; init; }

    /// <summary>True for an EFI entry (platform 0xEF), false for BIOS (platform 0, x86).</summary>
    public bool Efi { get; init; }

    /// <summary>The emulation; EFI entries are always without emulation.</summary>
    public IsoBootEmulation Emulation { get; init; } = IsoBootEmulation.NoEmulation;

    /// <summary>512-byte sectors to load (no emulation); null = the whole image (0 when over 65 535 sectors).</summary>
    public int? LoadSize { get; init; }

    /// <summary>Patch a boot information table (ISOLINUX style) into bytes 8–63 of the image.</summary>
    public bool BootInfoTable { get; init; }

    /// <summary>Load segment (0 = the BIOS default 0x7C0).</summary>
    public ushort LoadSegment { get; init; }
}

/// <summary>What to put into an ISO image and how (see <see cref="IsoAuthor"/>).</summary>
public sealed record IsoAuthorOptions
{
    /// <summary>Sources: a host path (a directory's content goes to the root, a file to /name) or a graft point <c>/dest=src</c>.</summary>
    public IReadOnlyList<string> Sources { get; init; } = [];

    /// <summary>ISO 9660 interchange level 1, 2 or 3 (3 allows multi-extent files of 4 GiB and more).</summary>
    public int Level { get; init; } = 3;

    /// <summary>Record Rock Ridge (RRIP 1.12) attributes, long names and symbolic links.</summary>
    public bool RockRidge { get; init; } = true;

    /// <summary>Record "rationalized" Rock Ridge attributes (owner 0, readable by all, no write bits), like <c>mkisofs -r</c>.</summary>
    public bool RationalRockRidge { get; init; }

    /// <summary>Record a Joliet tree.</summary>
    public bool Joliet { get; init; } = true;

    /// <summary>Allow Joliet names of 103 characters instead of 64.</summary>
    public bool JolietLong { get; init; }

    /// <summary>Globs of names or host paths to leave out (<c>-m</c>).</summary>
    public IReadOnlyList<string> Exclude { get; init; } = [];

    /// <summary>Globs of names or ISO paths to record with the hidden (existence) flag (<c>-hidden</c>).</summary>
    public IReadOnlyList<string> Hidden { get; init; } = [];

    /// <summary>Volume identifier (up to 32 characters; 16 in the Joliet descriptor).</summary>
    public string VolumeId { get; init; } = "CDROM";

    /// <summary>System identifier.</summary>
    public string SystemId { get; init; } = "LINUX";

    /// <summary>Volume set identifier.</summary>
    public string VolumeSetId { get; init; } = "";

    /// <summary>Publisher identifier.</summary>
    public string PublisherId { get; init; } = "";

    /// <summary>Data preparer identifier.</summary>
    public string PreparerId { get; init; } = "";

    /// <summary>Application identifier.</summary>
    public string ApplicationId { get; init; } = "DISCEMU";

    /// <summary>
    /// SOURCE_DATE_EPOCH: when set, the volume dates are this time and every recorded file time later than it is
    /// clamped to it; directories made up by graft points get it too. Null: the volume dates are the current time.
    /// </summary>
    public DateTimeOffset? SourceDateEpoch { get; init; }

    /// <summary>El Torito entries, the first being the initial/default entry.</summary>
    public IReadOnlyList<IsoBootEntry> BootEntries { get; init; } = [];

    /// <summary>Path of the boot catalog inside the ISO tree; null = recorded but not listed in the tree.</summary>
    public string? BootCatalogPath { get; init; }

    /// <summary>
    /// An isohybrid MBR template (e.g. ISOLINUX's <c>isohdpfx.bin</c>): its first 432 bytes of code go to block 0 with
    /// the first boot entry's address and a partition spanning the image, padded to whole MiB, so the image also boots
    /// from a USB stick. Needs a BIOS no-emulation first boot entry.
    /// </summary>
    public string? IsoHybridMbr { get; init; }

    /// <summary>
    /// Write an isohybrid GPT: a protective MBR (0xEE; the isohybrid template's code when <see cref="IsoHybridMbr"/> is
    /// set) with a primary GPT at LBA 1 and a backup GPT at the end, listing the ISO volume (after its 32 KiB system
    /// area) and the appended EFI system partition (<see cref="EfiPartition"/>); the volume is padded to whole MiB.
    /// </summary>
    public bool Gpt { get; init; }

    /// <summary>
    /// A FAT image (usually) to append after the ISO volume as partition 2 of type 0xEF (EFI system partition), padded
    /// to 2 KiB, like xorriso's <c>-append_partition 2 0xef FILE</c>; listed in the MBR and, with <see cref="Gpt"/>, in the GPT.
    /// </summary>
    public string? EfiPartition { get; init; }
}
