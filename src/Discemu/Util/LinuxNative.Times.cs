using System.Runtime.InteropServices;

namespace Discemu.Util;

internal static partial class LinuxNative
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "utimensat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int UtimensAt(int dirfd, string path, [In] TimeSpec[] times, int flags);

    /// <summary>
    /// Sets the access and modification times of <paramref name="path"/> itself, never of what a symbolic
    /// link points to (utimensat with AT_SYMLINK_NOFOLLOW); false where that is not possible.
    /// </summary>
    public static bool SetTimesNoFollow(string path, DateTimeOffset accessed, DateTimeOffset modified)
    {
        if (!OperatingSystem.IsLinux()) return false;
        static TimeSpec Spec(DateTimeOffset t)
        {
            long ticks = t.UtcTicks - DateTime.UnixEpoch.Ticks;
            long seconds = Math.DivRem(ticks, TimeSpan.TicksPerSecond, out long rest);
            if (rest < 0) { seconds--; rest += TimeSpan.TicksPerSecond; }
            return new TimeSpec { Seconds = seconds, Nanoseconds = rest * 100 };
        }
        return UtimensAt(AtFdCwd, path, [Spec(accessed), Spec(modified)], AtSymlinkNoFollow) == 0;
    }
}
