using Discemu.Block;

namespace Discemu.Partitions;

/// <summary>
/// The partitioning schemes Discemu knows, registered explicitly like <see cref="Formats.FormatRegistry"/>.
/// Detection is by content: the highest probe score wins.
/// </summary>
public sealed class PartitionTableRegistry
{
    /// <summary>Bytes from the start of the disk every probe sees (LBA 0 and LBA 1 of 4096-byte sectors).</summary>
    public const int HeadLength = 8192;

    /// <summary>Bytes from the end of the disk every probe sees (the backup GPT header of any sector size).</summary>
    public const int TailLength = 4096;

    private readonly List<PartitionTableFormat> _formats = [];

    /// <summary>Creates a registry holding <paramref name="formats"/>.</summary>
    /// <exception cref="ArgumentException">Two formats share a name.</exception>
    public PartitionTableRegistry(params IEnumerable<PartitionTableFormat> formats)
    {
        foreach (var f in formats) Register(f);
    }

    /// <summary>Every built-in scheme. Add a new one here.</summary>
    public static PartitionTableRegistry Default { get; } = new(
        Gpt.GptFormat.Instance,
        Mbr.MbrFormat.Instance);

    /// <summary>The registered schemes in registration order.</summary>
    public IReadOnlyList<PartitionTableFormat> Formats => _formats;

    /// <summary>Adds a scheme.</summary>
    /// <exception cref="ArgumentException">One of that name is already registered.</exception>
    public void Register(PartitionTableFormat format)
    {
        ArgumentNullException.ThrowIfNull(format);
        if (TryFind(format.Name) is not null) throw new ArgumentException($"Partition table format '{format.Name}' is already registered.", nameof(format));
        _formats.Add(format);
    }

    /// <summary>The scheme named <paramref name="name"/> or one of its aliases (case-insensitive), or null.</summary>
    public PartitionTableFormat? TryFind(string name)
        => _formats.FirstOrDefault(f => string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase))
           ?? _formats.FirstOrDefault(f => f.Aliases.Contains(name, StringComparer.OrdinalIgnoreCase));

    /// <summary>The scheme named <paramref name="name"/>.</summary>
    /// <exception cref="BadArgumentException">No such scheme is registered.</exception>
    public PartitionTableFormat Find(string name)
        => TryFind(name) ?? throw new BadArgumentException($"Unknown partition table type '{name}'. Known types: {string.Join(", ", _formats.Select(f => f.Name))}.");

    /// <summary>Picks the scheme whose probe scores the disk's first and last bytes highest (ties: registration order).</summary>
    /// <returns>The best scheme and its score, or null when the disk holds no table any scheme recognises.</returns>
    public (PartitionTableFormat Format, int Score)? Probe(ReadOnlySpan<byte> head, ReadOnlySpan<byte> tail, long diskLength)
    {
        PartitionTableFormat? best = null;
        int bestScore = 0;
        foreach (var f in _formats)
        {
            int score;
            try { score = f.Probe(head, tail, diskLength); }
            catch (Exception) { score = 0; }
            if (score > bestScore)
            {
                best = f;
                bestScore = score;
            }
        }
        return best is null ? null : (best, bestScore);
    }

    /// <summary>Reads the first and last bytes of <paramref name="device"/> and probes them.</summary>
    /// <exception cref="CorruptImageException">The image below cannot read those bytes.</exception>
    public (PartitionTableFormat Format, int Score)? Probe(BlockDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        long length = device.Length;
        var head = new byte[(int)Math.Min(HeadLength, length)];
        var tail = new byte[(int)Math.Min(TailLength, length)];
        device.Read(0, head);
        device.Read(length - tail.Length, tail);
        return Probe(head, tail, length);
    }

    /// <summary>Reads the partition table on <paramref name="device"/>, or returns null when it has none.</summary>
    /// <exception cref="CorruptImageException">A table is there but damaged beyond reading.</exception>
    public PartitionTable? TryOpen(BlockDevice device, PartitionTableOpenOptions? options = null)
        => Probe(device) is { } best ? best.Format.Open(device, options) : null;

    /// <summary>Reads the partition table on <paramref name="device"/>.</summary>
    /// <exception cref="BadArgumentException">The disk has no partition table.</exception>
    /// <exception cref="CorruptImageException">A table is there but damaged beyond reading.</exception>
    public PartitionTable Open(BlockDevice device, PartitionTableOpenOptions? options = null)
        => TryOpen(device, options) ?? throw new BadArgumentException("The disk has no partition table (MBR or GPT).", options?.Path);
}
