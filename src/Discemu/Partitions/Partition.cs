namespace Discemu.Partitions;

/// <summary>Where a partition sits in its table.</summary>
public enum PartitionKind
{
    /// <summary>An MBR primary partition (numbers 1–4) or a GPT entry.</summary>
    Primary,
    /// <summary>An MBR extended partition: a container for logical partitions.</summary>
    Extended,
    /// <summary>An MBR logical partition inside the extended one (numbers 5 and up, in chain order).</summary>
    Logical,
}

/// <summary>One partition as the table describes it. Offsets and lengths are in bytes.</summary>
public sealed record Partition
{
    /// <summary>The number users address it by: MBR 1–4 primary, 5+ logical (as Linux numbers them); GPT the entry slot + 1.</summary>
    public required int Number { get; init; }

    /// <summary>Primary, extended or logical.</summary>
    public PartitionKind Kind { get; init; } = PartitionKind.Primary;

    /// <summary>First byte of the partition on the disk.</summary>
    public required long Start { get; init; }

    /// <summary>Length in bytes.</summary>
    public required long Length { get; init; }

    /// <summary>The byte just past the partition (<see cref="Start"/> + <see cref="Length"/>).</summary>
    public long End => Start + Length;

    /// <summary>The type (GUID or MBR byte) with its friendly name.</summary>
    public required PartitionType Type { get; init; }

    /// <summary>The GPT partition name (label); null on MBR disks.</summary>
    public string? Name { get; init; }

    /// <summary>MBR: the boot indicator (0x80). GPT: attribute bit 2, "legacy BIOS bootable".</summary>
    public bool Bootable { get; init; }

    /// <summary>The GPT attribute bits (0 on MBR disks): bit 0 required, 1 no block I/O protocol, 2 legacy BIOS bootable, 48–63 type-specific.</summary>
    public ulong Attributes { get; init; }

    /// <summary>The GPT unique partition GUID; null on MBR disks.</summary>
    public Guid? UniqueId { get; init; }

    /// <summary>The flags in words: "boot" on MBR; the GPT attribute names (<see cref="Gpt.GptAttributes"/>).</summary>
    public IReadOnlyList<string> Flags => UniqueId is null
        ? (Bootable ? ["boot"] : [])
        : Gpt.GptAttributes.Names(Attributes);
}

/// <summary>What <see cref="PartitionTable.Add"/> is asked to create. Offsets and lengths are in bytes.</summary>
public sealed record PartitionSpec
{
    /// <summary>The type.</summary>
    public required PartitionType Type { get; init; }

    /// <summary>The first byte; null picks the first aligned free place where the partition fits.</summary>
    public long? Start { get; init; }

    /// <summary>The length; null with <see cref="End"/> null takes the rest of the free space at the start.</summary>
    public long? Length { get; init; }

    /// <summary>The byte just past the partition (exclusive end); an alternative to <see cref="Length"/>.</summary>
    public long? End { get; init; }

    /// <summary>The number to use (a free GPT slot or MBR primary slot 1–4); null takes the first free one.</summary>
    public int? Number { get; init; }

    /// <summary>The GPT name (at most 36 UTF-16 code units); refused on MBR disks.</summary>
    public string? Name { get; init; }

    /// <summary>Set the MBR boot indicator or the GPT legacy-BIOS-bootable attribute.</summary>
    public bool Bootable { get; init; }

    /// <summary>GPT attribute bits to set (refused on MBR disks unless 0).</summary>
    public ulong Attributes { get; init; }

    /// <summary>Create a logical partition inside the MBR extended partition.</summary>
    public bool Logical { get; init; }

    /// <summary>The GPT unique GUID; null makes a random one.</summary>
    public Guid? UniqueId { get; init; }
}

/// <summary>Changes <see cref="PartitionTable.Update"/> makes to an existing partition; null leaves a field as it is.</summary>
public sealed record PartitionUpdate
{
    /// <summary>New type.</summary>
    public PartitionType? Type { get; init; }

    /// <summary>New GPT name ("" clears it).</summary>
    public string? Name { get; init; }

    /// <summary>Set or clear the MBR boot indicator / GPT legacy-BIOS-bootable attribute.</summary>
    public bool? Bootable { get; init; }

    /// <summary>New GPT attribute bits (replacing all of them; <see cref="Bootable"/> applies after).</summary>
    public ulong? Attributes { get; init; }

    /// <summary>New GPT unique GUID.</summary>
    public Guid? UniqueId { get; init; }
}
