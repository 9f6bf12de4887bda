using Discemu.Block;
using static Discemu.Formats.Vhd.VhdConstants;

namespace Discemu.Formats.Vhd;

public sealed partial class VhdSparseImage
{
    /// <summary>Most bytes of clean sector bitmaps kept in memory.</summary>
    private const long BitmapCacheBudget = 8L << 20;

    private readonly Dictionary<long, byte[]> _bitmaps = [];
    private readonly HashSet<long> _dirtyBitmaps = [];

    /// <inheritdoc/>
    protected override void ReadCore(long offset, Span<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            long block = offset >> _blockBits;
            int within = (int)(offset & (_blockSize - 1));
            int n = (int)Math.Min(buffer.Length, _blockSize - within);
            ReadInBlock(block, within, offset, buffer[..n]);
            offset += n;
            buffer = buffer[n..];
        }
    }

    private void ReadInBlock(long block, int within, long offset, Span<byte> part)
    {
        uint entry = Volatile.Read(ref _bat[block]);
        if (entry == Unallocated)
        {
            ReadBelow(offset, part);
            return;
        }
        long start = BlockStart(block, entry);
        var bitmap = GetBitmap(block, start);
        int pos = 0;
        int lastSector = (within + part.Length - 1) >> 9;
        while (pos < part.Length)
        {
            int sector = (within + pos) >> 9;
            int run = VhdBitmap.Run(bitmap, sector, lastSector - sector + 1, out bool present);
            int runEnd = Math.Min(part.Length, ((sector + run) << 9) - within);
            var span = part[pos..runEnd];
            if (present) ReadHost(start + _bitmapSize + within + pos, span);
            else ReadBelow(offset + pos, span);
            pos = runEnd;
        }
    }

    /// <summary>What a sector this file does not hold reads as: the parent's bytes (zeros past its end), or zeros.</summary>
    private void ReadBelow(long offset, Span<byte> part) => ReadBelow(IsDifferencing ? _backing : null, offset, part);

    /// <summary>The sector bitmap of an allocated block, cached.</summary>
    private byte[] GetBitmap(long block, long start)
    {
        lock (_lock)
            if (_bitmaps.TryGetValue(block, out var cached)) return cached;
        var fresh = new byte[_bitmapSize];
        ReadHost(start, fresh);
        lock (_lock)
        {
            if (_bitmaps.TryGetValue(block, out var cached)) return cached;
            if ((long)(_bitmaps.Count + 1) * _bitmapSize > BitmapCacheBudget) EvictCleanBitmaps();
            _bitmaps[block] = fresh;
            return fresh;
        }
    }

    /// <summary>Drops cached bitmaps that are written and not in use by a writer. Caller holds the lock.</summary>
    private void EvictCleanBitmaps()
    {
        var drop = new List<long>();
        foreach (var key in _bitmaps.Keys)
            if (!_dirtyBitmaps.Contains(key) && !_busy.Contains(key)) drop.Add(key);
        foreach (var key in drop) _bitmaps.Remove(key);
    }

    /// <inheritdoc/>
    protected override BlockStatus GetStatusCore(long offset, long maxLength)
    {
        long block = offset >> _blockBits;
        int within = (int)(offset & (_blockSize - 1));
        uint entry = Volatile.Read(ref _bat[block]);
        if (entry == Unallocated)
        {
            // Merge the following unallocated blocks into one answer.
            long end = Math.Min(offset + maxLength, (block + 1) << _blockBits);
            long limit = offset + maxLength;
            for (long b = block + 1; end < limit && b < _bat.Length && Volatile.Read(ref _bat[b]) == Unallocated; b++)
                end = Math.Min(limit, (b + 1) << _blockBits);
            return BelowStatus(offset, end - offset);
        }
        long start = BlockStart(block, entry);
        var bitmap = GetBitmap(block, start);
        int sector = within >> 9;
        int lastSector = (int)((Math.Min(within + maxLength, _blockSize) - 1) >> 9);
        int run = VhdBitmap.Run(bitmap, sector, lastSector - sector + 1, out bool present);
        long length = Math.Min(maxLength, ((long)(sector + run) << 9) - within);
        return present ? VhdImageInfo.HostStatus(File, start + _bitmapSize + within, length) : BelowStatus(offset, length);
    }

    private BlockStatus BelowStatus(long offset, long length)
    {
        var parent = IsDifferencing ? _backing : null;
        if (parent is null) return new BlockStatus(length, BlockStatusFlags.None);
        long available = parent.Length - offset;
        if (available <= 0) return new BlockStatus(length, BlockStatusFlags.Zero);
        return parent.GetStatus(offset, Math.Min(length, available)).Deeper();
    }
}
