using Discemu.Block;

namespace Discemu.Partitions;

/// <summary>
/// A partitioning scheme (MBR, GPT): a name, a content detector and the entry points that read or create a
/// table on a <see cref="BlockDevice"/> — any device: a raw file, a QCOW2 image, a partition of another disk.
/// </summary>
public abstract class PartitionTableFormat
{
    /// <summary>Logical sector sizes the schemes accept (bytes).</summary>
    public static IReadOnlyList<int> SectorSizes { get; } = [512, 1024, 2048, 4096];

    /// <summary>The short name (<c>mbr</c>, <c>gpt</c>).</summary>
    public abstract string Name { get; }

    /// <summary>A human description.</summary>
    public abstract string Description { get; }

    /// <summary>Other accepted names (<c>dos</c> for <c>mbr</c>).</summary>
    public virtual IReadOnlyList<string> Aliases => [];

    /// <summary>
    /// Scores how surely the disk holds a table of this scheme: 0 not this scheme, 100 certain. Sees the disk's
    /// first bytes (<paramref name="head"/>, up to <see cref="PartitionTableRegistry.HeadLength"/>) and last bytes
    /// (<paramref name="tail"/>, up to <see cref="PartitionTableRegistry.TailLength"/>). Must not throw.
    /// </summary>
    public abstract int Probe(ReadOnlySpan<byte> head, ReadOnlySpan<byte> tail, long diskLength);

    /// <summary>Reads the table on <paramref name="device"/> (which the table does not own).</summary>
    /// <exception cref="CorruptImageException">The table is damaged beyond reading (both GPT copies bad, an EBR chain that loops…).</exception>
    /// <exception cref="BadArgumentException">The requested sector size is not supported.</exception>
    public abstract PartitionTable Open(BlockDevice device, PartitionTableOpenOptions? options = null);

    /// <summary>Writes a new, empty table on <paramref name="device"/> (replacing whatever table was there) and returns it.</summary>
    /// <exception cref="BadArgumentException">The disk is too small or an option is invalid.</exception>
    /// <exception cref="NotSupportedException">The device is read-only.</exception>
    public abstract PartitionTable Create(BlockDevice device, PartitionTableCreateOptions? options = null);

    /// <inheritdoc/>
    public override string ToString() => Name;

    /// <summary>Checks a sector size option.</summary>
    /// <exception cref="BadArgumentException">It is not one of <see cref="SectorSizes"/>.</exception>
    internal static int CheckSectorSize(int sectorSize)
        => SectorSizes.Contains(sectorSize) ? sectorSize
            : throw new BadArgumentException($"Unsupported logical sector size {sectorSize}: expected {string.Join(", ", SectorSizes)}.");
}

/// <summary>How to read a partition table.</summary>
public sealed record PartitionTableOpenOptions
{
    /// <summary>The logical sector size; null takes what the table says (GPT) or 512.</summary>
    public int? SectorSize { get; init; }

    /// <summary>The image path, named in error messages.</summary>
    public string? Path { get; init; }
}

/// <summary>How to create a partition table.</summary>
public sealed record PartitionTableCreateOptions
{
    /// <summary>The logical sector size (512 default; 4096 for 4Kn disks).</summary>
    public int SectorSize { get; init; } = 512;

    /// <summary>Where new partitions start by default: a multiple of this many bytes (1 MiB).</summary>
    public long Alignment { get; init; } = PartitionTable.DefaultAlignment;

    /// <summary>The GPT disk GUID; null makes a random one.</summary>
    public Guid? DiskGuid { get; init; }

    /// <summary>The MBR disk signature; null makes a random one.</summary>
    public uint? DiskSignature { get; init; }

    /// <summary>The number of GPT partition entries (128 default; the array is at least 16 KiB).</summary>
    public int EntryCount { get; init; } = 128;

    /// <summary>The image path, named in error messages.</summary>
    public string? Path { get; init; }
}
