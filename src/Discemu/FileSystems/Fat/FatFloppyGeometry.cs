namespace Discemu.FileSystems.Fat;

/// <summary>
/// A standard PC floppy format: its physical geometry and the BPB values DOS gives it (media byte, cluster
/// size, root entries, FAT sectors). The FAT size in the table is checked against the exact minimum by
/// <see cref="FatFormatter.Plan"/>.
/// </summary>
/// <param name="Name">The name the CLI takes (160K ... 2.88M, 1.68M for DMF).</param>
/// <param name="Tracks">Cylinders.</param>
/// <param name="Heads">Sides.</param>
/// <param name="SectorsPerTrack">512-byte sectors per track.</param>
/// <param name="Media">The BPB media descriptor byte.</param>
/// <param name="SectorsPerCluster">Sectors per cluster.</param>
/// <param name="RootEntries">Entries of the fixed root directory.</param>
/// <param name="FatSectors">Sectors of each FAT.</param>
public sealed record FatFloppyGeometry(string Name, int Tracks, int Heads, int SectorsPerTrack, byte Media,
    int SectorsPerCluster, int RootEntries, int FatSectors)
{
    /// <summary>Total 512-byte sectors.</summary>
    public int TotalSectors => Tracks * Heads * SectorsPerTrack;

    /// <summary>The image size in bytes.</summary>
    public long Length => TotalSectors * 512L;

    /// <summary>
    /// The formats DOS and Windows write: 5.25" 160K/180K (single sided), 320K/360K, 1.2M; 3.5" 720K, 1.44M,
    /// 2.88M; and Microsoft's Distribution Media Format (1.68M: 21 sectors per track, 2 KiB clusters, 16 root entries).
    /// </summary>
    public static IReadOnlyList<FatFloppyGeometry> All { get; } =
    [
        new("160K", 40, 1, 8, 0xFE, 1, 64, 1),
        new("180K", 40, 1, 9, 0xFC, 1, 64, 2),
        new("320K", 40, 2, 8, 0xFF, 2, 112, 1),
        new("360K", 40, 2, 9, 0xFD, 2, 112, 2),
        new("720K", 80, 2, 9, 0xF9, 2, 112, 3),
        new("1.2M", 80, 2, 15, 0xF9, 1, 224, 7),
        new("1.44M", 80, 2, 18, 0xF0, 1, 224, 9),
        new("1.68M", 80, 2, 21, 0xF0, 4, 16, 3),
        new("2.88M", 80, 2, 36, 0xF0, 2, 240, 9),
    ];

    /// <summary>Finds a format by name (case-insensitive; "DMF" means 1.68M; "1440K" style names also work).</summary>
    /// <exception cref="BadArgumentException">No standard floppy has that name.</exception>
    public static FatFloppyGeometry Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        string n = name.Trim().ToUpperInvariant();
        if (n is "DMF" or "1.68M(DMF)" or "1680K") n = "1.68M";
        else if (n == "1200K") n = "1.2M";
        else if (n == "1440K") n = "1.44M";
        else if (n == "2880K") n = "2.88M";
        return All.FirstOrDefault(g => g.Name == n)
            ?? throw new BadArgumentException($"Unknown floppy format '{name}': expected {string.Join(", ", All.Select(g => g.Name))}.");
    }
}
