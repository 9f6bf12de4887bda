namespace Discemu.Block;

/// <summary>A window of another device (a partition, a slice): offsets are relative to <see cref="Start"/>.</summary>
public sealed class SubRangeDevice : BlockDevice, IHostMappable
{
    private readonly BlockDevice _inner;
    private readonly bool _ownsInner;

    /// <summary>Creates a view of <paramref name="length"/> bytes of <paramref name="inner"/> starting at <paramref name="start"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The window does not lie inside <paramref name="inner"/>.</exception>
    public SubRangeDevice(BlockDevice inner, long start, long length, bool ownsInner = false)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (start > inner.Length || length > inner.Length - start)
            throw new ArgumentOutOfRangeException(nameof(length), $"Window {start}+{length} exceeds the device ({inner.Length} bytes).");
        _inner = inner;
        Start = start;
        Length = length;
        _ownsInner = ownsInner;
    }

    /// <summary>Offset of the window in the inner device.</summary>
    public long Start { get; }

    /// <inheritdoc/>
    public override long Length { get; }

    /// <inheritdoc/>
    public override DeviceCapabilities Capabilities => _inner.Capabilities & ~DeviceCapabilities.Resize;

    /// <inheritdoc/>
    protected override void ReadCore(long offset, Span<byte> buffer) => _inner.Read(Start + offset, buffer);

    /// <inheritdoc/>
    protected override void WriteCore(long offset, ReadOnlySpan<byte> data) => _inner.Write(Start + offset, data);

    /// <inheritdoc/>
    protected override void FlushCore() => _inner.Flush();

    /// <inheritdoc/>
    protected override void WriteZeroesCore(long offset, long length, bool mayUnmap) => _inner.WriteZeroes(Start + offset, length, mayUnmap);

    /// <inheritdoc/>
    protected override void DiscardCore(long offset, long length) => _inner.Discard(Start + offset, length);

    /// <inheritdoc/>
    protected override BlockStatus GetStatusCore(long offset, long maxLength) => _inner.GetStatus(Start + offset, maxLength);

    /// <inheritdoc/>
    HostExtent? IHostMappable.MapToHostCore(long offset, long maxLength) => HostMapping.Map(_inner, Start + offset, maxLength);

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing && _ownsInner) _inner.Dispose();
    }
}
