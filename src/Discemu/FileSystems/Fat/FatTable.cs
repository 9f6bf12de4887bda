using System.Buffers.Binary;
using Discemu.Block;
using static Discemu.FileSystems.Fat.FatConstants;

namespace Discemu.FileSystems.Fat;

/// <summary>
/// One copy of the File Allocation Table, decoded into memory (one 32-bit value per cluster), for the checker.
/// The size is bounded by the device: the volume must fit it, and at most <see cref="MaxEntries"/> entries are held.
/// </summary>
internal sealed class FatTable
{
    /// <summary>The most entries held in memory (256 MiB of table).</summary>
    public const long MaxEntries = 64L << 20;

    private const int Chunk = 1 << 20;
    private readonly uint[] _entries;

    private FatTable(FatType type, uint[] entries)
    {
        Type = type;
        _entries = entries;
    }

    /// <summary>FAT12, FAT16 or FAT32.</summary>
    public FatType Type { get; }

    /// <summary>The highest valid data cluster number (cluster count + 1).</summary>
    public uint MaxCluster => (uint)(_entries.Length - 1);

    /// <summary>The raw entry for <paramref name="cluster"/> (FAT32: the low 28 bits).</summary>
    public uint this[uint cluster] => _entries[cluster];

    /// <summary>True when <paramref name="value"/> ends a chain.</summary>
    public bool IsEnd(uint value) => value >= FatTypes.EndOfChainMin(Type);

    /// <summary>True when <paramref name="value"/> marks a bad cluster.</summary>
    public bool IsBad(uint value) => value == FatTypes.BadCluster(Type);

    /// <summary>True when <paramref name="value"/> names a data cluster of this volume.</summary>
    public bool IsCluster(uint value) => value >= FirstCluster && value <= MaxCluster;

    /// <summary>Reads FAT number <paramref name="index"/> of the volume at the start of <paramref name="volume"/>.</summary>
    /// <exception cref="UnsupportedFeatureException">The volume has more clusters than the checker holds in memory.</exception>
    public static FatTable Read(BlockDevice volume, FatBootSector boot, int index)
    {
        long entries = boot.ClusterCount + 2;
        if (entries > MaxEntries) throw new UnsupportedFeatureException($"The volume has {boot.ClusterCount} clusters; checking more than {MaxEntries - 2} is not supported.");
        var type = boot.Type;
        long start = FatStart(boot, index);
        long bytes = FatTypes.FatBytes(type, entries);
        var values = new uint[entries];
        var buffer = new byte[(int)Math.Min(Chunk + 4, bytes)];
        // Decode chunk by chunk; entry n of FAT12 straddles bytes n*3/2 and n*3/2+1.
        long entry = 0;
        while (entry < entries)
        {
            long byteAt = type switch { FatType.Fat12 => entry * 3 / 2, FatType.Fat16 => entry * 2, _ => entry * 4 };
            int take = (int)Math.Min(buffer.Length, bytes - byteAt);
            var span = buffer.AsSpan(0, take);
            volume.Read(start + byteAt, span);
            int pos = 0;
            long before = entry;
            while (entry < entries)
            {
                if (type == FatType.Fat12)
                {
                    if (pos + 2 > take) break;
                    ushort pair = BinaryPrimitives.ReadUInt16LittleEndian(span[pos..]);
                    values[entry] = (entry & 1) == 0 ? pair & 0x0FFFu : (uint)pair >> 4;
                    pos += (entry & 1) == 0 ? 1 : 2;
                }
                else if (type == FatType.Fat16)
                {
                    if (pos + 2 > take) break;
                    values[entry] = BinaryPrimitives.ReadUInt16LittleEndian(span[pos..]);
                    pos += 2;
                }
                else
                {
                    if (pos + 4 > take) break;
                    values[entry] = BinaryPrimitives.ReadUInt32LittleEndian(span[pos..]) & Fat32EntryMask;
                    pos += 4;
                }
                entry++;
            }
            if (entry == before) break;
        }
        return new FatTable(type, values);
    }

    /// <summary>The byte offset of FAT <paramref name="index"/> in the volume.</summary>
    public static long FatStart(FatBootSector boot, int index) => (boot.ReservedSectors + index * boot.FatSize) * boot.BytesPerSector;

    /// <summary>
    /// The clusters of the chain starting at <paramref name="first"/>, in order.
    /// </summary>
    /// <param name="first">The first cluster.</param>
    /// <param name="maxClusters">The longest chain accepted.</param>
    /// <exception cref="CorruptImageException">The chain loops, leaves the volume, reaches a free or bad cluster, or is longer than <paramref name="maxClusters"/>.</exception>
    public List<uint> Chain(uint first, long maxClusters)
    {
        var result = new List<uint>();
        var seen = new HashSet<uint>();
        uint c = first;
        while (true)
        {
            if (!IsCluster(c)) throw new CorruptImageException($"The cluster chain starting at {first} reaches cluster {c}, outside 2..{MaxCluster}.");
            if (!seen.Add(c)) throw new CorruptImageException($"The cluster chain starting at {first} loops back to cluster {c}.");
            if (result.Count >= maxClusters) throw new CorruptImageException($"The cluster chain starting at {first} is longer than {maxClusters} clusters.");
            result.Add(c);
            uint next = this[c];
            if (IsEnd(next)) return result;
            if (next == 0) throw new CorruptImageException($"The cluster chain starting at {first} reaches free cluster {c}.");
            if (IsBad(next)) throw new CorruptImageException($"The cluster chain starting at {first} reaches a bad cluster after {c}.");
            c = next;
        }
    }
}
