using static Discemu.Formats.Qcow2.Qcow2Constants;

namespace Discemu.Formats.Qcow2;

public sealed partial class Qcow2Image
{
    /// <summary>How whole clusters are changed by write-zeroes and discard.</summary>
    private enum ClusterChange
    {
        /// <summary>Unallocate (reads fall through to the backing file).</summary>
        Deallocate,
        /// <summary>Zero flag; the host cluster is freed.</summary>
        ZeroUnmap,
        /// <summary>Zero flag; a host cluster owned by this entry alone is kept (preallocated).</summary>
        ZeroKeep,
    }

    /// <inheritdoc/>
    protected override void WriteZeroesCore(long offset, long length, bool mayUnmap)
    {
        MarkDirtyForLazyRefcounts();
        long end = offset + length;
        var (fullStart, fullEnd) = WholeClusters(offset, end);
        if (fullStart >= fullEnd)
        {
            ZeroPartial(offset, length);
            return;
        }
        if (offset < fullStart) ZeroPartial(offset, fullStart - offset);
        if (_layout.Version < 3)
        {
            if (_backing is null && BackingFileName is null) ChangeClusters(fullStart, fullEnd, ClusterChange.Deallocate);
            else ZeroPartial(fullStart, fullEnd - fullStart);
        }
        else ChangeClusters(fullStart, fullEnd, mayUnmap ? ClusterChange.ZeroUnmap : ClusterChange.ZeroKeep);
        if (fullEnd < end) ZeroPartial(fullEnd, end - fullEnd);
    }

    /// <inheritdoc/>
    protected override void DiscardCore(long offset, long length)
    {
        MarkDirtyForLazyRefcounts();
        var (fullStart, fullEnd) = WholeClusters(offset, offset + length);
        if (fullStart >= fullEnd) return;
        bool hasBacking = _backing is not null || BackingFileName is not null;
        ChangeClusters(fullStart, fullEnd, hasBacking && _layout.Version >= 3 ? ClusterChange.ZeroUnmap : ClusterChange.Deallocate);
    }

    /// <summary>Deallocates every cluster, so the whole disk reads from the backing file (or zeros without one).</summary>
    /// <exception cref="NotSupportedException">The image is read-only.</exception>
    public void MakeEmpty()
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if (!CanWrite) throw new NotSupportedException("The device is read-only.");
        MarkDirtyForLazyRefcounts();
        ChangeClusters(0, (Length + _layout.ClusterMask) & ~_layout.ClusterMask, ClusterChange.Deallocate);
        Flush();
    }

    /// <summary>The clusters wholly inside [offset, end); the last cluster counts as whole when the range reaches the end of the disk.</summary>
    private (long Start, long End) WholeClusters(long offset, long end)
    {
        long cm = _layout.ClusterMask;
        long start = (offset + cm) & ~cm;
        long stop = end == Length ? end : end & ~cm;
        return (start, Math.Max(start, stop));
    }

    /// <summary>Zeroes part of the disk by writing zeros, unless it already reads as zeros.</summary>
    private void ZeroPartial(long offset, long length)
    {
        if (length <= 0 || ReadsAsZeros(offset, length)) return;
        WriteZeroBuffer(offset, length);
    }

    private bool ReadsAsZeros(long offset, long length)
    {
        long end = offset + length;
        while (offset < end)
        {
            Qcow2Extent x;
            lock (_lock) x = MapLocked(_l1, offset, end - offset, mergeCompressed: true);
            switch (x.Kind)
            {
                case Qcow2ClusterKind.Zero: break;
                case Qcow2ClusterKind.Unallocated:
                    var backing = _backing;
                    if (backing is not null && offset < backing.Length)
                    {
                        var st = backing.GetStatus(offset, Math.Min(x.Length, backing.Length - offset));
                        if (!st.IsZero) return false;
                        x = x with { Length = st.Length };
                    }
                    break;
                default: return false;
            }
            offset += x.Length;
        }
        return true;
    }

    /// <summary>Applies <paramref name="change"/> to every whole cluster in [start, end), one L2 table at a time.</summary>
    private void ChangeClusters(long start, long end, ClusterChange change)
    {
        var layout = _layout;
        int cb = layout.ClusterBits;
        long coverage = layout.L2Coverage;
        bool hasBacking = _backing is not null || BackingFileName is not null;
        for (long pos = start; pos < end;)
        {
            long tableEnd = Math.Min(end, (pos / coverage + 1) * coverage);
            long l1Index = pos / coverage;
            long first = pos >> cb, last = (tableEnd - 1) >> cb;
            lock (_lock)
            {
                WaitNotInFlight(first, last);
                ulong l1e = l1Index < _l1.Length ? _l1[l1Index] : 0;
                bool needed = Qcow2Layout.L2Offset(l1e) != 0 && AnyChange(GetL2(Qcow2Layout.L2Offset(l1e)), first, last, change, hasBacking);
                if (Qcow2Layout.L2Offset(l1e) == 0 && change != ClusterChange.Deallocate && hasBacking) needed = true;
                if (needed)
                {
                    var table = GetWritableL2(l1Index);
                    for (long c = first; c <= last; c++) ChangeEntry(table, c, change, hasBacking);
                    _l2Cache.MarkDirty(table);
                }
            }
            pos = tableEnd;
        }
    }

    private bool AnyChange(Qcow2L2Table table, long first, long last, ClusterChange change, bool hasBacking)
    {
        for (long c = first; c <= last; c++)
        {
            var (e, bm) = NewEntry(table, c, change, hasBacking, out _);
            int index = (int)(c & (_layout.L2Entries - 1)) * _layout.L2Words;
            if (e != table.Words[index] || (_layout.ExtendedL2 && bm != table.Words[index + 1])) return true;
        }
        return false;
    }

    private (ulong Entry, ulong Bitmap) NewEntry(Qcow2L2Table table, long c, ClusterChange change, bool hasBacking, out bool keepsHost)
    {
        var layout = _layout;
        int index = (int)(c & (layout.L2Entries - 1)) * layout.L2Words;
        ulong old = table.Words[index];
        ulong oldBm = layout.ExtendedL2 ? table.Words[index + 1] : 0;
        keepsHost = false;
        bool unallocated = old == 0 && oldBm == 0;
        if (change == ClusterChange.Deallocate || (!hasBacking && unallocated)) return (0, 0);
        if (change == ClusterChange.ZeroKeep && (old & EntryCompressed) == 0 && Qcow2Layout.HostOffset(old) != 0 && Qcow2Layout.IsCopied(old))
        {
            keepsHost = true;
            ulong kept = (old & (L2OffsetMask | EntryCopied));
            return layout.ExtendedL2 ? (kept, Qcow2Layout.AllZero) : (kept | EntryZero, 0);
        }
        return layout.ExtendedL2 ? (0, Qcow2Layout.AllZero) : (EntryZero, 0);
    }

    private void ChangeEntry(Qcow2L2Table table, long c, ClusterChange change, bool hasBacking)
    {
        var layout = _layout;
        int index = (int)(c & (layout.L2Entries - 1)) * layout.L2Words;
        ulong old = table.Words[index];
        var (e, bm) = NewEntry(table, c, change, hasBacking, out bool keepsHost);
        table.Words[index] = e;
        if (layout.ExtendedL2) table.Words[index + 1] = bm;
        if (!keepsHost) FreeEntryLater(old);
    }
}
