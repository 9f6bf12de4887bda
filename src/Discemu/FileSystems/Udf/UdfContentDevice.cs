using Discemu.Block;

namespace Discemu.FileSystems.Udf;

/// <summary>
/// A file's content as a read-only device: device runs end to end (a run at offset -1 reads as zeros), or
/// the data embedded in the file entry. It reads the inner device (which it does not own) on demand.
/// </summary>
internal sealed class UdfContentDevice : BlockDevice, IHostMappable
{
    private readonly BlockDevice _inner;
    private readonly UdfRun[] _runs;
    private readonly long[] _starts;
    private readonly byte[]? _embedded;

    /// <summary>A file stored in <paramref name="runs"/> (which must lie inside <paramref name="inner"/>).</summary>
    public UdfContentDevice(BlockDevice inner, IReadOnlyList<UdfRun> runs)
    {
        _inner = inner;
        _runs = [.. runs];
        _starts = new long[_runs.Length + 1];
        for (int i = 0; i < _runs.Length; i++)
        {
            var r = _runs[i];
            if (r.Offset >= 0 && (r.Offset > inner.Length || r.Length > inner.Length - r.Offset))
                throw new ArgumentOutOfRangeException(nameof(runs), $"Run {r.Offset}+{r.Length} is outside the device.");
            _starts[i + 1] = checked(_starts[i] + r.Length);
        }
    }

    /// <summary>A file whose data is embedded in its file entry.</summary>
    public UdfContentDevice(BlockDevice inner, byte[] embedded)
    {
        _inner = inner;
        _runs = [];
        _starts = [embedded.Length];
        _embedded = embedded;
    }

    /// <inheritdoc/>
    public override long Length => _starts[^1];

    /// <inheritdoc/>
    public override DeviceCapabilities Capabilities => DeviceCapabilities.Status;

    private int RunAt(long offset)
    {
        int i = Array.BinarySearch(_starts, offset);
        if (i < 0) i = ~i - 1;
        while (i < _runs.Length - 1 && _starts[i + 1] <= offset) i++;
        return i;
    }

    /// <inheritdoc/>
    protected override void ReadCore(long offset, Span<byte> buffer)
    {
        if (_embedded is not null)
        {
            _embedded.AsSpan((int)offset, buffer.Length).CopyTo(buffer);
            return;
        }
        for (int i = RunAt(offset); !buffer.IsEmpty; i++)
        {
            long within = offset - _starts[i];
            int n = (int)Math.Min(buffer.Length, _starts[i + 1] - _starts[i] - within);
            if (n <= 0) continue;
            if (_runs[i].Offset < 0) buffer[..n].Clear();
            else _inner.Read(_runs[i].Offset + within, buffer[..n]);
            buffer = buffer[n..];
            offset += n;
        }
    }

    /// <inheritdoc/>
    HostExtent? IHostMappable.MapToHostCore(long offset, long maxLength)
    {
        if (_embedded is not null) return null; // the bytes live in the file entry, not at one place of the device
        int i = RunAt(offset);
        if (_runs[i].Offset < 0) return null; // an unrecorded run reads as zeros
        long within = offset - _starts[i];
        return HostMapping.Map(_inner, _runs[i].Offset + within, Math.Min(maxLength, _starts[i + 1] - offset));
    }

    /// <inheritdoc/>
    protected override BlockStatus GetStatusCore(long offset, long maxLength)
    {
        if (_embedded is not null) return new BlockStatus(maxLength, BlockStatusFlags.Data | BlockStatusFlags.Allocated);
        int i = RunAt(offset);
        long n = Math.Min(maxLength, _starts[i + 1] - offset);
        if (_runs[i].Offset < 0) return new BlockStatus(n, BlockStatusFlags.Zero);
        return _inner.GetStatus(_runs[i].Offset + offset - _starts[i], n);
    }
}
