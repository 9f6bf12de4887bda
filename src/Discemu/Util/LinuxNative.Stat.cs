using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Discemu.Util;

/// <summary>What lstat says about a path (statx with AT_SYMLINK_NOFOLLOW).</summary>
internal readonly record struct HostStat(uint Mode, uint Uid, uint Gid, uint Links, ulong Inode, long Size,
    long AccessedSeconds, long ChangedSeconds, long ModifiedSeconds, ulong DeviceNumber, ulong Device);

internal static partial class LinuxNative
{
    // struct statx (linux/stat.h) has the same layout on every architecture.
    private const int StatxBufferSize = 256;
    private const uint StatxBasicStats = 0x7FF;

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int Statx(int dirfd, string path, int flags, uint mask, byte* buffer);

    /// <summary>The attributes of <paramref name="path"/> itself (a symbolic link is not followed); null when not on Linux or on failure.</summary>
    public static unsafe HostStat? LStat(string path)
    {
        if (!OperatingSystem.IsLinux()) return null;
        byte* buffer = stackalloc byte[StatxBufferSize];
        if (Statx(AtFdCwd, path, AtSymlinkNoFollow, StatxBasicStats, buffer) != 0) return null;
        var b = new ReadOnlySpan<byte>(buffer, StatxBufferSize);
        static ulong Dev(uint major, uint minor) => ((ulong)major << 32) | minor;
        return new HostStat(
            Mode: BinaryPrimitives.ReadUInt16LittleEndian(b[28..]),
            Uid: BinaryPrimitives.ReadUInt32LittleEndian(b[20..]),
            Gid: BinaryPrimitives.ReadUInt32LittleEndian(b[24..]),
            Links: BinaryPrimitives.ReadUInt32LittleEndian(b[16..]),
            Inode: BinaryPrimitives.ReadUInt64LittleEndian(b[32..]),
            Size: BinaryPrimitives.ReadInt64LittleEndian(b[40..]),
            AccessedSeconds: BinaryPrimitives.ReadInt64LittleEndian(b[64..]),
            ChangedSeconds: BinaryPrimitives.ReadInt64LittleEndian(b[96..]),
            ModifiedSeconds: BinaryPrimitives.ReadInt64LittleEndian(b[112..]),
            DeviceNumber: Dev(BinaryPrimitives.ReadUInt32LittleEndian(b[128..]), BinaryPrimitives.ReadUInt32LittleEndian(b[132..])),
            Device: Dev(BinaryPrimitives.ReadUInt32LittleEndian(b[136..]), BinaryPrimitives.ReadUInt32LittleEndian(b[140..])));
    }
}
