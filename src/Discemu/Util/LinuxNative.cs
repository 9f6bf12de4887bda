using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Discemu.Util;

/// <summary>The few Linux system calls the raw driver uses beyond what .NET exposes.</summary>
internal static partial class LinuxNative
{
    private const int SeekData = 3;
    private const int SeekHole = 4;
    private const int Enxio = 6;
    private const int FallocKeepSize = 0x01;
    private const int FallocPunchHole = 0x02;
    private const int FallocZeroRange = 0x10;
    private const uint BlkGetSize64 = 0x80081272;

    [LibraryImport("libc", EntryPoint = "lseek", SetLastError = true)]
    private static partial long LSeek(SafeFileHandle fd, long offset, int whence);

    [LibraryImport("libc", EntryPoint = "fallocate", SetLastError = true)]
    private static partial int FAllocate(SafeFileHandle fd, int mode, long offset, long len);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int IoctlU64(SafeFileHandle fd, nuint request, out ulong value);

    /// <summary>The next data offset at or after <paramref name="offset"/>; -1 when only a hole follows; null when unsupported.</summary>
    public static long? NextData(SafeFileHandle fd, long offset) => Seek(fd, offset, SeekData);

    /// <summary>The next hole offset at or after <paramref name="offset"/> (EOF counts as a hole); null when unsupported.</summary>
    public static long? NextHole(SafeFileHandle fd, long offset) => Seek(fd, offset, SeekHole);

    private static long? Seek(SafeFileHandle fd, long offset, int whence)
    {
        if (!OperatingSystem.IsLinux()) return null;
        long r = LSeek(fd, offset, whence);
        if (r >= 0) return r;
        return Marshal.GetLastPInvokeError() == Enxio ? -1 : null;
    }

    /// <summary>Deallocates (punch) or zeroes a file range in place; false when the file system cannot.</summary>
    public static bool ZeroRange(SafeFileHandle fd, long offset, long length, bool punch)
    {
        if (!OperatingSystem.IsLinux()) return false;
        int mode = punch ? FallocPunchHole | FallocKeepSize : FallocZeroRange | FallocKeepSize;
        return FAllocate(fd, mode, offset, length) == 0;
    }

    /// <summary>Allocates host space for a file range (fallocate mode 0); false when the file system cannot.</summary>
    public static bool Allocate(SafeFileHandle fd, long offset, long length)
        => OperatingSystem.IsLinux() && FAllocate(fd, 0, offset, length) == 0;

    /// <summary>Size of a block device in bytes, or null when the handle is not one.</summary>
    public static long? BlockDeviceSize(SafeFileHandle fd)
    {
        if (!OperatingSystem.IsLinux()) return null;
        return IoctlU64(fd, (nuint)BlkGetSize64, out ulong size) == 0 && size <= long.MaxValue ? (long)size : null;
    }
}
