using Discemu.Util;
using Microsoft.Win32.SafeHandles;

namespace Discemu.Block;

/// <summary>
/// A regular file or a block device used as a device, with positional I/O. Holes in sparse files
/// are reported by <see cref="BlockDevice.GetStatus"/> (SEEK_DATA/SEEK_HOLE), and write-zeroes and discard punch
/// holes where the file system allows.
/// </summary>
public sealed class FileDevice : BlockDevice, IHostMappable
{
    private readonly SafeFileHandle _handle;
    private readonly bool _writable;
    private readonly bool _isBlockDevice;
    private long _length;

    private FileDevice(SafeFileHandle handle, string path, bool writable)
    {
        _handle = handle;
        Path = path;
        _writable = writable;
        long? blockSize = LinuxNative.BlockDeviceSize(handle);
        _isBlockDevice = blockSize is not null;
        _length = blockSize ?? RandomAccess.GetLength(handle);
    }

    /// <summary>Opens an existing file or block device.</summary>
    /// <exception cref="ImageAccessException">The file cannot be opened.</exception>
    public static FileDevice Open(string path, bool writable)
    {
        ArgumentNullException.ThrowIfNull(path);
        var handle = OpenHandle(path, FileMode.Open, writable);
        return new FileDevice(handle, path, writable);
    }

    /// <summary>Creates (or truncates) a regular file of <paramref name="length"/> bytes, sparse where the file system allows.</summary>
    /// <exception cref="ImageAccessException">The file cannot be created.</exception>
    public static FileDevice Create(string path, long length)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        // Not FileMode.Create: .NET implements it as open + ftruncate(0), and on ext4 a truncation
        // to zero marks the file for "replace via truncate" protection, which makes close() start
        // writeback of every dirty page in the caller (about a third of a large convert). A new
        // file is only grown; an existing one is emptied first, as it must be.
        var handle = OpenHandle(path, FileMode.OpenOrCreate, true);
        try
        {
            if (RandomAccess.GetLength(handle) != 0) RandomAccess.SetLength(handle, 0);
            RandomAccess.SetLength(handle, length);
        }
        catch (IOException e) { handle.Dispose(); throw new ImageAccessException(e.Message, path, e); }
        return new FileDevice(handle, path, true);
    }

    internal static SafeFileHandle OpenHandle(string path, FileMode mode, bool writable)
    {
        if (!HostFile.IsFileOrBlockDevice(path)) throw new ImageAccessException("Not a regular file or block device.", path);
        try
        {
            return File.OpenHandle(path, mode, writable ? FileAccess.ReadWrite : FileAccess.Read,
                writable ? FileShare.Read : FileShare.ReadWrite, FileOptions.None);
        }
        catch (FileNotFoundException e) { throw new ImageAccessException("No such file.", path, e); }
        catch (DirectoryNotFoundException e) { throw new ImageAccessException("No such file or directory.", path, e); }
        catch (UnauthorizedAccessException e) { throw new ImageAccessException("Permission denied.", path, e); }
        catch (IOException e) { throw new ImageAccessException(e.Message, path, e); }
    }

    /// <summary>The path the device was opened from.</summary>
    public string Path { get; }

    /// <summary>The underlying handle, for drivers that need host-file operations.</summary>
    internal SafeFileHandle Handle => _handle;

    /// <summary>True when the device is a block device rather than a regular file.</summary>
    public bool IsBlockDevice => _isBlockDevice;

    /// <inheritdoc/>
    public override long Length => Volatile.Read(ref _length);

    /// <inheritdoc/>
    public override DeviceCapabilities Capabilities => _writable
        ? DeviceCapabilities.Write | DeviceCapabilities.FastZero | DeviceCapabilities.Discard | DeviceCapabilities.Status | (_isBlockDevice ? 0 : DeviceCapabilities.Resize)
        : DeviceCapabilities.Status;

    /// <summary>Bytes the file occupies on the host, or null when unknown.</summary>
    public long? AllocatedBytes => _isBlockDevice ? _length : HostFile.AllocatedBytes(Path);

    /// <inheritdoc/>
    protected override void ReadCore(long offset, Span<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            int n = RandomAccess.Read(_handle, buffer, offset);
            if (n <= 0)
            {
                // The file shrank under us: what lies past its end reads as zeros.
                buffer.Clear();
                return;
            }
            buffer = buffer[n..];
            offset += n;
        }
    }

    /// <inheritdoc/>
    protected override void WriteCore(long offset, ReadOnlySpan<byte> data) => RandomAccess.Write(_handle, data, offset);

    /// <summary>
    /// When set, <see cref="BlockDevice.Flush"/> does nothing (qemu's <c>cache=unsafe</c>): for scratch targets
    /// whose durability does not matter, where a driver's ordering flushes would force the host to write
    /// back everything written so far.
    /// </summary>
    public bool SkipFlush { get; set; }

    /// <inheritdoc/>
    protected override void FlushCore()
    {
        if (!SkipFlush) RandomAccess.FlushToDisk(_handle);
    }

    /// <inheritdoc/>
    protected override void WriteZeroesCore(long offset, long length, bool mayUnmap)
    {
        if (!_isBlockDevice && (LinuxNative.ZeroRange(_handle, offset, length, mayUnmap) || LinuxNative.ZeroRange(_handle, offset, length, !mayUnmap)))
            return;
        WriteZeroBuffer(offset, length);
    }

    /// <inheritdoc/>
    protected override void DiscardCore(long offset, long length)
    {
        if (!_isBlockDevice) LinuxNative.ZeroRange(_handle, offset, length, punch: true);
    }

    /// <inheritdoc/>
    protected override BlockStatus GetStatusCore(long offset, long maxLength)
    {
        const BlockStatusFlags data = BlockStatusFlags.Data | BlockStatusFlags.Allocated;
        const BlockStatusFlags hole = BlockStatusFlags.Zero | BlockStatusFlags.Allocated;
        if (_isBlockDevice) return new BlockStatus(maxLength, data, 0, offset);
        long? nextData = LinuxNative.NextData(_handle, offset);
        if (nextData is null) return new BlockStatus(maxLength, data, 0, offset);
        if (nextData == -1) return new BlockStatus(maxLength, hole, 0, offset);
        if (nextData > offset) return new BlockStatus(Math.Min(nextData.Value - offset, maxLength), hole, 0, offset);
        long? nextHole = LinuxNative.NextHole(_handle, offset);
        long end = nextHole is null or -1 ? offset + maxLength : nextHole.Value;
        return new BlockStatus(Math.Clamp(end - offset, 1, maxLength), data, 0, offset);
    }

    /// <inheritdoc/>
    HostExtent? IHostMappable.MapToHostCore(long offset, long maxLength) => new HostExtent(_handle, offset, maxLength);

    /// <inheritdoc/>
    protected override void ResizeCore(long newLength)
    {
        RandomAccess.SetLength(_handle, newLength);
        Volatile.Write(ref _length, newLength);
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing) _handle.Dispose();
    }
}
