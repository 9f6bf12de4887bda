using System.Runtime.InteropServices;

namespace Discemu.Fuse;

/// <summary>The pipe and splice(2) calls of the spliced READ reply path (Linux only).</summary>
internal static unsafe partial class FuseNative
{
    /// <summary>fcntl(2): F_SETPIPE_SZ and F_GETPIPE_SZ (F_LINUX_SPECIFIC_BASE + 7 / + 8).</summary>
    public const int FSetPipeSize = 1031;
    public const int FGetPipeSize = 1032;

    /// <summary>ioctl(2) FIONREAD: the bytes waiting in a pipe.</summary>
    public const ulong FionRead = 0x541B;

    /// <summary>splice(2) flag: move pages instead of copying them where the target allows (a hint).</summary>
    public const uint SpliceFMove = 1;

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    public static partial int Fcntl(int fd, int command, int argument);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(int fd, ulong request, int* argument);

    [LibraryImport("libc", EntryPoint = "splice", SetLastError = true)]
    public static partial nint Splice(int fdIn, long* offIn, int fdOut, long* offOut, nuint length, uint flags);
}
