using System.Buffers.Binary;
using System.Text;
using Discemu.FileSystems;

namespace Discemu.Fuse;

/// <summary>
/// Encodes the reply structures of include/uapi/linux/fuse.h. FUSE uses the host's byte order; the server refuses
/// big-endian hosts, so little-endian is written explicitly.
/// </summary>
internal static class FuseWire
{
    /// <summary>The longest name the kernel accepts in a directory entry (FUSE_NAME_MAX).</summary>
    public const int NameMax = 1024;

    /// <summary>Writes a fuse_attr (88 bytes).</summary>
    public static void WriteAttr(Span<byte> s, ulong ino, FileSystemEntry e, uint uid, uint gid)
    {
        s = s[..FuseConstants.AttrSize];
        s.Clear();
        long size = e.Kind == FileSystemEntryKind.Symlink ? Encoding.UTF8.GetByteCount(e.SymlinkTarget ?? "") : Math.Max(0, e.Size);
        var mtime = e.Modified ?? e.Created ?? DateTimeOffset.UnixEpoch;
        var (ms, mn) = Split(mtime);
        var (asec, an) = Split(e.Accessed ?? mtime);
        var (cs, cn) = Split(e.Changed ?? mtime);
        BinaryPrimitives.WriteUInt64LittleEndian(s, ino);
        BinaryPrimitives.WriteInt64LittleEndian(s[8..], size);
        BinaryPrimitives.WriteInt64LittleEndian(s[16..], (size + 511) / 512);
        BinaryPrimitives.WriteInt64LittleEndian(s[24..], asec);
        BinaryPrimitives.WriteInt64LittleEndian(s[32..], ms);
        BinaryPrimitives.WriteInt64LittleEndian(s[40..], cs);
        BinaryPrimitives.WriteUInt32LittleEndian(s[48..], an);
        BinaryPrimitives.WriteUInt32LittleEndian(s[52..], mn);
        BinaryPrimitives.WriteUInt32LittleEndian(s[56..], cn);
        BinaryPrimitives.WriteUInt32LittleEndian(s[60..], ModeOf(e));
        BinaryPrimitives.WriteUInt32LittleEndian(s[64..], (uint)Math.Clamp(e.Links ?? (e.IsDirectory ? 2 : 1), 1, uint.MaxValue));
        BinaryPrimitives.WriteUInt32LittleEndian(s[68..], e.Uid ?? uid);
        BinaryPrimitives.WriteUInt32LittleEndian(s[72..], e.Gid ?? gid);
        BinaryPrimitives.WriteUInt32LittleEndian(s[76..], EncodeRdev(e.DeviceNumber));
        BinaryPrimitives.WriteUInt32LittleEndian(s[80..], 4096);
        // flags (84..88) stay zero.
    }

    /// <summary>Writes a fuse_entry_out (128 bytes).</summary>
    public static void WriteEntryOut(Span<byte> s, ulong nodeId, FileSystemEntry e, TimeSpan valid, uint uid, uint gid)
    {
        s = s[..FuseConstants.EntryOutSize];
        var (sec, nsec) = Timeout(valid);
        BinaryPrimitives.WriteUInt64LittleEndian(s, nodeId);
        BinaryPrimitives.WriteUInt64LittleEndian(s[8..], 0); // generation: ids are never reused while mounted
        BinaryPrimitives.WriteUInt64LittleEndian(s[16..], sec);
        BinaryPrimitives.WriteUInt64LittleEndian(s[24..], sec);
        BinaryPrimitives.WriteUInt32LittleEndian(s[32..], nsec);
        BinaryPrimitives.WriteUInt32LittleEndian(s[36..], nsec);
        WriteAttr(s[40..], nodeId, e, uid, gid);
    }

    /// <summary>Writes a fuse_attr_out (104 bytes).</summary>
    public static void WriteAttrOut(Span<byte> s, ulong nodeId, FileSystemEntry e, TimeSpan valid, uint uid, uint gid)
    {
        var (sec, nsec) = Timeout(valid);
        BinaryPrimitives.WriteUInt64LittleEndian(s, sec);
        BinaryPrimitives.WriteUInt32LittleEndian(s[8..], nsec);
        BinaryPrimitives.WriteUInt32LittleEndian(s[12..], 0);
        WriteAttr(s[16..], nodeId, e, uid, gid);
    }

    /// <summary>Writes a fuse_dirent; returns its padded size, or 0 when it does not fit in <paramref name="s"/>.</summary>
    public static int WriteDirent(Span<byte> s, ulong ino, ulong nextOffset, uint type, ReadOnlySpan<byte> name)
    {
        int size = Align8(FuseConstants.DirentHeaderSize + name.Length);
        if (size > s.Length) return 0;
        BinaryPrimitives.WriteUInt64LittleEndian(s, ino);
        BinaryPrimitives.WriteUInt64LittleEndian(s[8..], nextOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(s[16..], (uint)name.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(s[20..], type);
        name.CopyTo(s[24..]);
        s[(24 + name.Length)..size].Clear();
        return size;
    }

    /// <summary>Rounds up to the 8-byte alignment of directory entries (FUSE_DIRENT_ALIGN).</summary>
    public static int Align8(int n) => (n + 7) & ~7;

    /// <summary>The st_mode shown: the stored mode with the type bits of the entry's kind, else defaults (0755 directories, 0644 files, read-only files without write bits).</summary>
    public static uint ModeOf(FileSystemEntry e)
    {
        uint type = e.Kind switch
        {
            FileSystemEntryKind.Directory => FuseConstants.SIfDir,
            FileSystemEntryKind.Symlink => FuseConstants.SIfLnk,
            FileSystemEntryKind.File => FuseConstants.SIfReg,
            _ => (e.Mode ?? FuseConstants.SIfReg) & FuseConstants.SIfMt,
        };
        if (type == 0) type = FuseConstants.SIfReg;
        uint perm = e.Mode is { } m ? m & 0xFFF : e.Kind switch
        {
            FileSystemEntryKind.Directory => 0x1EDu, // 0755
            FileSystemEntryKind.Symlink => 0x1FFu, // 0777
            _ => (e.Attributes & FileAttributes.ReadOnly) != 0 && e.Attributes != FileAttributes.Normal ? 0x124u : 0x1A4u, // 0444 / 0644
        };
        return type | perm;
    }

    /// <summary>The d_type of a directory entry (the mode's type bits shifted down).</summary>
    public static uint DirentType(FileSystemEntry e) => ModeOf(e) >> 12;

    /// <summary>True when the kernel accepts <paramref name="name"/> in a directory listing.</summary>
    public static bool IsShowable(string name)
        => name.Length > 0 && name is not "." and not ".." && !name.Contains('/') && !name.Contains('\0') && Encoding.UTF8.GetByteCount(name) <= NameMax;

    private static uint EncodeRdev(ulong? rdev)
    {
        if (rdev is not { } d) return 0;
        // Linux's dev_t (glibc encoding) to the kernel's old 32-bit new_encode_dev form fuse_attr carries.
        uint major = (uint)(((d >> 8) & 0xFFF) | ((d >> 32) & ~0xFFFu));
        uint minor = (uint)((d & 0xFF) | ((d >> 12) & ~0xFFu));
        return (minor & 0xFF) | ((major & 0xFFF) << 8) | ((minor & ~0xFFu) << 12);
    }

    private static (long Seconds, uint Nanoseconds) Split(DateTimeOffset t)
    {
        long ticks = t.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        long sec = Math.DivRem(ticks, TimeSpan.TicksPerSecond, out long rem);
        if (rem < 0)
        {
            sec--;
            rem += TimeSpan.TicksPerSecond;
        }
        return (sec, (uint)(rem * 100));
    }

    private static (ulong Seconds, uint Nanoseconds) Timeout(TimeSpan t)
        => ((ulong)(t.Ticks / TimeSpan.TicksPerSecond), (uint)(t.Ticks % TimeSpan.TicksPerSecond * 100));
}
