using System.Buffers;
using System.Buffers.Binary;
using static Discemu.Formats.Vmdk.VmdkConstants;

namespace Discemu.Formats.Vmdk;

internal sealed partial class SparseExtent
{
    /// <summary>The next free byte of the file: new grains and grain tables go here (sector-aligned).</summary>
    private long _nextFree;

    private readonly HashSet<long> _inFlight = [];

    /// <summary>How a grain is stored, for the write path.</summary>
    private enum GrainState { Unallocated, Zeroed, Allocated }

    private GrainState StateOf(uint entry)
        => entry == 0 ? GrainState.Unallocated : entry == ZeroedGrainEntry && Header.ZeroedGrains ? GrainState.Zeroed : GrainState.Allocated;

    private void CheckWritable()
    {
        if (!_writable) throw new NotSupportedException("The VMDK extent is read-only.");
    }

    /// <inheritdoc/>
    public override void Write(long offset, ReadOnlySpan<byte> data, ExtentFill fill)
    {
        CheckWritable();
        while (!data.IsEmpty)
        {
            int n = WriteRun(offset, data, fill);
            offset += n;
            data = data[n..];
        }
    }

    /// <summary>Writes the longest prefix of <paramref name="data"/> that shares one grain state and one grain table; returns its length.</summary>
    private int WriteRun(long offset, ReadOnlySpan<byte> data, ExtentFill fill)
    {
        long gb = _grainBytes, gtes = Header.GtesPerGt;
        long first = offset / gb;
        long last = Math.Min((offset + data.Length - 1) / gb, (first / gtes + 1) * gtes - 1);
        long host;
        var states = new List<GrainState>();
        lock (_lock)
        {
            while (_inFlight.Contains(first)) Monitor.Wait(_lock);
            var table = GetGtLocked(first / gtes);
            var state = table is null ? GrainState.Unallocated : StateOf(table[first % gtes]);
            if (state == GrainState.Allocated)
            {
                // In place, as far as the grains stay allocated and contiguous on the host.
                host = (long)table![first % gtes] * Sector;
                long g = first + 1;
                while (g <= last && !_inFlight.Contains(g) && StateOf(table[g % gtes]) == GrainState.Allocated
                       && (long)table[g % gtes] * Sector == host + (g - first) * gb) g++;
                last = g - 1;
                states = null;
            }
            else
            {
                // Fresh grains for every unallocated or zeroed grain of the run, contiguous at the end of the file.
                table ??= AllocateGtLocked(first / gtes);
                states.Add(state);
                long next = first + 1;
                while (next <= last && !_inFlight.Contains(next) && StateOf(table[next % gtes]) != GrainState.Allocated)
                {
                    states.Add(StateOf(table[next % gtes]));
                    next++;
                }
                last = next - 1;
                host = ReserveLocked((last - first + 1) * gb);
                for (long g = first; g <= last; g++) _inFlight.Add(g);
            }
        }
        int written = (int)Math.Min(data.Length, (last + 1) * gb - offset);
        if (states is null)
        {
            _file.Write(host + offset % gb, data[..written]);
            return written;
        }
        try
        {
            WriteNewGrains(first, last, host, offset, data[..written], states, fill);
            var entries = new uint[last - first + 1];
            for (long g = first; g <= last; g++) entries[g - first] = checked((uint)((host + (g - first) * gb) / Sector));
            lock (_lock) SetEntriesLocked(first, entries);
        }
        finally
        {
            lock (_lock)
            {
                for (long g = first; g <= last; g++) _inFlight.Remove(g);
                Monitor.PulseAll(_lock);
            }
        }
        return written;
    }

    /// <summary>Writes the grains <paramref name="first"/>..<paramref name="last"/> at <paramref name="host"/>: the caller's data, completed with what lies below (or zeros for zeroed grains) in partial grains.</summary>
    private void WriteNewGrains(long first, long last, long host, long offset, ReadOnlySpan<byte> data, List<GrainState> states, ExtentFill fill)
    {
        long gb = _grainBytes;
        long pos = offset;
        int done = 0;
        for (long g = first; g <= last;)
        {
            long grainStart = g * gb;
            long grainEnd = grainStart + gb;
            long dataEnd = offset + data.Length;
            if (pos == grainStart && dataEnd >= grainEnd)
            {
                // Whole grains: straight from the caller's buffer, as many as are whole.
                long wholeEnd = Math.Min(last + 1, dataEnd / gb);
                int n = (int)((wholeEnd - g) * gb);
                _file.Write(host + (grainStart - first * gb), data.Slice(done, n));
                done += n;
                pos += n;
                g = wholeEnd;
                continue;
            }
            var buffer = ArrayPool<byte>.Shared.Rent((int)gb);
            try
            {
                var grain = buffer.AsSpan(0, (int)gb);
                if (states[(int)(g - first)] == GrainState.Zeroed) grain.Clear();
                else fill(grainStart, grain);
                int within = (int)(pos - grainStart);
                int n = (int)Math.Min(gb - within, dataEnd - pos);
                data.Slice(done, n).CopyTo(grain[within..]);
                _file.Write(host + (grainStart - first * gb), grain);
                done += n;
                pos += n;
                g++;
            }
            finally { ArrayPool<byte>.Shared.Return(buffer); }
        }
    }

    /// <summary>Reserves <paramref name="bytes"/> at the end of the file (grown to hold them). Caller holds the lock.</summary>
    private long ReserveLocked(long bytes)
    {
        long host = _nextFree;
        long end = checked(host + bytes);
        if (end / Sector > uint.MaxValue)
            throw new UnsupportedFeatureException("The VMDK sparse extent is full: grain offsets are 32-bit sector numbers (2 TiB).", Path);
        _nextFree = end;
        if (end > _file.Length) _file.Resize(end);
        return host;
    }

    /// <summary>Allocates an empty grain table (and its redundant copy) for directory entry <paramref name="gdIndex"/>. Caller holds the lock.</summary>
    private uint[] AllocateGtLocked(long gdIndex)
    {
        if (gdIndex >= _gd.Length) throw new CorruptImageException($"Grain directory entry {gdIndex} is past the directory's end.", Path);
        long gtBytes = Header.GtBytes;
        var zeros = new byte[gtBytes];
        long primary = ReserveLocked(gtBytes);
        _file.Write(primary, zeros);
        long? redundant = null;
        if (_rgd is not null)
        {
            redundant = ReserveLocked(gtBytes);
            _file.Write(redundant.Value, zeros);
        }
        Span<byte> entry = stackalloc byte[4];
        if (redundant is { } r && _rgd is not null)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(entry, checked((uint)(r / Sector)));
            _file.Write((long)Header.RgdOffset * Sector + gdIndex * 4, entry);
            _rgd[gdIndex] = checked((uint)(r / Sector));
        }
        BinaryPrimitives.WriteUInt32LittleEndian(entry, checked((uint)(primary / Sector)));
        _file.Write((long)Header.GdOffset * Sector + gdIndex * 4, entry);
        _gd[gdIndex] = checked((uint)(primary / Sector));
        var table = new uint[Header.GtesPerGt];
        if (_gtCache.Count >= _gtCacheCapacity) _gtCache.Clear();
        _gtCache[gdIndex] = table;
        return table;
    }

    /// <summary>
    /// Sets the entries of consecutive grains (all in one grain table) in memory, then in the grain
    /// table on disk, then in its redundant copy. Caller holds the lock.
    /// </summary>
    private void SetEntriesLocked(long first, ReadOnlySpan<uint> entries)
    {
        long gtes = Header.GtesPerGt;
        long gdIndex = first / gtes;
        var table = GetGtLocked(gdIndex) ?? AllocateGtLocked(gdIndex);
        int index = (int)(first % gtes);
        var raw = new byte[entries.Length * 4];
        for (int i = 0; i < entries.Length; i++)
        {
            table[index + i] = entries[i];
            BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(i * 4), entries[i]);
        }
        _file.Write((long)_gd[gdIndex] * Sector + index * 4L, raw);
        if (_rgd is not null && _rgd[gdIndex] != 0) _file.Write((long)_rgd[gdIndex] * Sector + index * 4L, raw);
    }

    /// <inheritdoc/>
    public override void WriteZeroes(long offset, long length, bool mayUnmap, bool unallocatedIsZero, ExtentFill fill)
    {
        CheckWritable();
        long end = offset + length;
        while (offset < end)
        {
            if (Header.ZeroedGrains && WholeGrains(offset, end) is var (g0, g1) && g1 >= g0)
            {
                SetZeroed(g0, g1);
                offset = Math.Min(Length, (g1 + 1) * _grainBytes);
                continue;
            }
            long grainEnd = Math.Min(end, (offset / _grainBytes + 1) * _grainBytes);
            var run = Map(offset, grainEnd - offset, mergeCompressed: false);
            switch (run.Kind)
            {
                case ExtentRunKind.Data:
                    _file.WriteZeroes(run.HostOffset, run.Length, mayUnmap);
                    break;
                case ExtentRunKind.Unallocated when unallocatedIsZero:
                case ExtentRunKind.Zero:
                    break;
                default:
                    WriteZeroBuffer(offset, run.Length, fill);
                    break;
            }
            offset += run.Length;
        }
    }

    /// <summary>
    /// The whole grains from <paramref name="offset"/> (which must start one) up to <paramref name="end"/>,
    /// within one grain table; the extent's last grain counts as whole when the range reaches the extent's end.
    /// Returns an empty range (last &lt; first) when <paramref name="offset"/> does not start a whole grain.
    /// </summary>
    private (long First, long Last) WholeGrains(long offset, long end)
    {
        long gb = _grainBytes, gtes = Header.GtesPerGt;
        if (offset % gb != 0) return (0, -1);
        long first = offset / gb;
        long tableLast = (first / gtes + 1) * gtes - 1;
        long last = first - 1;
        while (last < tableLast && Math.Min((last + 2) * gb, Length) <= end && (last + 1) * gb < Length) last++;
        return (first, last);
    }

    private void WriteZeroBuffer(long offset, long length, ExtentFill fill)
    {
        var zeros = ArrayPool<byte>.Shared.Rent((int)Math.Min(length, 1 << 20));
        try
        {
            Array.Clear(zeros);
            while (length > 0)
            {
                int n = (int)Math.Min(length, zeros.Length);
                Write(offset, zeros.AsSpan(0, n), fill);
                offset += n;
                length -= n;
            }
        }
        finally { ArrayPool<byte>.Shared.Return(zeros); }
    }

    /// <summary>Marks grains <paramref name="first"/>..<paramref name="last"/> (one table) as zeroed grains; their old data is no longer referenced.</summary>
    private void SetZeroed(long first, long last)
    {
        lock (_lock)
        {
            for (long g = first; g <= last; g++)
                while (_inFlight.Contains(g)) Monitor.Wait(_lock);
            var entries = new uint[last - first + 1];
            entries.AsSpan().Fill(ZeroedGrainEntry);
            SetEntriesLocked(first, entries);
        }
    }

    /// <inheritdoc/>
    public override void Discard(long offset, long length)
    {
        if (!_writable || !Header.ZeroedGrains) return;
        long end = offset + length;
        offset = (offset + _grainBytes - 1) / _grainBytes * _grainBytes;
        while (offset < end && WholeGrains(offset, end) is var (g0, g1) && g1 >= g0)
        {
            SetZeroed(g0, g1);
            offset = (g1 + 1) * _grainBytes;
        }
    }

    /// <summary>
    /// Drops every grain: all grain table entries become 0 (unallocated), grain tables allocated after
    /// the preallocated metadata are dropped from the directory, and the file is cut back to the metadata.
    /// </summary>
    public void MakeEmpty()
    {
        CheckWritable();
        lock (_lock)
        {
            while (_inFlight.Count > 0) Monitor.Wait(_lock);
            long metadataEnd = Math.Max(Sector + (long)Header.DescriptorSectors * Sector + (long)Header.DescriptorOffset * Sector, (long)Header.Overhead * Sector);
            metadataEnd = Math.Max(metadataEnd, (long)Header.GdOffset * Sector + Header.GdBytes);
            if (_rgd is not null) metadataEnd = Math.Max(metadataEnd, (long)Header.RgdOffset * Sector + Header.GdBytes);
            long gtBytes = Header.GtBytes;
            var zeros = new byte[gtBytes];
            var entry = new byte[4];
            for (long i = 0; i < _gd.Length; i++)
            {
                if (_gd[i] == 0) continue;
                bool keep = (long)_gd[i] * Sector + gtBytes <= (long)Header.Overhead * Sector
                    && (_rgd is null || _rgd[i] == 0 || (long)_rgd[i] * Sector + gtBytes <= (long)Header.Overhead * Sector);
                if (keep)
                {
                    _file.Write((long)_gd[i] * Sector, zeros);
                    if (_rgd is not null && _rgd[i] != 0) _file.Write((long)_rgd[i] * Sector, zeros);
                    continue;
                }
                _file.Write((long)Header.GdOffset * Sector + i * 4, entry);
                _gd[i] = 0;
                if (_rgd is not null)
                {
                    _file.Write((long)Header.RgdOffset * Sector + i * 4, entry);
                    _rgd[i] = 0;
                }
            }
            _gtCache.Clear();
            _file.Flush();
            long newEnd = AlignSector(Math.Max(metadataEnd, (long)Header.Overhead * Sector));
            if (newEnd < _file.Length) _file.Resize(newEnd);
            _nextFree = Math.Max(newEnd, AlignSector(_file.Length));
        }
    }
}
