using System.Buffers;
using static Discemu.Formats.Qcow2.Qcow2Constants;

namespace Discemu.Formats.Qcow2;

public sealed partial class Qcow2Image
{
    /// <summary>How a guest cluster is written.</summary>
    private enum WriteAction : byte
    {
        /// <summary>Allocated with refcount one: write in place.</summary>
        Direct,
        /// <summary>Owns a host cluster but it does not hold all the data yet (zero flag, unallocated subclusters): fill and reuse it.</summary>
        Reuse,
        /// <summary>Needs a new host cluster (unallocated, compressed or shared).</summary>
        Allocate,
    }

    private struct ClusterPlan
    {
        public WriteAction Action;
        public ulong OldEntry;
        public ulong OldBitmap;
        public long Host;
    }

    /// <inheritdoc/>
    protected override void WriteCore(long offset, ReadOnlySpan<byte> data)
    {
        MarkDirtyForLazyRefcounts();
        long coverage = _layout.L2Coverage;
        while (!data.IsEmpty)
        {
            long tableEnd = (offset / coverage + 1) * coverage;
            int n = (int)Math.Min(data.Length, tableEnd - offset);
            WriteWithinTable(offset, data[..n]);
            offset += n;
            data = data[n..];
        }
    }

    /// <summary>Waits until none of the guest clusters [first, last] is being allocated by another writer. Caller holds the lock.</summary>
    private void WaitNotInFlight(long first, long last)
    {
        if (_inFlight.Count == 0) return;
        while (true)
        {
            bool busy = false;
            for (long c = first; c <= last && !busy; c++) busy = _inFlight.Contains(c);
            if (!busy) return;
            Monitor.Wait(_lock);
        }
    }

    private void ReleaseInFlight(long first, ClusterPlan[] plans)
    {
        for (int i = 0; i < plans.Length; i++)
            if (plans[i].Action != WriteAction.Direct) _inFlight.Remove(first + i);
        Monitor.PulseAll(_lock);
    }

    /// <summary>Writes a range that lies within one L2 table.</summary>
    private void WriteWithinTable(long offset, ReadOnlySpan<byte> data)
    {
        var layout = _layout;
        int cb = layout.ClusterBits;
        long first = offset >> cb, last = (offset + data.Length - 1) >> cb;
        int count = (int)(last - first + 1);
        long l1Index = offset / layout.L2Coverage;
        var plans = new ClusterPlan[count];
        bool anyNew = false;

        lock (_lock)
        {
            WaitNotInFlight(first, last);
            var table = GetWritableL2(l1Index);
            int needed = 0;
            for (int i = 0; i < count; i++)
            {
                long c = first + i;
                int index = (int)(c & (layout.L2Entries - 1));
                ref var p = ref plans[i];
                p.OldEntry = table.Words[index * layout.L2Words];
                p.OldBitmap = layout.ExtendedL2 ? table.Words[index * 2 + 1] : 0;
                long host = Qcow2Layout.HostOffset(p.OldEntry);
                bool compressed = (p.OldEntry & EntryCompressed) != 0;
                if (compressed || host == 0 || !Qcow2Layout.IsCopied(p.OldEntry))
                {
                    p.Action = WriteAction.Allocate;
                    needed++;
                    continue;
                }
                p.Host = CheckDataOffset(host);
                bool complete = layout.ExtendedL2
                    ? TouchedSubclustersAllocated(p.OldBitmap, Math.Max(offset, c << cb), Math.Min(offset + data.Length, (c + 1) << cb))
                    : (p.OldEntry & EntryZero) == 0;
                p.Action = complete ? WriteAction.Direct : WriteAction.Reuse;
            }
            if (needed > 0)
            {
                long start = AllocateClusters(needed);
                for (int i = 0; i < count; i++)
                    if (plans[i].Action == WriteAction.Allocate) plans[i].Host = start++ << cb;
            }
            for (int i = 0; i < count; i++)
            {
                if (plans[i].Action == WriteAction.Direct) continue;
                _inFlight.Add(first + i);
                anyNew = true;
            }
        }

        bool committed = false;
        try
        {
            WriteClusters(offset, data, first, plans);
            if (anyNew)
            {
                lock (_lock)
                {
                    CommitClusters(l1Index, first, plans);
                    committed = true;
                    ReleaseInFlight(first, plans);
                }
            }
        }
        finally
        {
            if (anyNew && !committed)
            {
                lock (_lock)
                {
                    for (int i = 0; i < count; i++)
                        if (plans[i].Action == WriteAction.Allocate) FreeClusterLater(plans[i].Host >> cb);
                    ReleaseInFlight(first, plans);
                }
            }
        }
    }

    private bool TouchedSubclustersAllocated(ulong bitmap, long from, long to)
    {
        int sb = _layout.SubclusterBits;
        long cm = _layout.ClusterMask;
        int s0 = (int)((from & cm) >> sb), s1 = (int)(((to - 1) & cm) >> sb);
        for (int s = s0; s <= s1; s++) if ((bitmap >> s & 1) == 0) return false;
        return true;
    }

    /// <summary>Writes the data of a planned range: direct pieces in place, new clusters filled with their old content.</summary>
    private void WriteClusters(long offset, ReadOnlySpan<byte> data, long first, ClusterPlan[] plans)
    {
        int cb = _layout.ClusterBits;
        int cs = _layout.ClusterSize;
        long end = offset + data.Length;
        // A pending contiguous run of whole or direct pieces: written with one call.
        long runHost = -1, runGuest = 0;
        int runLength = 0;
        byte[]? buffer = null;
        try
        {
            for (int i = 0; i < plans.Length; i++)
            {
                long c = first + i;
                long clusterStart = c << cb;
                long from = Math.Max(offset, clusterStart), to = Math.Min(end, clusterStart + cs);
                var p = plans[i];
                bool whole = from == clusterStart && to == clusterStart + cs;
                if (p.Action == WriteAction.Direct || whole)
                {
                    long host = p.Host + (from - clusterStart);
                    if (runHost >= 0 && runHost + runLength == host && runGuest + runLength == from && (long)runLength + (to - from) <= int.MaxValue)
                        runLength += (int)(to - from);
                    else
                    {
                        FlushRun(data, offset, ref runHost, runGuest, runLength);
                        runHost = host;
                        runGuest = from;
                        runLength = (int)(to - from);
                    }
                    continue;
                }
                FlushRun(data, offset, ref runHost, runGuest, runLength);
                buffer ??= ArrayPool<byte>.Shared.Rent(cs);
                var cluster = buffer.AsSpan(0, cs);
                ReadOldCluster(p.OldEntry, p.OldBitmap, clusterStart, cluster);
                data.Slice((int)(from - offset), (int)(to - from)).CopyTo(cluster[(int)(from - clusterStart)..]);
                File.Write(p.Host, cluster);
            }
            FlushRun(data, offset, ref runHost, runGuest, runLength);
        }
        finally
        {
            if (buffer is not null) ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void FlushRun(ReadOnlySpan<byte> data, long offset, ref long runHost, long runGuest, int runLength)
    {
        if (runHost < 0) return;
        File.Write(runHost, data.Slice((int)(runGuest - offset), runLength));
        runHost = -1;
    }

    /// <summary>Reads what guest cluster at <paramref name="clusterStart"/> held before a write, given its old entry.</summary>
    private void ReadOldCluster(ulong entry, ulong bitmap, long clusterStart, Span<byte> cluster)
    {
        var layout = _layout;
        if ((entry & EntryCompressed) != 0)
        {
            DecompressCluster(entry).CopyTo(cluster);
            return;
        }
        long host = Qcow2Layout.HostOffset(entry);
        if (!layout.ExtendedL2)
        {
            var kind = layout.StandardKind(entry);
            if (kind == Qcow2ClusterKind.Normal) ReadHost(host, cluster);
            else if (kind == Qcow2ClusterKind.Zero) cluster.Clear();
            else ReadBacking(clusterStart, cluster);
            return;
        }
        int sc = layout.SubclusterSize;
        for (int s = 0; s < Qcow2Layout.SubclustersPerCluster; s++)
        {
            var part = cluster.Slice(s * sc, sc);
            switch (Qcow2Layout.ExtendedKind(entry, bitmap, s))
            {
                case Qcow2ClusterKind.Normal: ReadHost(host + (long)s * sc, part); break;
                case Qcow2ClusterKind.Zero: part.Clear(); break;
                default: ReadBacking(clusterStart + (long)s * sc, part); break;
            }
        }
    }

    /// <summary>Points the L2 entries of written clusters at their new host clusters and frees what they replaced.</summary>
    private void CommitClusters(long l1Index, long first, ClusterPlan[] plans)
    {
        var layout = _layout;
        var table = GetL2(Qcow2Layout.L2Offset(_l1[l1Index]));
        for (int i = 0; i < plans.Length; i++)
        {
            var p = plans[i];
            if (p.Action == WriteAction.Direct)
            {
                continue;
            }
            int index = (int)((first + i) & (layout.L2Entries - 1));
            table.Words[index * layout.L2Words] = (ulong)p.Host | EntryCopied;
            if (layout.ExtendedL2) table.Words[index * 2 + 1] = Qcow2Layout.AllAllocated;
            if (p.Action == WriteAction.Allocate) FreeEntryLater(p.OldEntry);
        }
        _l2Cache.MarkDirty(table);
    }

    /// <summary>
    /// The L2 table for <paramref name="l1Index"/>, allocated when missing and copied when shared
    /// with a snapshot, so that its entries may be changed. Caller holds the lock.
    /// </summary>
    private Qcow2L2Table GetWritableL2(long l1Index)
    {
        if (l1Index >= _l1.Length) throw new InvalidOperationException("Write beyond the L1 table.");
        ulong l1e = _l1[l1Index];
        long offset = Qcow2Layout.L2Offset(l1e);
        if (offset != 0 && Qcow2Layout.IsCopied(l1e)) return GetL2(offset);
        ulong[] words;
        if (offset == 0) words = new ulong[_layout.ClusterSize / 8];
        else
        {
            words = (ulong[])GetL2(offset).Words.Clone();
            RecomputeCopiedFlags(words);
        }
        long cluster = AllocateClusters(1);
        var table = new Qcow2L2Table(cluster << _layout.ClusterBits, words) { Dirty = true };
        AddToCache(table);
        _l1[l1Index] = (ulong)table.HostOffset | EntryCopied;
        _l1Dirty = true;
        if (offset != 0)
        {
            FreeClusterLater(offset >> _layout.ClusterBits);
        }
        return table;
    }

    /// <summary>Sets COPIED exactly on entries whose host cluster has refcount one; true when an entry changed.</summary>
    private bool RecomputeCopiedFlags(ulong[] words)
    {
        int step = _layout.L2Words;
        bool changed = false;
        for (int i = 0; i < words.Length; i += step)
        {
            ulong e = words[i];
            if ((e & EntryCompressed) != 0) continue;
            long host = Qcow2Layout.HostOffset(e);
            if (host == 0) continue;
            bool single = GetRefcount(host >> _layout.ClusterBits) == 1;
            ulong updated = single ? e | EntryCopied : e & ~EntryCopied;
            changed |= updated != e;
            words[i] = updated;
        }
        return changed;
    }

    /// <summary>With lazy refcounts, marks the image dirty before its first change.</summary>
    private void MarkDirtyForLazyRefcounts()
    {
        if (_dirtyBitSetByUs || !_header.LazyRefcounts) return;
        lock (_lock)
        {
            if (_dirtyBitSetByUs) return;
            WriteIncompatibleFeatures(_header.IncompatibleFeatures | IncompatDirty);
            File.Flush();
            _dirtyBitSetByUs = true;
        }
    }
}
