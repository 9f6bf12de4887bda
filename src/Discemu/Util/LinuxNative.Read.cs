using System.Runtime.InteropServices;

namespace Discemu.Util;

internal static partial class LinuxNative
{
    private const int OpenReadOnlyCloseOnExec = 0x80000; // O_RDONLY | O_CLOEXEC (the same on x86-64 and arm64)
    private const int Eintr = 4;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "pread", SetLastError = true)]
    private static unsafe partial nint PRead(int fd, byte* buffer, nuint count, long offset);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);

    /// <summary>
    /// Reads the start of a host file into <paramref name="buffer"/> through a bare descriptor (no lock, no status
    /// call, no handle object): reads until <paramref name="enough"/> bytes are in, the buffer is full or the file ends.
    /// </summary>
    /// <returns>The bytes read; null when not on Linux or when opening or reading fails (the caller then goes through
    /// <see cref="File.OpenHandle(string, FileMode, FileAccess, FileShare, FileOptions, long)"/>, which reports the error properly).</returns>
    public static unsafe int? ReadFileStart(string path, Span<byte> buffer, int enough)
    {
        if (!OperatingSystem.IsLinux()) return null;
        int fd = Open(path, OpenReadOnlyCloseOnExec);
        if (fd < 0) return null;
        try
        {
            int got = 0;
            fixed (byte* start = buffer)
            {
                while (got < buffer.Length)
                {
                    nint n = PRead(fd, start + got, (nuint)(buffer.Length - got), got);
                    if (n < 0)
                    {
                        if (Marshal.GetLastPInvokeError() == Eintr) continue;
                        return null;
                    }
                    if (n == 0) break;
                    got += (int)n;
                    if (got >= enough) break;
                }
            }
            return got;
        }
        finally
        {
            _ = Close(fd);
        }
    }
}
