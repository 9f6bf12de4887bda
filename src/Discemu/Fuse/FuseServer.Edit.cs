using System.Buffers.Binary;
using Discemu.FileSystems;

namespace Discemu.Fuse;

/// <summary>The requests of writable views: WRITE, SETATTR, CREATE, MKNOD, MKDIR, UNLINK, RMDIR, RENAME(2).</summary>
internal sealed partial class FuseServer
{
    private int WriteFile(ReadOnlySpan<byte> body, Span<byte> o)
    {
        if (!_view.Writable) throw new FuseErrorException(Errno.EROFS);
        var file = GetHandle<IFuseFile>(Read64(body, 0));
        ulong offset = Read64(body, 8);
        uint size = Read32(body, 16);
        if (offset > long.MaxValue) throw new FuseErrorException(Errno.EFBIG);
        if (FuseConstants.WriteInSize + (long)size > body.Length) throw new FuseErrorException(Errno.EINVAL);
        file.Write((long)offset, body.Slice(FuseConstants.WriteInSize, (int)size));
        BinaryPrimitives.WriteUInt32LittleEndian(o, size);
        BinaryPrimitives.WriteUInt32LittleEndian(o[4..], 0);
        return 8;
    }

    private int SetAttr(FuseNode node, ReadOnlySpan<byte> body, Span<byte> o)
    {
        if (body.Length < 88) throw new FuseErrorException(Errno.EINVAL);
        uint valid = Read32(body, 0);
        string path = PathOf(node);
        var entry = Current(node, path);
        if ((valid & (FuseConstants.FattrUid | FuseConstants.FattrGid)) != 0)
        {
            // Owners are not recorded by the writable file systems: only a no-op chown succeeds.
            if ((valid & FuseConstants.FattrUid) != 0 && Read32(body, 76) != (entry.Uid ?? _uid)) throw new FuseErrorException(Errno.EPERM);
            if ((valid & FuseConstants.FattrGid) != 0 && Read32(body, 80) != (entry.Gid ?? _gid)) throw new FuseErrorException(Errno.EPERM);
        }
        if (!_view.Writable && (valid & (FuseConstants.FattrSize | FuseConstants.FattrMode | FuseConstants.FattrAtime | FuseConstants.FattrMtime)) != 0)
            throw new FuseErrorException(Errno.EROFS);
        if ((valid & FuseConstants.FattrSize) != 0)
        {
            if (entry.Kind != FileSystemEntryKind.File) throw new FuseErrorException(entry.IsDirectory ? Errno.EISDIR : Errno.EINVAL);
            ulong size = Read64(body, 16);
            if (size > long.MaxValue) throw new FuseErrorException(Errno.EFBIG);
            _view.SetLength(entry, path, (long)size);
        }
        if ((valid & FuseConstants.FattrMode) != 0) _view.SetMode(entry, path, Read32(body, 68));
        DateTimeOffset? atime = null, mtime = null;
        var now = DateTimeOffset.UtcNow;
        if ((valid & FuseConstants.FattrAtime) != 0)
            atime = (valid & FuseConstants.FattrAtimeNow) != 0 ? now : FromUnix((long)Read64(body, 32), Read32(body, 56));
        if ((valid & FuseConstants.FattrMtime) != 0)
            mtime = (valid & FuseConstants.FattrMtimeNow) != 0 ? now : FromUnix((long)Read64(body, 40), Read32(body, 60));
        if (atime is not null || mtime is not null) _view.SetTimes(entry, path, atime, mtime);
        return GetAttr(node, o);
    }

    private int Create(FuseNode parent, ReadOnlySpan<byte> body, Span<byte> o)
    {
        uint flags = Read32(body, 0), mode = Read32(body, 4);
        string path = NewPath(parent, Name(body[16..]));
        var entry = _view.CreateFile(path);
        if ((mode & 0x92) == 0) _view.SetMode(entry, path, mode); // created without any write bit: read-only
        entry = _view.Refresh(entry, path) ?? entry;
        int used = EntryReply(path, entry, o);
        var node = _nodes.Find(path)!;
        return used + Open(node, flags, o[used..]);
    }

    private int MkNod(FuseNode parent, ReadOnlySpan<byte> body, Span<byte> o)
    {
        uint mode = Read32(body, 0);
        if ((mode & FuseConstants.SIfMt) != FuseConstants.SIfReg) throw new FuseErrorException(Errno.EPERM);
        string path = NewPath(parent, Name(body[16..]));
        var entry = _view.CreateFile(path);
        return EntryReply(path, entry, o);
    }

    private int MkDir(FuseNode parent, ReadOnlySpan<byte> body, Span<byte> o)
    {
        string path = NewPath(parent, Name(body[8..]));
        var entry = _view.CreateDirectory(path);
        return EntryReply(path, entry, o);
    }

    private int Remove(FuseNode parent, string name, bool directory)
    {
        if (!_view.Writable) throw new FuseErrorException(Errno.EROFS);
        string parentPath = PathOf(parent);
        var dir = Current(parent, parentPath);
        var entry = _view.Lookup(dir, parentPath, name) ?? throw new FuseErrorException(Errno.ENOENT);
        string path = FileSystemView.Join(parentPath, entry.Name);
        if (directory && !entry.IsDirectory) throw new FuseErrorException(Errno.ENOTDIR);
        if (!directory && entry.IsDirectory) throw new FuseErrorException(Errno.EISDIR);
        if (directory && _view.List(entry, path).Count > 0) throw new FuseErrorException(Errno.ENOTEMPTY);
        _view.Delete(path);
        _nodes.Removed(path);
        return 0;
    }

    private int Rename(FuseNode parent, ulong newDirId, uint flags, ReadOnlySpan<byte> names)
    {
        if (!_view.Writable) throw new FuseErrorException(Errno.EROFS);
        if ((flags & ~FuseConstants.RenameNoReplace) != 0) throw new FuseErrorException(Errno.EINVAL); // RENAME_EXCHANGE, RENAME_WHITEOUT
        int nul = names.IndexOf((byte)0);
        if (nul < 0) throw new FuseErrorException(Errno.EINVAL);
        string oldName = Name(names[..nul]), newName = Name(names[(nul + 1)..]);
        string parentPath = PathOf(parent);
        var source = _view.Lookup(Current(parent, parentPath), parentPath, oldName) ?? throw new FuseErrorException(Errno.ENOENT);
        string from = FileSystemView.Join(parentPath, source.Name);
        var newDir = Node(newDirId);
        string newDirPath = PathOf(newDir);
        var targetDir = Current(newDir, newDirPath);
        if (!targetDir.IsDirectory) throw new FuseErrorException(Errno.ENOTDIR);
        if (!FuseWire.IsShowable(newName)) throw new FuseErrorException(Errno.EINVAL);
        var existing = _view.Lookup(targetDir, newDirPath, newName);
        string to = FileSystemView.Join(newDirPath, newName);
        if (existing is not null)
        {
            string existingPath = FileSystemView.Join(newDirPath, existing.Name);
            if (existingPath == from) // same entry (a case change on a case-insensitive file system, or a no-op)
            {
                if (to == from) return 0;
                _view.Move(from, to, replace: false);
                _nodes.Moved(from, to);
                return 0;
            }
            if ((flags & FuseConstants.RenameNoReplace) != 0) throw new FuseErrorException(Errno.EEXIST);
            if (existing.IsDirectory && !source.IsDirectory) throw new FuseErrorException(Errno.EISDIR);
            if (!existing.IsDirectory && source.IsDirectory) throw new FuseErrorException(Errno.ENOTDIR);
            if (existing.IsDirectory && _view.List(existing, existingPath).Count > 0) throw new FuseErrorException(Errno.ENOTEMPTY);
            to = existingPath;
        }
        if (source.IsDirectory && (to + "/").StartsWith(from + "/", StringComparison.Ordinal)) throw new FuseErrorException(Errno.EINVAL);
        _view.Move(from, to, replace: existing is not null);
        _nodes.Moved(from, to);
        return 0;
    }

    /// <summary>The path a new entry <paramref name="name"/> in <paramref name="parent"/> gets; fails when something is there.</summary>
    private string NewPath(FuseNode parent, string name)
    {
        if (!_view.Writable) throw new FuseErrorException(Errno.EROFS);
        if (!FuseWire.IsShowable(name)) throw new FuseErrorException(Errno.EINVAL);
        string parentPath = PathOf(parent);
        var dir = Current(parent, parentPath);
        if (!dir.IsDirectory) throw new FuseErrorException(Errno.ENOTDIR);
        if (_view.Lookup(dir, parentPath, name) is not null) throw new FuseErrorException(Errno.EEXIST);
        return FileSystemView.Join(parentPath, name);
    }

    private static DateTimeOffset FromUnix(long seconds, uint nanoseconds)
    {
        long clamped = Math.Clamp(seconds, -62_135_596_800L, 253_402_300_799L);
        return DateTimeOffset.FromUnixTimeSeconds(clamped).AddTicks(Math.Min(nanoseconds, 999_999_999u) / 100);
    }
}
