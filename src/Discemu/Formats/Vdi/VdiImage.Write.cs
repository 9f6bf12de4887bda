using System.Buffers;
using System.Buffers.Binary;
using static Discemu.Formats.Vdi.VdiConstants;

namespace Discemu.Formats.Vdi;

public sealed partial class VdiImage
{
    private readonly HashSet<long> _busy = [];
    private readonly Stack<uint> _freeSlots = new();
    private uint _nextSlot;

    /// <summary>
    /// Finds where new blocks go: after the highest slot in use or counted in the header, reusing first the
    /// slots the header counts that no block uses (left by a write cut short).
    /// </summary>
    private void InitializeAllocator()
    {
        var h = _header;
        long maxUsed = -1;
        var used = new System.Collections.BitArray((int)h.BlocksInImage);
        foreach (uint e in _map)
        {
            if (e >= BlockZero || e >= h.BlocksInImage) continue;
            used[(int)e] = true;
            maxUsed = Math.Max(maxUsed, e);
        }
        _nextSlot = (uint)Math.Min(h.BlocksInImage, Math.Max(h.BlocksAllocated, maxUsed + 1));
        if (!_writable) return;
        for (int s = (int)_nextSlot - 1; s >= 0; s--)
            if (!used[s]) _freeSlots.Push((uint)s);
    }

    private void Acquire(long block)
    {
        lock (_lock)
        {
            while (!_busy.Add(block)) Monitor.Wait(_lock);
        }
    }

    private void Release(long block)
    {
        lock (_lock)
        {
            _busy.Remove(block);
            Monitor.PulseAll(_lock);
        }
    }

    /// <inheritdoc/>
    protected override void WriteCore(long offset, ReadOnlySpan<byte> data)
    {
        int blockSize = _header.BlockSize;
        while (!data.IsEmpty)
        {
            long block = offset >> _blockBits;
            int within = (int)(offset & (blockSize - 1));
            int n = (int)Math.Min(data.Length, blockSize - within);
            Acquire(block);
            try { WriteInBlock(block, within, offset, data[..n]); }
            finally { Release(block); }
            offset += n;
            data = data[n..];
        }
    }

    /// <summary>Writes into one block the caller holds busy, allocating a slot for it when it has none.</summary>
    private void WriteInBlock(long block, int within, long offset, ReadOnlySpan<byte> data)
    {
        uint entry = Volatile.Read(ref _map[block]);
        if (entry < BlockZero)
        {
            long host = SlotOffset(CheckSlot(block, entry));
            if (host + _header.BlockSize > File.Length) lock (_lock) GrowFile(host + _header.BlockSize);
            File.Write(host + within, data);
            return;
        }
        int blockSize = _header.BlockSize;
        var (slot, fresh) = ReserveSlot();
        long start = SlotOffset(slot);
        bool belowIsZero = entry == BlockZero || !IsDifferencing || _backing is null;
        if ((within == 0 && data.Length == blockSize) || (fresh && belowIsZero))
        {
            File.Write(start + within, data);
        }
        else
        {
            // The rest of the block must keep what it showed: the parent's bytes, or zeros over old bytes in a reused slot.
            byte[] buffer = ArrayPool<byte>.Shared.Rent(blockSize);
            try
            {
                var span = buffer.AsSpan(0, blockSize);
                if (belowIsZero) span.Clear();
                else ReadBelow(offset - within, span);
                data.CopyTo(span[within..]);
                File.Write(start, span);
            }
            finally { ArrayPool<byte>.Shared.Return(buffer); }
        }
        SetEntry(block, slot);
    }

    /// <summary>Claims a slot for a new block: counted in the header before any data goes in. Returns whether its bytes are new (read as zeros).</summary>
    /// <exception cref="CorruptImageException">Every slot is taken (the header's counts are inconsistent).</exception>
    private (uint Slot, bool Fresh) ReserveSlot()
    {
        lock (_lock)
        {
            uint slot;
            bool reused = _freeSlots.Count > 0;
            if (reused) slot = _freeSlots.Pop();
            else
            {
                if (_nextSlot >= _header.BlocksInImage)
                    throw new CorruptImageException($"No free slot for a new block: the header counts {_header.BlocksAllocated} allocated of {_header.BlocksInImage} blocks.", Path);
                slot = _nextSlot++;
            }
            long start = _header.DataOffset + slot * _header.SlotSize;
            bool fresh = !reused && start >= File.Length;
            if (slot + 1 > _header.BlocksAllocated) WriteBlocksAllocated(slot + 1);
            GrowFile(start + _header.SlotSize);
            return (slot, fresh);
        }
    }

    /// <summary>Grows the file to <paramref name="length"/> bytes (never shrinks). Caller holds the lock.</summary>
    private void GrowFile(long length)
    {
        if (File.Length < length) File.Resize(length);
    }

    private void WriteBlocksAllocated(uint count)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, count);
        File.Write(VdiHeader.BlocksAllocatedOffset, b);
        _header = _header with { BlocksAllocated = count };
    }

    /// <summary>Points a block's map entry at a slot (or free/zero), on disk then in memory.</summary>
    private void SetEntry(long block, uint value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        lock (_lock)
        {
            File.Write(_header.BlocksOffset + block * 4, b);
            Volatile.Write(ref _map[block], value);
        }
    }

    /// <inheritdoc/>
    protected override void FlushCore() => File.Flush();

    /// <inheritdoc/>
    protected override void WriteZeroesCore(long offset, long length, bool mayUnmap) => ZeroRange(offset, length, mayUnmap);

    /// <summary>Discard makes the range read as zeros (allocated blocks are punched; a differencing image's free blocks become zero blocks).</summary>
    protected override void DiscardCore(long offset, long length) => ZeroRange(offset, length, unmap: true);

    private void ZeroRange(long offset, long length, bool unmap)
    {
        int blockSize = _header.BlockSize;
        long end = offset + length;
        while (offset < end)
        {
            long block = offset >> _blockBits;
            int within = (int)(offset & (blockSize - 1));
            int n = (int)Math.Min(end - offset, blockSize - within);
            Acquire(block);
            try { ZeroInBlock(block, within, offset, n, unmap); }
            finally { Release(block); }
            offset += n;
        }
    }

    private void ZeroInBlock(long block, int within, long offset, int length, bool unmap)
    {
        uint entry = Volatile.Read(ref _map[block]);
        if (entry == BlockZero) return;
        if (entry == BlockFree)
        {
            if (!IsDifferencing) return; // already zeros
            long blockStart = block << _blockBits;
            bool whole = within == 0 && (length == _header.BlockSize || offset + length >= Length);
            if (whole) SetEntry(block, BlockZero);
            else
            {
                byte[] zeros = ArrayPool<byte>.Shared.Rent(length);
                try
                {
                    Array.Clear(zeros, 0, length);
                    WriteInBlock(block, within, blockStart + within, zeros.AsSpan(0, length));
                }
                finally { ArrayPool<byte>.Shared.Return(zeros); }
            }
            return;
        }
        long host = SlotOffset(CheckSlot(block, entry)) + within;
        long fileEnd = File.Length;
        if (host < fileEnd) File.WriteZeroes(host, Math.Min(length, fileEnd - host), unmap);
    }
}
