using System.Buffers.Binary;
using static Discemu.Formats.Vdi.VdiConstants;

namespace Discemu.Formats.Vdi;

public sealed partial class VdiImage
{
    /// <inheritdoc/>
    /// <remarks>
    /// Growing adds block map entries in the room between the map and the data area (qemu-img and VirtualBox
    /// leave the map's last sector; Discemu's images leave more only when made larger); a static image gets the
    /// new blocks allocated. Shrinking keeps the blocks (the map size never shrinks) but clears what lies past
    /// the new end, so growing again reads zeros. Not to be called while other threads do I/O.
    /// </remarks>
    /// <exception cref="BadArgumentException">The size is not a multiple of 512.</exception>
    /// <exception cref="UnsupportedFeatureException">The block map has no room for the new size.</exception>
    protected override void ResizeCore(long newLength)
    {
        if (newLength % SectorSize != 0) throw new BadArgumentException($"The size {newLength} is not a multiple of 512 bytes.", Path);
        long oldLength = Length;
        if (newLength == oldLength) return;
        if (newLength < oldLength) ZeroRange(newLength, oldLength - newLength, unmap: true);
        lock (_lock)
        {
            long needed = (newLength + _header.BlockSize - 1) >> _blockBits;
            if (needed > _header.BlocksInImage) GrowMap(needed);
            Span<byte> b = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(b, (ulong)newLength);
            File.Write(VdiHeader.DiskSizeOffset, b);
            _header = _header with { DiskSize = newLength };
            Volatile.Write(ref _size, newLength);
        }
        if (newLength > oldLength) ZeroRange(oldLength, newLength - oldLength, unmap: true);
    }

    /// <summary>Adds map entries up to <paramref name="blocks"/> (free, or allocated for a static image). Caller holds the lock.</summary>
    private void GrowMap(long blocks)
    {
        var h = _header;
        long room = (h.DataOffset - (long)h.BlocksOffset) / 4;
        if (blocks > room || blocks > MaxBlocks)
            throw new UnsupportedFeatureException($"The VDI block map has room for {Math.Min(room, MaxBlocks)} blocks ({Math.Min(room, MaxBlocks) * h.BlockSize} bytes); convert the image to make it larger.", Path);
        int old = _map.Length;
        var map = new uint[blocks];
        _map.CopyTo(map, 0);
        Array.Fill(map, BlockFree, old, (int)blocks - old);
        var raw = new byte[(blocks - old) * 4];
        raw.AsSpan().Fill(0xFF);
        File.Write(h.BlocksOffset + old * 4L, raw);
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, (uint)blocks);
        File.Write(VdiHeader.BlocksInImageOffset, b);
        _header = h with { BlocksInImage = (uint)blocks };
        _map = map;
        if (h.ImageType != TypeFixed) return;
        // A static image keeps every block allocated: the new ones get slots at the end (reading zeros).
        for (long block = old; block < blocks; block++)
        {
            uint slot = _nextSlot++;
            WriteBlocksAllocated(slot + 1);
            GrowFile(_header.DataOffset + (slot + 1) * _header.SlotSize);
            BinaryPrimitives.WriteUInt32LittleEndian(b, slot);
            File.Write(h.BlocksOffset + block * 4, b);
            _map[block] = slot;
        }
    }

    /// <summary>Frees every block, so the whole disk reads from the parent (or as zeros), and gives the data area back. Not to be called during other I/O.</summary>
    /// <exception cref="NotSupportedException">The image is read-only.</exception>
    public void MakeEmpty()
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if (!CanWrite) throw new NotSupportedException("The device is read-only.");
        lock (_lock)
        {
            Array.Fill(_map, BlockFree);
            var raw = new byte[_map.Length * 4L];
            raw.AsSpan().Fill(0xFF);
            File.Write(_header.BlocksOffset, raw);
            File.Flush();
            WriteBlocksAllocated(0);
            File.Flush();
            File.Resize(Math.Max(_header.DataOffset, _header.BlocksOffset + raw.Length));
            _freeSlots.Clear();
            _nextSlot = 0;
        }
    }
}
