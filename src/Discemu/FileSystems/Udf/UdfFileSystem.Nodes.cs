using System.Buffers.Binary;
using static Discemu.FileSystems.Udf.UdfConstants;

namespace Discemu.FileSystems.Udf;

internal sealed partial class UdfFileSystem
{
    /// <summary>
    /// Reads the current file entry of the ICB at <paramref name="address"/>: indirect entries are followed and,
    /// under strategy 4096 (ECMA-167 4/A.6), later direct entries in the ICB replace earlier ones.
    /// </summary>
    /// <exception cref="CorruptImageException">No file entry is there, or the indirect entries loop.</exception>
    private UdfNode ReadNode(UdfIcbAddress address)
    {
        var visited = new HashSet<UdfIcbAddress>();
        UdfNode? current = null;
        var at = address;
        bool nextSlot = false;
        for (int hops = 0; ; hops++)
        {
            if (hops > MaxIcbHops || !visited.Add(at))
                throw new CorruptImageException($"The ICB at {address} loops through its indirect entries.", DisplayPath);
            byte[] block;
            UdfTag? tag;
            try { block = ReadBlock(at, out tag); }
            catch (CorruptImageException) when (nextSlot) { break; } // a strategy 4096 slot that is not there
            nextSlot = false;
            if (tag is { Identifier: TagIndirectEntry })
            {
                var next = UdfLongAd.Read(block.AsSpan(36));
                if (next.Length == 0) break;
                at = new UdfIcbAddress(next.Partition, next.Block);
                continue;
            }
            if (tag is not { Identifier: TagFileEntry or TagExtendedFileEntry } t)
            {
                if (current is not null) break; // the end of the recorded entries of a strategy 4096 ICB
                throw new CorruptImageException($"There is no file entry at {at}{(at != address ? $" (reached from {address})" : "")}.", DisplayPath);
            }
            current = UdfNode.Parse(block, t.Identifier, at, DisplayPath);
            if (current.Strategy != 4096 || current.MaxEntries < 2 || at.Block == uint.MaxValue) break;
            at = at with { Block = at.Block + 1 }; // the next slot of the ICB
            nextSlot = true;
        }
        if (current is null) throw new CorruptImageException($"The ICB at {address} holds no file entry.", DisplayPath);
        if (current.FileType == FileTypeTerminal) throw new CorruptImageException($"The ICB at {address} is terminated.", DisplayPath);
        return current;
    }

    /// <summary>Reads one logical block and its tag (null when it holds no valid descriptor).</summary>
    /// <exception cref="CorruptImageException">The partition reference or block is out of range.</exception>
    private byte[] ReadBlock(UdfIcbAddress at, out UdfTag? tag)
    {
        var runs = new List<UdfRun>(1);
        Partition(at.Partition).Map(at.Block, _blockSize, runs);
        var block = new byte[_blockSize];
        ReadRuns(runs, block);
        tag = UdfTag.TryRead(block, at.Block, out var t) ? t : null;
        return block;
    }

    private UdfPartition Partition(ushort reference)
        => reference < _partitions.Count && _partitions[reference] is { } p ? p
            : throw new CorruptImageException($"Partition reference {reference} does not exist (the volume has {_partitions.Count} partition maps).", DisplayPath);

    private void ReadRuns(List<UdfRun> runs, Span<byte> buffer)
    {
        foreach (var run in runs)
        {
            int n = (int)Math.Min(run.Length, buffer.Length);
            if (run.Offset < 0) buffer[..n].Clear();
            else
            {
                if (run.Offset + n > _device.Length) throw new CorruptImageException($"Byte {run.Offset}+{n} lies outside the image ({_device.Length} bytes).", DisplayPath);
                _device.Read(run.Offset, buffer[..n]);
            }
            buffer = buffer[n..];
        }
        buffer.Clear();
    }

    /// <summary>
    /// The allocation extents of <paramref name="node"/>: its short, long or extended allocation descriptors,
    /// continued through allocation extent descriptors (ECMA-167 4/14.5).
    /// </summary>
    /// <exception cref="CorruptImageException">The descriptors are damaged or their chain loops or is too long.</exception>
    /// <exception cref="UnsupportedFeatureException">The descriptor type is unknown.</exception>
    private List<UdfExtent> ReadExtents(UdfNode node)
    {
        int type = node.AdType;
        int size = type switch { AdShort => 8, AdLong => 16, AdExtended => 20, _ => throw new UnsupportedFeatureException($"Allocation descriptor type {type} of the file entry at {node.Address} is not defined.", DisplayPath) };
        var extents = new List<UdfExtent>();
        var area = node.Descriptors;
        var visited = new HashSet<UdfIcbAddress>();
        for (int chain = 0; ; chain++)
        {
            UdfIcbAddress? next = null;
            for (int pos = 0; pos + size <= area.Length; pos += size)
            {
                var ad = area.AsSpan(pos, size);
                uint raw = BinaryPrimitives.ReadUInt32LittleEndian(ad);
                uint length = raw & ExtentLengthMask;
                int kind = (int)(raw >> 30);
                if (length == 0) break; // the end of the descriptors (ECMA-167 4/12.1)
                uint block = BinaryPrimitives.ReadUInt32LittleEndian(ad[(type == AdExtended ? 12 : 4)..]);
                ushort partition = type switch
                {
                    AdShort => node.Address.Partition,
                    AdLong => BinaryPrimitives.ReadUInt16LittleEndian(ad[8..]),
                    _ => BinaryPrimitives.ReadUInt16LittleEndian(ad[16..]),
                };
                if (kind == ExtentNext)
                {
                    next = new UdfIcbAddress(partition, block);
                    break;
                }
                if (extents.Count >= MaxExtents) throw new CorruptImageException($"The file at {node.Address} has more than {MaxExtents} extents.", DisplayPath);
                extents.Add(new UdfExtent(kind, length, partition, block));
            }
            if (next is not { } at) return extents;
            if (chain >= MaxAllocationExtentChain || !visited.Add(at))
                throw new CorruptImageException($"The allocation extent chain of the file at {node.Address} loops or is too long.", DisplayPath);
            var aed = ReadBlock(at, out var tag);
            if (tag is not { Identifier: TagAllocationExtent })
                throw new CorruptImageException($"There is no allocation extent descriptor at {at} (continuing the file at {node.Address}).", DisplayPath);
            uint length2 = BinaryPrimitives.ReadUInt32LittleEndian(aed.AsSpan(20));
            if (length2 > aed.Length - 24) throw new CorruptImageException($"The allocation extent descriptor at {at} claims {length2} bytes.", DisplayPath);
            area = aed.AsSpan(24, (int)length2).ToArray();
        }
    }

    /// <summary>
    /// The device runs of <paramref name="node"/>'s content, covering exactly its size; allocated but
    /// unrecorded extents and sparse ones read as zeros.
    /// </summary>
    /// <exception cref="CorruptImageException">The extents are outside their partitions, overlap, or end before the size.</exception>
    private List<UdfRun> ContentRuns(UdfNode node)
    {
        long size = (long)node.Size;
        var runs = new List<UdfRun>();
        long total = 0;
        foreach (var e in ReadExtents(node))
        {
            if (total >= size) break;
            long n = Math.Min(e.Length, size - total);
            if (e.Type == ExtentRecorded) Partition(e.Partition).Map(e.Block, n, runs);
            else UdfPartition.Append(runs, -1, n);
            total += n;
        }
        if (total < size)
            throw new CorruptImageException($"The file at {node.Address} is {size} bytes, but its extents hold only {total}.", DisplayPath);
        var data = runs.Where(r => r.Offset >= 0).OrderBy(r => r.Offset).ToArray();
        for (int i = 1; i < data.Length; i++)
            if (data[i].Offset < data[i - 1].Offset + data[i - 1].Length)
                throw new CorruptImageException($"Two extents of the file at {node.Address} overlap.", DisplayPath);
        return runs;
    }

    /// <summary>Reads a whole (small) file's content into memory.</summary>
    /// <exception cref="CorruptImageException">It is larger than <paramref name="max"/> bytes or damaged.</exception>
    private byte[] ReadContent(UdfNode node, long max, string what)
    {
        if ((long)node.Size > max) throw new CorruptImageException($"The {what} at {node.Address} claims {node.Size} bytes (at most {max} are accepted).", DisplayPath);
        if (node.AdType == AdEmbedded)
        {
            if (node.Size > (ulong)node.Descriptors.Length) throw new CorruptImageException($"The {what} at {node.Address} claims {node.Size} bytes but embeds {node.Descriptors.Length}.", DisplayPath);
            return node.Descriptors.AsSpan(0, (int)node.Size).ToArray();
        }
        var runs = ContentRuns(node); // the extents must cover the size before it is allocated
        var data = new byte[node.Size];
        ReadRuns(runs, data);
        return data;
    }
}
