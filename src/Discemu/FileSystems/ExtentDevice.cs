using Discemu.Block;

namespace Discemu.FileSystems;

/// <summary>
/// A read-only device made of ranges of another device, end to end: the content of a file stored in one
/// or more extents. Reads and status queries go straight to the inner device (which it does not own).
/// </summary>
internal sealed class ExtentDevice : BlockDevice, IHostMappable
{
    private readonly BlockDevice _inner;
    private readonly long[] _offsets; // where each extent lives in the inner device
    private readonly long[] _starts;  // _starts[i] = position of extent i in the file; _starts[^1] = length

    /// <summary>Joins <paramref name="extents"/> (inner offset, length) in order.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An extent is not inside <paramref name="inner"/>.</exception>
    public ExtentDevice(BlockDevice inner, IReadOnlyList<(long Offset, long Length)> extents)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(extents);
        _inner = inner;
        _offsets = new long[extents.Count];
        _starts = new long[extents.Count + 1];
        for (int i = 0; i < extents.Count; i++)
        {
            var (offset, length) = extents[i];
            if (offset < 0 || length < 0 || offset > inner.Length || length > inner.Length - offset)
                throw new ArgumentOutOfRangeException(nameof(extents), $"Extent {offset}+{length} is outside the device ({inner.Length} bytes).");
            _offsets[i] = offset;
            _starts[i + 1] = checked(_starts[i] + length);
        }
    }

    /// <inheritdoc/>
    public override long Length => _starts[^1];

    /// <inheritdoc/>
    public override DeviceCapabilities Capabilities => _inner.Capabilities & DeviceCapabilities.Status;

    private int ExtentAt(long offset)
    {
        int i = Array.BinarySearch(_starts, offset);
        if (i < 0) i = ~i - 1;
        while (i < _offsets.Length - 1 && _starts[i + 1] <= offset) i++; // skip empty extents
        return i;
    }

    /// <inheritdoc/>
    protected override void ReadCore(long offset, Span<byte> buffer)
    {
        for (int i = ExtentAt(offset); !buffer.IsEmpty; i++)
        {
            long within = offset - _starts[i];
            int n = (int)Math.Min(buffer.Length, _starts[i + 1] - _starts[i] - within);
            if (n <= 0) continue;
            _inner.Read(_offsets[i] + within, buffer[..n]);
            buffer = buffer[n..];
            offset += n;
        }
    }

    /// <inheritdoc/>
    HostExtent? IHostMappable.MapToHostCore(long offset, long maxLength)
    {
        int i = ExtentAt(offset);
        long within = offset - _starts[i];
        return HostMapping.Map(_inner, _offsets[i] + within, Math.Min(maxLength, _starts[i + 1] - offset));
    }

    /// <inheritdoc/>
    protected override BlockStatus GetStatusCore(long offset, long maxLength)
    {
        int i = ExtentAt(offset);
        long within = offset - _starts[i];
        return _inner.GetStatus(_offsets[i] + within, Math.Min(maxLength, _starts[i + 1] - offset));
    }
}
