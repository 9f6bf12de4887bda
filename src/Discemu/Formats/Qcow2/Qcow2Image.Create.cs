namespace Discemu.Formats.Qcow2;

public sealed partial class Qcow2Image
{
    /// <summary>Sizes a freshly written empty image and preallocates it as asked (off, metadata, falloc, full).</summary>
    internal void FinishCreate(long size, string preallocation)
    {
        lock (_lock)
        {
            long entries = _layout.L1EntriesFor(size);
            if (entries > 0) GrowL1((int)entries);
            WriteSize(size);
            if (preallocation != "off") Preallocate(size, preallocation);
            FlushLocked(durable: false);
        }
    }

    /// <summary>Allocates every L2 table and data cluster (one table, then its clusters, so data stays contiguous).</summary>
    private void Preallocate(long size, string mode)
    {
        var layout = _layout;
        int cb = layout.ClusterBits;
        long clusters = (size + layout.ClusterMask) >> cb;
        for (long l1Index = 0; l1Index < _l1.Length; l1Index++)
        {
            long first = l1Index << layout.L2EntryBits;
            long count = Math.Min(layout.L2Entries, clusters - first);
            if (count <= 0) break;
            var table = GetWritableL2(l1Index);
            long start = AllocateClusters(count);
            for (long i = 0; i < count; i++)
            {
                int index = (int)i * layout.L2Words;
                table.Words[index] = (ulong)((start + i) << cb) | Qcow2Constants.EntryCopied;
                if (layout.ExtendedL2) table.Words[index + 1] = Qcow2Layout.AllAllocated;
            }
            _l2Cache.MarkDirty(table);
            long hostStart = start << cb, bytes = count << cb;
            if (mode == "falloc" && !Util.LinuxNative.Allocate(File.Handle, hostStart, bytes)) FillZeros(hostStart, bytes);
            else if (mode == "full") FillZeros(hostStart, bytes);
        }
    }

    private void FillZeros(long offset, long length)
    {
        var zeros = new byte[(int)Math.Min(length, 1 << 20)];
        while (length > 0)
        {
            int n = (int)Math.Min(zeros.Length, length);
            File.Write(offset, zeros.AsSpan(0, n));
            offset += n;
            length -= n;
        }
    }
}
