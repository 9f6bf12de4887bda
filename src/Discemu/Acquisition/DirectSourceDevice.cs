using System.Buffers;
using System.Runtime.InteropServices;
using Discemu.Block;
using Discemu.Util;
using Microsoft.Win32.SafeHandles;

namespace Discemu.Acquisition;

/// <summary>
/// A read-only file or block device opened with <c>O_DIRECT</c> (GNU ddrescue's <c>--idirect</c>): reads bypass
/// the page cache, so the kernel neither reads ahead nor turns one bad sector into a failed page, and every
/// request reaches the device exactly as issued. Requests that are not aligned to the device's logical block
/// size (offset, length or memory) go through an aligned bounce buffer.
/// </summary>
public sealed partial class DirectSourceDevice : BlockDevice
{
    private const int MemoryAlignment = 4096;
    private const int OpenReadOnly = 0;
    private const int OpenCloseOnExec = 0x80000;
    private const uint BlkSszGet = 0x1268;

    private readonly SafeFileHandle _handle;
    private readonly long _length;
    private readonly int _alignment;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int IoctlInt(SafeFileHandle fd, nuint request, out int value);

    private DirectSourceDevice(SafeFileHandle handle, string path)
    {
        _handle = handle;
        Path = path;
        long? deviceSize = LinuxNative.BlockDeviceSize(handle);
        IsBlockDevice = deviceSize is not null;
        _length = deviceSize ?? RandomAccess.GetLength(handle);
        _alignment = IsBlockDevice && IoctlInt(handle, BlkSszGet, out int ss) == 0 && ss is >= 512 and <= 65536 ? ss : 512;
    }

    /// <summary>Opens <paramref name="path"/> for direct reading.</summary>
    /// <exception cref="ImageAccessException">The file cannot be opened, or the system has no direct I/O.</exception>
    public static DirectSourceDevice Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!OperatingSystem.IsLinux()) throw new ImageAccessException("Direct I/O is only available on Linux.", path);
        if (!HostFile.IsFileOrBlockDevice(path)) throw new ImageAccessException("Not a regular file or block device.", path);
        int direct = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x10000 : 0x4000;
        int fd = Open(path, OpenReadOnly | OpenCloseOnExec | direct);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new ImageAccessException($"Cannot open for direct I/O: {Marshal.GetPInvokeErrorMessage(errno)}.", path);
        }
        return new DirectSourceDevice(new SafeFileHandle(fd, ownsHandle: true), path);
    }

    /// <summary>The path opened.</summary>
    public string Path { get; }

    /// <summary>True for a block device.</summary>
    public bool IsBlockDevice { get; }

    /// <summary>The unit direct reads must be aligned to.</summary>
    public int Alignment => _alignment;

    /// <inheritdoc/>
    public override long Length => _length;

    /// <inheritdoc/>
    public override DeviceCapabilities Capabilities => 0;

    /// <inheritdoc/>
    protected override unsafe void ReadCore(long offset, Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            if (offset % _alignment == 0 && buffer.Length % _alignment == 0 && (nint)p % _alignment == 0)
            {
                ReadAll(offset, buffer);
                return;
            }
        }
        long start = offset - offset % _alignment;
        long end = offset + buffer.Length;
        end += (_alignment - end % _alignment) % _alignment;
        int length = checked((int)(end - start));
        byte[] rented = ArrayPool<byte>.Shared.Rent(length + MemoryAlignment);
        try
        {
            fixed (byte* r = rented)
            {
                int pad = (int)((MemoryAlignment - (nint)r % MemoryAlignment) % MemoryAlignment);
                var bounce = rented.AsSpan(pad, length);
                ReadAll(start, bounce);
                bounce.Slice((int)(offset - start), buffer.Length).CopyTo(buffer);
            }
        }
        finally { ArrayPool<byte>.Shared.Return(rented); }
    }

    /// <summary>Reads until the span is full; past the end of a regular file the rest reads as zeros.</summary>
    private void ReadAll(long offset, Span<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            int n = RandomAccess.Read(_handle, buffer, offset);
            if (n <= 0 || (n < buffer.Length && n % _alignment != 0))
            {
                // The end of a regular file (a direct read there returns a short, unaligned count).
                if (n > 0) buffer = buffer[n..];
                buffer.Clear();
                return;
            }
            buffer = buffer[n..];
            offset += n;
        }
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing) _handle.Dispose();
    }
}
