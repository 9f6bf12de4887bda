using Discemu.Block;
using Discemu.Formats;

namespace Discemu.Acquisition;

/// <summary>
/// Where an acquisition writes the image. Two kinds exist: <see cref="RandomAccessSink"/> (raw files,
/// split raw sets, any writable image format), which the rescue algorithm writes in any order and which
/// can be reopened to resume; and <see cref="SequentialSink"/> (formats written front to back, such as
/// E01), which receive every byte in media order exactly once, bad sectors included (as fill), so the
/// engine runs its forensic sequential mode for them.
/// </summary>
public abstract class AcquisitionSink : IDisposable
{
    private int _disposed;

    /// <summary>The destination as the user named it.</summary>
    public abstract string Path { get; }

    /// <summary>The image format written (a registry name: <c>raw</c>, <c>qcow2</c>, <c>ewf</c>…).</summary>
    public abstract string FormatName { get; }

    /// <summary>The size of the acquired media in bytes.</summary>
    public abstract long Length { get; }

    /// <summary>The files written, in order (several for a split set or a segmented image).</summary>
    public virtual IReadOnlyList<string> Files => [Path];

    /// <summary>The file to open to read the image back (the first piece or segment).</summary>
    public virtual string ReadBackPath => Files[0];

    /// <summary>
    /// Finishes the image once every byte has been delivered: <paramref name="hashes"/> are the hashes of the
    /// acquired media (lower-case hex by algorithm name: <c>md5</c>, <c>sha1</c>…), for formats that store them.
    /// </summary>
    public abstract void Complete(IReadOnlyDictionary<string, string> hashes);

    /// <summary>Opens the finished image for reading (for <c>--verify</c>).</summary>
    /// <exception cref="DiscemuException">The image cannot be opened.</exception>
    public virtual DiskImage OpenForReading(ImageOpener opener)
    {
        ArgumentNullException.ThrowIfNull(opener);
        return opener.Open(ReadBackPath, new ImageOpenOptions { Format = FormatName, OpenBacking = false });
    }

    /// <summary>Releases the destination (closing files).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases resources.</summary>
    protected virtual void Dispose(bool disposing) { }
}

/// <summary>A destination written at any offset, readable while it is written, that can be reopened to resume.</summary>
public abstract class RandomAccessSink : AcquisitionSink
{
    /// <summary>Writes <paramref name="data"/> at <paramref name="offset"/>.</summary>
    public abstract void Write(long offset, ReadOnlySpan<byte> data);

    /// <summary>Makes the range read as zeros.</summary>
    public abstract void WriteZeroes(long offset, long length);

    /// <summary>Reads back what was written (for the final hash pass).</summary>
    public abstract void Read(long offset, Span<byte> buffer);

    /// <summary>Makes every completed write durable on disk (called before a synced mapfile save).</summary>
    public abstract void Flush();

    /// <summary>
    /// Makes every completed write survive the end of this process, though not necessarily a power loss (called
    /// before every mapfile save): a format that caches metadata in memory writes it out. The default flushes.
    /// </summary>
    public virtual void Checkpoint() => Flush();

    /// <inheritdoc/>
    public override void Complete(IReadOnlyDictionary<string, string> hashes) => Checkpoint();
}

/// <summary>
/// A destination written front to back: <see cref="Append"/> receives the media in order, each byte exactly
/// once (unreadable sectors as fill bytes, also reported through <see cref="AddError"/>), then
/// <see cref="AcquisitionSink.Complete"/> receives the hashes. It cannot be resumed.
/// </summary>
public abstract class SequentialSink : AcquisitionSink
{
    /// <summary>Appends the next bytes of the media.</summary>
    public abstract void Append(ReadOnlySpan<byte> data);

    /// <summary>Records an unreadable range (already appended as fill bytes).</summary>
    public abstract void AddError(long offset, long length);
}

/// <summary>A random-access destination over any writable <see cref="BlockDevice"/> (raw file, split set, image).</summary>
public sealed class DeviceSink : RandomAccessSink
{
    private readonly BlockDevice _device;
    private readonly IReadOnlyList<string> _files;
    private readonly bool _writesThrough;

    /// <summary>Wraps <paramref name="device"/>, which the sink owns and disposes.</summary>
    /// <param name="device">A writable device at least as large as the media.</param>
    /// <param name="path">The destination's name.</param>
    /// <param name="formatName">The format written.</param>
    /// <param name="files">The files making up the destination (defaults to <paramref name="path"/>).</param>
    /// <param name="writesThrough">
    /// True when every write reaches the operating system at once (raw files and devices), so a checkpoint has
    /// nothing to do; false (the default) when the device may cache metadata, so a checkpoint flushes it.
    /// </param>
    /// <exception cref="ArgumentException">The device is read-only.</exception>
    public DeviceSink(BlockDevice device, string path, string formatName, IReadOnlyList<string>? files = null, bool writesThrough = false)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(formatName);
        if (!device.CanWrite) throw new ArgumentException("The destination device is read-only.", nameof(device));
        _device = device;
        Path = path;
        FormatName = formatName;
        _files = files ?? [path];
        _writesThrough = writesThrough;
    }

    /// <summary>The device written.</summary>
    public BlockDevice Device => _device;

    /// <inheritdoc/>
    public override string Path { get; }

    /// <inheritdoc/>
    public override string FormatName { get; }

    /// <inheritdoc/>
    public override long Length => _device.Length;

    /// <inheritdoc/>
    public override IReadOnlyList<string> Files => _files;

    /// <inheritdoc/>
    public override void Write(long offset, ReadOnlySpan<byte> data) => _device.Write(offset, data);

    /// <inheritdoc/>
    public override void WriteZeroes(long offset, long length) => _device.WriteZeroes(offset, length, mayUnmap: true);

    /// <inheritdoc/>
    public override void Read(long offset, Span<byte> buffer) => _device.Read(offset, buffer);

    /// <inheritdoc/>
    public override void Flush() => _device.Flush();

    /// <inheritdoc/>
    public override void Checkpoint()
    {
        if (!_writesThrough) _device.Flush();
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing) _device.Dispose();
    }
}
