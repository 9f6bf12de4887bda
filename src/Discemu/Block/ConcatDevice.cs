namespace Discemu.Block;

/// <summary>Several devices end to end as one (split raw sets, multi-file extents).</summary>
public sealed class ConcatDevice : BlockDevice, IHostMappable
{
    private readonly BlockDevice[] _parts;
    private readonly long[] _starts; // _starts[i] = offset of part i; _starts[^1] = total length
    private readonly bool _ownsParts;

    /// <summary>Joins <paramref name="parts"/> in order.</summary>
    /// <exception cref="ArgumentException">No parts were given.</exception>
    public ConcatDevice(IReadOnlyList<BlockDevice> parts, bool ownsParts = true)
    {
        ArgumentNullException.ThrowIfNull(parts);
        if (parts.Count == 0) throw new ArgumentException("At least one part is needed.", nameof(parts));
        _parts = [.. parts];
        _starts = new long[_parts.Length + 1];
        for (int i = 0; i < _parts.Length; i++) _starts[i + 1] = checked(_starts[i] + _parts[i].Length);
        _ownsParts = ownsParts;
        var caps = DeviceCapabilities.Write | DeviceCapabilities.FastZero | DeviceCapabilities.Discard | DeviceCapabilities.Status;
        foreach (var p in _parts) caps &= p.Capabilities;
        Capabilities = caps;
    }

    /// <summary>The parts, in order.</summary>
    public IReadOnlyList<BlockDevice> Parts => _parts;

    /// <inheritdoc/>
    public override long Length => _starts[^1];

    /// <inheritdoc/>
    public override DeviceCapabilities Capabilities { get; }

    private int PartAt(long offset)
    {
        int i = Array.BinarySearch(_starts, offset);
        if (i < 0) i = ~i - 1;
        // Skip empty parts that start at the same offset.
        while (i < _parts.Length - 1 && _starts[i + 1] <= offset) i++;
        return i;
    }

    /// <inheritdoc/>
    protected override void ReadCore(long offset, Span<byte> buffer)
    {
        int done = 0;
        int i = PartAt(offset);
        while (done < buffer.Length)
        {
            long within = offset + done - _starts[i];
            int n = (int)Math.Min(buffer.Length - done, _parts[i].Length - within);
            if (n > 0) _parts[i].Read(within, buffer.Slice(done, n));
            done += Math.Max(n, 0);
            i++;
        }
    }

    /// <inheritdoc/>
    HostExtent? IHostMappable.MapToHostCore(long offset, long maxLength)
    {
        int i = PartAt(offset);
        long within = offset - _starts[i];
        return HostMapping.Map(_parts[i], within, Math.Min(maxLength, _parts[i].Length - within));
    }

    /// <inheritdoc/>
    protected override void WriteCore(long offset, ReadOnlySpan<byte> data)
    {
        int done = 0;
        int i = PartAt(offset);
        while (done < data.Length)
        {
            long within = offset + done - _starts[i];
            int n = (int)Math.Min(data.Length - done, _parts[i].Length - within);
            if (n > 0) _parts[i].Write(within, data.Slice(done, n));
            done += Math.Max(n, 0);
            i++;
        }
    }

    /// <inheritdoc/>
    protected override void WriteZeroesCore(long offset, long length, bool mayUnmap)
        => ForEachPart(offset, length, (p, o, n) => p.WriteZeroes(o, n, mayUnmap));

    /// <inheritdoc/>
    protected override void DiscardCore(long offset, long length) => ForEachPart(offset, length, (p, o, n) => p.Discard(o, n));

    private void ForEachPart(long offset, long length, Action<BlockDevice, long, long> action)
    {
        long end = offset + length;
        for (int i = PartAt(offset); offset < end; i++)
        {
            long within = offset - _starts[i];
            long n = Math.Min(end - offset, _parts[i].Length - within);
            if (n > 0) action(_parts[i], within, n);
            offset += Math.Max(n, 0);
        }
    }

    /// <inheritdoc/>
    protected override void FlushCore()
    {
        foreach (var p in _parts) p.Flush();
    }

    /// <inheritdoc/>
    protected override BlockStatus GetStatusCore(long offset, long maxLength)
    {
        int i = PartAt(offset);
        long within = offset - _starts[i];
        return _parts[i].GetStatus(within, Math.Min(maxLength, _parts[i].Length - within));
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing && _ownsParts) foreach (var p in _parts) p.Dispose();
    }
}
