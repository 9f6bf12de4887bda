using Discemu.Block;
using Discemu.Formats;

namespace Discemu.Partitions;

/// <summary>
/// A partition table read from (or written to) a <see cref="BlockDevice"/>. Offsets and lengths are bytes; the
/// logical sector size only decides how the on-disk LBAs are scaled. The table does not own the device.
/// </summary>
/// <remarks>
/// Every edit (<see cref="Add"/>, <see cref="Remove"/>, <see cref="Update"/>) is written to the device and
/// flushed before it returns, in an order that leaves a readable table if the process dies midway (each
/// scheme's README says which). Reading is safe from several threads; edits must not run concurrently.
/// </remarks>
public abstract class PartitionTable
{
    /// <summary>The default alignment of new partitions: 1 MiB.</summary>
    public const long DefaultAlignment = 1L << 20;

    private long _alignment = DefaultAlignment;

    /// <summary>Creates the table view.</summary>
    protected PartitionTable(BlockDevice device, int sectorSize, string? path)
    {
        ArgumentNullException.ThrowIfNull(device);
        Device = device;
        SectorSize = PartitionTableFormat.CheckSectorSize(sectorSize);
        Path = path;
    }

    /// <summary>The scheme.</summary>
    public abstract PartitionTableFormat Format { get; }

    /// <summary>The disk.</summary>
    public BlockDevice Device { get; }

    /// <summary>The logical sector size the table's LBAs count in.</summary>
    public int SectorSize { get; }

    /// <summary>The image path used in messages, or null.</summary>
    public string? Path { get; }

    /// <summary>Whole sectors on the disk.</summary>
    public long SectorCount => Device.Length / SectorSize;

    /// <summary>The disk identifier: the GPT disk GUID, or the MBR disk signature as <c>0x1234abcd</c>.</summary>
    public abstract string DiskId { get; }

    /// <summary>The partitions in number order.</summary>
    public abstract IReadOnlyList<Partition> Partitions { get; }

    /// <summary>The first byte partitions may use.</summary>
    public abstract long UsableStart { get; }

    /// <summary>The byte just past the last one partitions may use.</summary>
    public abstract long UsableEnd { get; }

    /// <summary>Facts a listing should show: a hybrid MBR, a GPT read from its backup copy, a missing protective MBR.</summary>
    public abstract IReadOnlyList<string> Warnings { get; }

    /// <summary>Where new partitions start by default: a multiple of this many bytes (1 MiB).</summary>
    /// <exception cref="BadArgumentException">The value is not a positive multiple of the sector size.</exception>
    public long Alignment
    {
        get => _alignment;
        set => _alignment = value > 0 && value % SectorSize == 0 ? value
            : throw new BadArgumentException($"Alignment {value} is not a positive multiple of the sector size ({SectorSize}).");
    }

    /// <summary>The partition numbered <paramref name="number"/>, or null.</summary>
    public Partition? Find(int number) => Partitions.FirstOrDefault(p => p.Number == number);

    /// <summary>The partition numbered <paramref name="number"/>.</summary>
    /// <exception cref="BadArgumentException">There is no such partition.</exception>
    public Partition Get(int number)
        => Find(number) ?? throw new BadArgumentException(
            Partitions.Count == 0 ? $"Partition {number} does not exist: the {Format.Name.ToUpperInvariant()} table is empty."
                : $"Partition {number} does not exist (partitions: {string.Join(", ", Partitions.Select(p => p.Number))}).", Path);

    /// <summary>A device over partition <paramref name="number"/>'s bytes (reads and writes go to the disk).</summary>
    /// <exception cref="BadArgumentException">There is no such partition, or it is an extended container.</exception>
    /// <exception cref="CorruptImageException">The table places the partition (partly) beyond the end of the disk.</exception>
    public SubRangeDevice Open(int number)
    {
        var p = Get(number);
        if (p.Kind == PartitionKind.Extended)
            throw new BadArgumentException($"Partition {number} is an extended partition (a container of logical partitions), not a volume.", Path);
        if (p.Start < 0 || p.Length <= 0 || p.Start > Device.Length || p.Length > Device.Length - p.Start)
            throw new CorruptImageException($"Partition {number} ({p.Start}+{p.Length}) lies beyond the end of the disk ({Device.Length} bytes).", Path);
        return new SubRangeDevice(Device, p.Start, p.Length);
    }

    /// <summary>Adds a partition and writes the table.</summary>
    /// <returns>The new partition, as the table now describes it.</returns>
    /// <exception cref="BadArgumentException">No room, an overlap, an unaligned size, a field the scheme lacks, no free slot.</exception>
    /// <exception cref="NotSupportedException">The device is read-only.</exception>
    public abstract Partition Add(PartitionSpec spec);

    /// <summary>Removes partition <paramref name="number"/> and writes the table (MBR logical partitions after it are renumbered).</summary>
    /// <exception cref="BadArgumentException">There is no such partition, or it is an extended partition that still holds logical ones.</exception>
    /// <exception cref="NotSupportedException">The device is read-only.</exception>
    public abstract void Remove(int number);

    /// <summary>Changes a partition's type, name, flags or GUID and writes the table.</summary>
    /// <exception cref="BadArgumentException">There is no such partition or the change is not possible in this scheme.</exception>
    /// <exception cref="NotSupportedException">The device is read-only.</exception>
    public abstract Partition Update(int number, PartitionUpdate update);

    /// <summary>
    /// Checks the table: checksums, the two GPT copies, overlapping partitions, partitions outside the usable
    /// area or beyond the disk. With <see cref="CheckRepair.All"/> it repairs what can be repaired (a damaged or
    /// stale GPT copy, a backup GPT not at the end of the disk, a missing protective MBR).
    /// </summary>
    /// <exception cref="NotSupportedException">Repair was asked on a read-only device.</exception>
    public abstract ImageCheckResult Check(CheckRepair repair);

    /// <summary>The free ranges inside the usable area, in order.</summary>
    public IReadOnlyList<(long Start, long End)> FreeSpace()
        => PartitionPlacer.Free(Partitions.Where(p => p.Kind != PartitionKind.Logical).Select(p => (p.Start, p.End)), UsableStart, UsableEnd);
}
