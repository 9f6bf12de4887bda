using System.Runtime.InteropServices;

namespace Discemu.Formats.Ewf;

/// <summary>How a chunk is stored.</summary>
internal enum EwfChunkKind
{
    /// <summary>Raw chunk data followed by its Adler-32.</summary>
    Raw = 0,
    /// <summary>A zlib stream.</summary>
    Compressed = 1,
    /// <summary>EWF2 pattern fill: the location holds an 8-byte pattern repeated over the chunk.</summary>
    Pattern = 2,
    /// <summary>Raw chunk data without a checksum.</summary>
    RawUnchecked = 3,
}

/// <summary>
/// Where every chunk of the media lives: segment index and file offset packed in one long, stored
/// size and kind packed in one int (12 bytes a chunk).
/// </summary>
internal sealed class EwfChunkMap
{
    private const int KindShift = 30;
    private const int SizeMask = (1 << KindShift) - 1;
    private const long OffsetMask = (1L << 48) - 1;

    private readonly List<long> _locations = [];
    private readonly List<int> _sizes = [];

    /// <summary>Chunks recorded so far.</summary>
    public int Count => _locations.Count;

    /// <summary>Largest stored size a chunk may have (bounds reads).</summary>
    public const int MaxStoredSize = SizeMask;

    /// <summary>Appends a chunk.</summary>
    public void Add(int segment, long offset, int storedSize, EwfChunkKind kind)
    {
        if ((uint)segment > ushort.MaxValue || (ulong)offset > OffsetMask || (uint)storedSize > SizeMask)
            throw new InvalidOperationException("Chunk location out of range.");
        _locations.Add(((long)segment << 48) | offset);
        _sizes.Add(storedSize | ((int)kind << KindShift));
    }

    /// <summary>Drops chunks past <paramref name="count"/> (extra table entries).</summary>
    public void Truncate(int count)
    {
        if (count < _locations.Count)
        {
            _locations.RemoveRange(count, _locations.Count - count);
            _sizes.RemoveRange(count, _sizes.Count - count);
        }
    }

    /// <summary>The location of chunk <paramref name="index"/>.</summary>
    public (int Segment, long Offset, int StoredSize, EwfChunkKind Kind) Get(long index)
    {
        long loc = CollectionsMarshal.AsSpan(_locations)[(int)index];
        int size = CollectionsMarshal.AsSpan(_sizes)[(int)index];
        return ((int)(loc >>> 48), loc & OffsetMask, size & SizeMask, (EwfChunkKind)((uint)size >> KindShift));
    }
}
