using static Discemu.Formats.Vdi.VdiConstants;

namespace Discemu.Formats.Vdi;

public sealed partial class VdiImage
{
    /// <summary>
    /// Checks the block map as <c>qemu-img check</c> does for VDI, with its messages: entries past the image's
    /// blocks, slots used twice, and the header's allocated-blocks count against the entries. qemu-img cannot
    /// repair VDI; with <see cref="CheckRepair.All"/> Discemu frees entries past the image's blocks and corrects
    /// the count when the slots in use are exactly the first ones (slots used twice are left alone).
    /// </summary>
    /// <exception cref="NotSupportedException">A repair was asked for on an image opened read-only.</exception>
    public ImageCheckResult Check(CheckRepair repair)
    {
        if (repair != CheckRepair.None && !CanWrite) throw new NotSupportedException("Repairing needs the image opened for writing.");
        bool fix = (repair & CheckRepair.All) == CheckRepair.All;
        var result = new ImageCheckResult();
        lock (_lock)
        {
            var h = _header;
            var seen = new System.Collections.BitArray((int)h.BlocksInImage);
            long counted = 0, maxUsed = -1;
            bool duplicates = false;
            for (long block = 0; block < _map.Length; block++)
            {
                uint e = _map[block];
                if (e >= BlockZero) continue;
                if (e >= h.BlocksInImage)
                {
                    result.Messages.Add($"ERROR: block index {block} too large, is {e}");
                    if (fix)
                    {
                        SetEntryLocked(block, BlockFree);
                        result.CorruptionsFixed++;
                    }
                    else result.Corruptions++;
                    continue;
                }
                counted++;
                maxUsed = Math.Max(maxUsed, e);
                if (seen[(int)e])
                {
                    result.Messages.Add($"ERROR: block index {e} also used by {e}");
                    result.Corruptions++;
                    duplicates = true;
                }
                else seen[(int)e] = true;
            }
            if (counted != h.BlocksAllocated)
            {
                result.Messages.Add($"ERROR: allocated blocks mismatch, is {counted}, should be {h.BlocksAllocated}");
                if (fix && !duplicates && maxUsed + 1 == counted)
                {
                    WriteBlocksAllocated((uint)counted);
                    result.CorruptionsFixed++;
                }
                else result.Corruptions++;
            }
            if (result.CorruptionsFixed > 0)
            {
                File.Flush();
                _freeSlots.Clear();
                InitializeAllocator();
            }
        }
        return result;
    }

    private void SetEntryLocked(long block, uint value)
    {
        Span<byte> b = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        File.Write(_header.BlocksOffset + block * 4, b);
        _map[block] = value;
    }
}
