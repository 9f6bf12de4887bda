using Discemu.Block;

namespace Discemu.Formats.Raw;

/// <summary>An opened raw image: the file (or split set) is the virtual disk.</summary>
public sealed class RawImage : DiskImage, IHostMappable
{
    private readonly BlockDevice _device;
    private readonly bool _writable;

    internal RawImage(string path, BlockDevice device, bool writable, IReadOnlyList<string>? pieces = null)
    {
        Path = path;
        _device = device;
        _writable = writable;
        Pieces = pieces ?? [path];
    }

    /// <inheritdoc/>
    public override ImageFormat Format => RawFormat.Instance;

    /// <inheritdoc/>
    public override string Path { get; }

    /// <summary>The files of the image: one, or every piece of a split set in order.</summary>
    public IReadOnlyList<string> Pieces { get; }

    /// <inheritdoc/>
    public override long Length => _device.Length;

    /// <inheritdoc/>
    public override DeviceCapabilities Capabilities
    {
        get
        {
            var caps = _device.Capabilities;
            if (Pieces.Count > 1) caps &= ~DeviceCapabilities.Resize;
            return _writable ? caps : caps & DeviceCapabilities.Status;
        }
    }

    /// <inheritdoc/>
    public override long? ActualSize
    {
        get
        {
            long total = 0;
            foreach (var p in Pieces)
            {
                long? n = Util.HostFile.AllocatedBytes(p);
                if (n is null) return null;
                total += n.Value;
            }
            return total;
        }
    }

    /// <inheritdoc/>
    public override IReadOnlyList<KeyValuePair<string, object?>> FormatSpecific =>
        Pieces.Count > 1 ? [new("pieces", Pieces.ToList())] : [];

    /// <inheritdoc/>
    protected override void ReadCore(long offset, Span<byte> buffer) => _device.Read(offset, buffer);

    /// <inheritdoc/>
    protected override void WriteCore(long offset, ReadOnlySpan<byte> data) => _device.Write(offset, data);

    /// <inheritdoc/>
    protected override void FlushCore() => _device.Flush();

    /// <inheritdoc/>
    protected override void WriteZeroesCore(long offset, long length, bool mayUnmap) => _device.WriteZeroes(offset, length, mayUnmap);

    /// <inheritdoc/>
    protected override void DiscardCore(long offset, long length) => _device.Discard(offset, length);

    /// <inheritdoc/>
    protected override BlockStatus GetStatusCore(long offset, long maxLength) => _device.GetStatus(offset, maxLength);

    /// <inheritdoc/>
    HostExtent? IHostMappable.MapToHostCore(long offset, long maxLength) => HostMapping.Map(_device, offset, maxLength);

    /// <inheritdoc/>
    protected override void ResizeCore(long newLength) => _device.Resize(newLength);

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing) _device.Dispose();
    }
}
