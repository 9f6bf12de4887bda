using System.Buffers.Binary;
using static Discemu.FileSystems.Fat.FatConstants;

namespace Discemu.FileSystems.Fat;

/// <summary>The FAT in memory: entries, chains (with loop and range checks), allocation and writing back.</summary>
internal sealed partial class FatFileSystem
{
    private readonly byte[] _fat;
    private readonly bool[] _dirtyFat;
    private bool _anyDirty;
    private uint _freeCount;
    private uint _nextFree = FirstCluster;

    /// <summary>The FAT entry of <paramref name="cluster"/>.</summary>
    private uint Get(uint cluster)
    {
        switch (_type)
        {
            case FatType.Fat12:
                {
                    int at = (int)(cluster + cluster / 2);
                    int v = _fat[at] | _fat[at + 1] << 8;
                    return (uint)((cluster & 1) != 0 ? v >> 4 : v & 0xFFF);
                }
            case FatType.Fat16:
                return BinaryPrimitives.ReadUInt16LittleEndian(_fat.AsSpan((int)cluster * 2));
            default:
                return BinaryPrimitives.ReadUInt32LittleEndian(_fat.AsSpan((int)cluster * 4)) & Fat32EntryMask;
        }
    }

    /// <summary>Sets the FAT entry of <paramref name="cluster"/> and marks its sectors dirty.</summary>
    private void Set(uint cluster, uint value)
    {
        int at, len;
        switch (_type)
        {
            case FatType.Fat12:
                at = (int)(cluster + cluster / 2);
                len = 2;
                if ((cluster & 1) != 0)
                {
                    _fat[at] = (byte)((_fat[at] & 0x0Fu) | ((value & 0x0Fu) << 4));
                    _fat[at + 1] = (byte)(value >> 4);
                }
                else
                {
                    _fat[at] = (byte)value;
                    _fat[at + 1] = (byte)((_fat[at + 1] & 0xF0u) | ((value >> 8) & 0x0Fu));
                }
                break;
            case FatType.Fat16:
                at = (int)cluster * 2;
                len = 2;
                BinaryPrimitives.WriteUInt16LittleEndian(_fat.AsSpan(at), (ushort)value);
                break;
            default:
                at = (int)cluster * 4;
                len = 4;
                uint old = BinaryPrimitives.ReadUInt32LittleEndian(_fat.AsSpan(at));
                BinaryPrimitives.WriteUInt32LittleEndian(_fat.AsSpan(at), old & ~Fat32EntryMask | value & Fat32EntryMask);
                break;
        }
        int bps = _boot.BytesPerSector;
        _dirtyFat[at / bps] = true;
        _dirtyFat[(at + len - 1) / bps] = true;
        _anyDirty = true;
    }

    private bool IsEnd(uint value) => value >= FatTypes.EndOfChainMin(_type);

    private void CountFree()
    {
        uint free = 0;
        for (uint c = FirstCluster; c <= MaxCluster; c++)
            if (Get(c) == 0) free++;
        _freeCount = free;
    }

    /// <summary>
    /// The clusters of the chain starting at <paramref name="first"/> (empty for 0), stopping after
    /// <paramref name="limit"/> clusters when it is not negative.
    /// </summary>
    /// <exception cref="CorruptImageException">The chain leaves the data area, reaches a free or bad cluster, or loops.</exception>
    private List<uint> Chain(uint first, long limit = -1)
    {
        var chain = new List<uint>();
        if (first == 0) return chain;
        var seen = new HashSet<uint>();
        uint c = first;
        while (true)
        {
            if (c < FirstCluster || c > MaxCluster)
                throw new CorruptImageException($"A cluster chain reaches cluster {c}, outside the data area (2..{MaxCluster}).", DisplayPath);
            if (!seen.Add(c)) throw new CorruptImageException($"The cluster chain starting at {first} loops (cluster {c} is reached twice).", DisplayPath);
            chain.Add(c);
            if (limit >= 0 && chain.Count >= limit) return chain;
            if (chain.Count > _clusterCount)
                throw new CorruptImageException($"The cluster chain starting at {first} loops.", DisplayPath);
            uint next = Get(c);
            if (IsEnd(next)) return chain;
            if (next == 0) throw new CorruptImageException($"The cluster chain starting at {first} reaches free cluster {c}'s entry 0.", DisplayPath);
            if (next == FatTypes.BadCluster(_type)) throw new CorruptImageException($"The cluster chain starting at {first} reaches a bad cluster.", DisplayPath);
            c = next;
        }
    }

    /// <summary>Allocates <paramref name="count"/> free clusters as one chain ending in end-of-chain (in memory only).</summary>
    /// <exception cref="DiskFullException">Fewer free clusters remain.</exception>
    private List<uint> Allocate(long count)
    {
        var list = new List<uint>();
        if (count == 0) return list;
        if (count > _freeCount)
            throw new DiskFullException($"No space left: {count} clusters needed, {_freeCount} free.", DisplayPath);
        uint c = _nextFree < FirstCluster || _nextFree > MaxCluster ? FirstCluster : _nextFree;
        for (uint scanned = 0; list.Count < count && scanned < _clusterCount; scanned++)
        {
            if (Get(c) == 0)
            {
                if (list.Count > 0) Set(list[^1], c);
                Set(c, FatTypes.EndOfChain(_type));
                list.Add(c);
            }
            c = c == MaxCluster ? FirstCluster : c + 1;
        }
        if (list.Count < count)
        {
            Release(list);
            throw new CorruptImageException("The free cluster count does not match the FAT.", DisplayPath);
        }
        _freeCount -= (uint)count;
        _nextFree = c;
        return list;
    }

    /// <summary>Marks the clusters free again in memory (undoing <see cref="Allocate"/> before anything points at them).</summary>
    private void Release(List<uint> clusters)
    {
        foreach (var c in clusters) Set(c, 0);
    }

    /// <summary>Frees allocated clusters and counts them as free.</summary>
    private void Free(List<uint> clusters)
    {
        foreach (var c in clusters)
        {
            Set(c, 0);
            _freeCount++;
        }
    }

    /// <summary>Writes the dirty FAT sectors to every FAT copy (only the active one when FAT32 mirroring is off), then FSInfo.</summary>
    private void CommitFat()
    {
        if (!Deferring) CommitFatNow();
    }

    /// <summary>Writes the dirty FAT sectors now, even in write-back mode.</summary>
    private void CommitFatNow()
    {
        FlushNewClusters(); // content before the FAT that makes it reachable
        if (!_anyDirty) return;
        int bps = _boot.BytesPerSector;
        for (int s = 0; s < _dirtyFat.Length; s++)
        {
            if (!_dirtyFat[s]) continue;
            int e = s;
            while (e + 1 < _dirtyFat.Length && _dirtyFat[e + 1]) e++;
            var bytes = _fat.AsSpan(s * bps, Math.Min((e - s + 1) * bps, _fat.Length - s * bps));
            for (int copy = 0; copy < _boot.NumberOfFats; copy++)
            {
                if (!_boot.Mirrored && copy != _boot.ActiveFat) continue;
                _device.Write(_fatOffset + copy * _fatLength + (long)s * bps, bytes);
            }
            for (int k = s; k <= e; k++) _dirtyFat[k] = false;
            s = e;
        }
        _anyDirty = false;
        _fsInfoDirty = true;
    }

    private bool _fsInfoDirty;

    /// <summary>Writes FSInfo's free count and next-free hint when allocation changed (on Flush and Dispose).</summary>
    private void WriteFsInfo()
    {
        if (!_boot.HasFsInfo || !_fsInfoDirty) return;
        _fsInfoDirty = false;
        var sector = new byte[_boot.BytesPerSector];
        long at = (long)_boot.FsInfoSector * _boot.BytesPerSector;
        FlushNewClusters();
        _device.Read(at, sector);
        // Keep the reserved bytes as they are when the sector is valid; otherwise write a fresh one.
        if (!FatFsInfo.TryRead(sector, out _)) new FatFsInfo(0, 0).Write(sector);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(sector.AsSpan(488), _freeCount);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(sector.AsSpan(492), _nextFree);
        _device.Write(at, sector.AsSpan(0, BootSectorLength));
    }
}
