using Discemu.Block;

namespace Discemu.Formats.Ewf;

/// <summary>
/// A new EWF set being written through <see cref="EwfWriter"/>, as a disk that accepts writes in
/// increasing offset order (gaps read as zeros), the way convert writes from one thread. Flush or
/// Dispose fills the rest with zeros and completes the set (unless a write failed); it cannot be read back while open.
/// </summary>
internal sealed class EwfWriterImage : DiskImage
{
    private readonly EwfWriter _writer;
    private readonly Lock _lock = new();
    private bool _finished, _failed;

    public EwfWriterImage(string path, EwfWriter writer)
    {
        Path = path;
        _writer = writer;
    }

    public override ImageFormat Format => EwfFormat.Instance;
    public override string Path { get; }
    public override long Length => _writer.Options.MediaSize;
    public override DeviceCapabilities Capabilities => DeviceCapabilities.Write | DeviceCapabilities.FastZero;
    public override int? ClusterSize => _writer.Options.SectorsPerChunk * _writer.Options.BytesPerSector;

    /// <summary>The set's segment files written so far.</summary>
    public IReadOnlyList<string> SegmentFiles => _writer.SegmentPaths;

    protected override void ReadCore(long offset, Span<byte> buffer)
        => throw new NotSupportedException("An EWF image being written cannot be read; open it again once it is complete.");

    protected override void WriteCore(long offset, ReadOnlySpan<byte> data)
    {
        lock (_lock)
        {
            try
            {
                MoveTo(offset);
                _writer.Append(data);
            }
            catch
            {
                _failed = true;
                throw;
            }
        }
    }

    /// <summary>Zeros ahead of the write position are implied (they are written when a later write or the end needs them).</summary>
    protected override void WriteZeroesCore(long offset, long length, bool mayUnmap)
    {
        lock (_lock)
        {
            if (offset < _writer.Position)
            {
                _failed = true;
                ThrowOutOfOrder(offset);
            }
        }
    }

    protected override void DiscardCore(long offset, long length) { }

    private void MoveTo(long offset)
    {
        if (_finished) throw new InvalidOperationException("The EWF set is already complete.");
        if (offset < _writer.Position) ThrowOutOfOrder(offset);
        if (offset > _writer.Position) _writer.AppendZeros(offset - _writer.Position);
    }

    private void ThrowOutOfOrder(long offset)
        => throw new NotSupportedException($"EWF images are written sequentially: a write at offset {offset} comes after offset {_writer.Position} was reached (out-of-order writes such as convert -W are not supported).");

    /// <summary>Completes the set: the rest of the media as zeros, then tables, hashes and the done section.</summary>
    protected override void FlushCore()
    {
        lock (_lock) Finish();
    }

    private void Finish()
    {
        if (_finished) return;
        _finished = true;
        _writer.AppendZeros(_writer.Options.MediaSize - _writer.Position);
        _writer.Complete();
    }

    /// <summary>
    /// Completes the set unless a write failed: then the segments are left without their done section,
    /// so no reader takes a set with missing data for a finished one.
    /// </summary>
    protected override void Dispose(bool disposing)
    {
        if (!disposing) return;
        try
        {
            lock (_lock)
            {
                if (!_failed) Finish();
            }
        }
        finally { _writer.Dispose(); }
    }
}
