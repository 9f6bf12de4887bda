using System.Buffers.Binary;
using System.Text;
using Discemu.FileSystems;

namespace Discemu.Fuse;

internal sealed partial class FuseServer
{
    private const uint ServedFlags = FuseConstants.AsyncRead | FuseConstants.BigWrites | FuseConstants.MaxPagesFlag
        | FuseConstants.DoReaddirplus | FuseConstants.ReaddirplusAuto | FuseConstants.ParallelDirops;

    /// <summary>A directory opened by OPENDIR: its listing, taken once so READDIR offsets stay stable.</summary>
    private sealed record DirHandle(FuseNode Node, string Path, IReadOnlyList<FileSystemEntry> Entries);

    private void Handle(ReadOnlySpan<byte> request, byte[] output, FuseSplicePipe? pipe)
    {
        uint len = BinaryPrimitives.ReadUInt32LittleEndian(request);
        var opcode = (FuseOpcode)BinaryPrimitives.ReadUInt32LittleEndian(request[4..]);
        ulong unique = BinaryPrimitives.ReadUInt64LittleEndian(request[8..]);
        ulong nodeId = BinaryPrimitives.ReadUInt64LittleEndian(request[16..]);
        if (len != request.Length)
        {
            Reply(output, unique, 0, Errno.EIO);
            return;
        }
        var body = request[FuseConstants.InHeaderSize..];
        try
        {
            switch (opcode)
            {
                case FuseOpcode.Forget:
                    _nodes.Forget(nodeId, Read64(body, 0));
                    return; // no reply
                case FuseOpcode.BatchForget:
                    BatchForget(body);
                    return;
                case FuseOpcode.Interrupt:
                    return; // requests finish quickly; the kernel gets their normal replies
                case FuseOpcode.Init:
                    Init(body, output, unique);
                    return;
                case FuseOpcode.Destroy:
                    Reply(output, unique, 0);
                    return;
                case FuseOpcode.Read when pipe is not null && TrySpliceRead(body, unique, pipe):
                    return;
                default:
                    int bodyLength = Dispatch(opcode, nodeId, body, output);
                    Reply(output, unique, bodyLength);
                    return;
            }
        }
        catch (Exception e)
        {
            int errno = ErrnoOf(e);
            if (errno == Errno.EIO) _options.Log?.Invoke($"{opcode} on node {nodeId}: {e.Message}");
            Reply(output, unique, 0, errno);
        }
    }

    /// <summary>Serves one request; returns the reply body's length (written at <see cref="FuseConstants.OutHeaderSize"/>).</summary>
    private int Dispatch(FuseOpcode opcode, ulong nodeId, ReadOnlySpan<byte> body, byte[] output)
    {
        var o = output.AsSpan(FuseConstants.OutHeaderSize);
        switch (opcode)
        {
            case FuseOpcode.Lookup: return Lookup(Node(nodeId), Name(body), o);
            case FuseOpcode.GetAttr: return GetAttr(Node(nodeId), o);
            case FuseOpcode.ReadLink: return ReadLink(Node(nodeId), o);
            case FuseOpcode.Open: return Open(Node(nodeId), Read32(body, 0), o);
            case FuseOpcode.Read: return ReadFile(body, o);
            case FuseOpcode.Release:
            case FuseOpcode.ReleaseDir:
                if (_handles.TryRemove(Read64(body, 0), out var h)) (h as IDisposable)?.Dispose();
                return 0;
            case FuseOpcode.OpenDir: return OpenDir(Node(nodeId), o);
            case FuseOpcode.ReadDir: return ReadDir(body, o, plus: false);
            case FuseOpcode.ReadDirPlus: return ReadDir(body, o, plus: true);
            case FuseOpcode.StatFs: return StatFs(o);
            case FuseOpcode.Access: return 0; // default_permissions: the kernel checks modes itself
            case FuseOpcode.GetXAttr: throw new FuseErrorException(Errno.ENODATA);
            case FuseOpcode.ListXAttr:
                if (Read32(body, 0) == 0)
                {
                    BinaryPrimitives.WriteUInt64LittleEndian(o, 0); // fuse_getxattr_out: no names
                    return 8;
                }
                return 0;
            case FuseOpcode.SetXAttr:
            case FuseOpcode.RemoveXAttr:
                throw new FuseErrorException(Errno.EOPNOTSUPP);
            case FuseOpcode.Flush:
            case FuseOpcode.Fsync:
                if (_view.Writable) GetHandle<IFuseFile>(Read64(body, 0)).Flush();
                return 0;
            case FuseOpcode.FsyncDir:
                _view.Flush();
                return 0;
            case FuseOpcode.Write: return WriteFile(body, o);
            case FuseOpcode.SetAttr: return SetAttr(Node(nodeId), body, o);
            case FuseOpcode.Create: return Create(Node(nodeId), body, o);
            case FuseOpcode.MkNod: return MkNod(Node(nodeId), body, o);
            case FuseOpcode.MkDir: return MkDir(Node(nodeId), body, o);
            case FuseOpcode.Unlink: return Remove(Node(nodeId), Name(body), directory: false);
            case FuseOpcode.RmDir: return Remove(Node(nodeId), Name(body), directory: true);
            case FuseOpcode.Rename: return Rename(Node(nodeId), Read64(body, 0), 0, body[8..]);
            case FuseOpcode.Rename2: return Rename(Node(nodeId), Read64(body, 0), Read32(body, 8), body[16..]);
            case FuseOpcode.Symlink:
            case FuseOpcode.Link:
                throw new FuseErrorException(_view.Writable ? Errno.EPERM : Errno.EROFS);
            default:
                throw new FuseErrorException(Errno.ENOSYS);
        }
    }

    private void Init(ReadOnlySpan<byte> body, byte[] output, ulong unique)
    {
        uint major = Read32(body, 0), minor = Read32(body, 4), readahead = Read32(body, 8), flags = Read32(body, 12);
        var o = output.AsSpan(FuseConstants.OutHeaderSize, FuseConstants.InitOutSize);
        o.Clear();
        if (major != FuseConstants.KernelVersion)
        {
            // A newer kernel major: answer with ours and wait for an INIT we speak; an older one cannot be served.
            BinaryPrimitives.WriteUInt32LittleEndian(o, FuseConstants.KernelVersion);
            if (major > FuseConstants.KernelVersion) Reply(output, unique, 8);
            else Reply(output, unique, 0, Errno.EPROTO);
            return;
        }
        _maxWrite = (uint)_options.MaxIo;
        BinaryPrimitives.WriteUInt32LittleEndian(o, FuseConstants.KernelVersion);
        BinaryPrimitives.WriteUInt32LittleEndian(o[4..], Math.Min(minor, FuseConstants.KernelMinorVersion));
        BinaryPrimitives.WriteUInt32LittleEndian(o[8..], readahead);
        uint served = ServedFlags | (_view.Writable ? 0 : FuseConstants.CacheSymlinks) | (_options.Splice ? SpliceFlags : 0)
            | (_options.DirectIo ? FuseConstants.AsyncDio : 0);
        BinaryPrimitives.WriteUInt32LittleEndian(o[12..], flags & served);
        BinaryPrimitives.WriteUInt16LittleEndian(o[16..], 16); // max_background
        BinaryPrimitives.WriteUInt16LittleEndian(o[18..], 12); // congestion_threshold
        BinaryPrimitives.WriteUInt32LittleEndian(o[20..], _maxWrite);
        BinaryPrimitives.WriteUInt32LittleEndian(o[24..], 1); // time_gran: nanoseconds
        BinaryPrimitives.WriteUInt16LittleEndian(o[28..], (ushort)MaxPages); // max_pages
        Reply(output, unique, FuseConstants.InitOutSize);
        _initDone.Set();
    }

    private void BatchForget(ReadOnlySpan<byte> body)
    {
        uint count = Read32(body, 0);
        var items = body[8..];
        for (uint i = 0; i < count && (i + 1) * 16 <= items.Length; i++)
            _nodes.Forget(Read64(items, (int)i * 16), Read64(items, (int)i * 16 + 8));
    }

    private int Lookup(FuseNode parent, string name, Span<byte> o)
    {
        string parentPath = PathOf(parent);
        var dir = Current(parent, parentPath);
        if (!dir.IsDirectory) throw new FuseErrorException(Errno.ENOTDIR);
        if (!FuseWire.IsShowable(name)) throw new FuseErrorException(Errno.ENOENT);
        var entry = _view.Lookup(dir, parentPath, name) ?? throw new FuseErrorException(Errno.ENOENT);
        return EntryReply(FileSystemView.Join(parentPath, entry.Name), entry, o);
    }

    /// <summary>Registers a lookup of <paramref name="path"/> and writes the fuse_entry_out.</summary>
    private int EntryReply(string path, FileSystemEntry entry, Span<byte> o)
    {
        var node = _nodes.AddLookup(path, entry);
        FuseWire.WriteEntryOut(o, node.Id, entry, _view.CacheTimeout, _uid, _gid);
        return FuseConstants.EntryOutSize;
    }

    private int GetAttr(FuseNode node, Span<byte> o)
    {
        var entry = node.Path is { } p ? Current(node, p) : node.Entry;
        FuseWire.WriteAttrOut(o, node.Id, entry, _view.CacheTimeout, _uid, _gid);
        return FuseConstants.AttrOutSize;
    }

    private int ReadLink(FuseNode node, Span<byte> o)
    {
        var entry = node.Entry;
        if (entry.Kind != FileSystemEntryKind.Symlink || entry.SymlinkTarget is null) throw new FuseErrorException(Errno.EINVAL);
        int n = Encoding.UTF8.GetByteCount(entry.SymlinkTarget);
        if (n > o.Length) throw new FuseErrorException(Errno.ENAMETOOLONG);
        return Encoding.UTF8.GetBytes(entry.SymlinkTarget, o);
    }

    private int Open(FuseNode node, uint flags, Span<byte> o)
    {
        var entry = node.Path is { } p ? Current(node, p) : node.Entry;
        if (entry.IsDirectory) throw new FuseErrorException(Errno.EISDIR);
        if (entry.Kind != FileSystemEntryKind.File) throw new FuseErrorException(Errno.EACCES);
        bool write = (flags & FuseConstants.OAccMode) != FuseConstants.OReadOnly;
        string last = node.Path ?? "/";
        var file = _view.Open(entry, () => node.Path ?? last, write);
        ulong fh = AddHandle(file);
        BinaryPrimitives.WriteUInt64LittleEndian(o, fh);
        uint openFlags = _options.DirectIo && !_view.Writable ? FuseConstants.FopenDirectIo : _view.KeepCache ? FuseConstants.FopenKeepCache : 0;
        BinaryPrimitives.WriteUInt32LittleEndian(o[8..], openFlags);
        BinaryPrimitives.WriteUInt32LittleEndian(o[12..], 0);
        return FuseConstants.OpenOutSize;
    }

    private int ReadFile(ReadOnlySpan<byte> body, Span<byte> o)
    {
        var file = GetHandle<IFuseFile>(Read64(body, 0));
        long offset = (long)Math.Min(Read64(body, 8), long.MaxValue);
        int size = (int)Math.Min(Read32(body, 16), (uint)o.Length);
        return file.Read(offset, o[..size]);
    }

    private int OpenDir(FuseNode node, Span<byte> o)
    {
        string path = PathOf(node);
        var dir = Current(node, path);
        if (!dir.IsDirectory) throw new FuseErrorException(Errno.ENOTDIR);
        var entries = _view.List(dir, path).Where(e => FuseWire.IsShowable(e.Name)).ToList();
        ulong fh = AddHandle(new DirHandle(node, path, entries));
        BinaryPrimitives.WriteUInt64LittleEndian(o, fh);
        BinaryPrimitives.WriteUInt64LittleEndian(o[8..], 0);
        return FuseConstants.OpenOutSize;
    }

    private int ReadDir(ReadOnlySpan<byte> body, Span<byte> o, bool plus)
    {
        var dir = GetHandle<DirHandle>(Read64(body, 0));
        ulong offset = Read64(body, 8);
        int size = (int)Math.Min(Read32(body, 16), (uint)o.Length);
        var outSpan = o[..size];
        int used = 0;
        ulong total = (ulong)dir.Entries.Count + 2;
        for (ulong i = offset; i < total; i++)
        {
            FileSystemEntry? entry = i >= 2 ? dir.Entries[(int)(i - 2)] : null;
            string name = i == 0 ? "." : i == 1 ? ".." : entry!.Name;
            byte[] nameBytes = Encoding.UTF8.GetBytes(name);
            uint type = entry is null ? FuseConstants.SIfDir >> 12 : FuseWire.DirentType(entry);
            int need = (plus ? FuseConstants.EntryOutSize : 0) + FuseWire.Align8(FuseConstants.DirentHeaderSize + nameBytes.Length);
            if (used + need > outSpan.Length) break;
            var slot = outSpan[used..];
            ulong ino;
            if (entry is null)
            {
                ino = i == 0 ? dir.Node.Id : ParentId(dir.Path);
                if (plus) slot[..FuseConstants.EntryOutSize].Clear(); // node id 0: the kernel skips "." and ".."
            }
            else if (plus)
            {
                var node = _nodes.AddLookup(FileSystemView.Join(dir.Path, entry.Name), entry);
                FuseWire.WriteEntryOut(slot, node.Id, entry, _view.CacheTimeout, _uid, _gid);
                ino = node.Id;
            }
            else
            {
                // d_ino: the node id when the kernel knows the entry, else a number no node id reaches.
                ino = _nodes.Find(FileSystemView.Join(dir.Path, entry.Name))?.Id ?? (1UL << 63) | i;
            }
            used += plus ? FuseConstants.EntryOutSize : 0;
            used += FuseWire.WriteDirent(outSpan[used..], ino, i + 1, type, nameBytes);
        }
        return used;
    }

    private ulong ParentId(string path)
    {
        if (path == "/") return FuseConstants.RootId;
        int slash = path.LastIndexOf('/');
        return _nodes.Find(slash <= 0 ? "/" : path[..slash])?.Id ?? FuseConstants.RootId;
    }

    private int StatFs(Span<byte> o)
    {
        var (total, free, bs) = _view.Space;
        o[..FuseConstants.StatFsOutSize].Clear();
        BinaryPrimitives.WriteInt64LittleEndian(o, total / bs);
        BinaryPrimitives.WriteInt64LittleEndian(o[8..], free / bs);
        BinaryPrimitives.WriteInt64LittleEndian(o[16..], free / bs);
        BinaryPrimitives.WriteInt64LittleEndian(o[24..], _nodes.Count);
        BinaryPrimitives.WriteInt64LittleEndian(o[32..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(o[40..], (uint)bs);
        BinaryPrimitives.WriteUInt32LittleEndian(o[44..], 255);
        BinaryPrimitives.WriteUInt32LittleEndian(o[48..], (uint)bs);
        return FuseConstants.StatFsOutSize;
    }

    private FuseNode Node(ulong id) => _nodes.Get(id) ?? throw new FuseErrorException(Errno.ENOENT);

    private static string PathOf(FuseNode node) => node.Path ?? throw new FuseErrorException(Errno.ENOENT);

    /// <summary>The node's entry as it is now (writable views look it up again); updates the node.</summary>
    private FileSystemEntry Current(FuseNode node, string path)
    {
        var entry = _view.Refresh(node.Entry, path) ?? throw new FuseErrorException(Errno.ENOENT);
        node.Entry = entry;
        return entry;
    }

    private static string Name(ReadOnlySpan<byte> body)
    {
        int nul = body.IndexOf((byte)0);
        return Encoding.UTF8.GetString(nul < 0 ? body : body[..nul]);
    }

    private static uint Read32(ReadOnlySpan<byte> s, int at)
        => at + 4 <= s.Length ? BinaryPrimitives.ReadUInt32LittleEndian(s[at..]) : throw new FuseErrorException(Errno.EINVAL);

    private static ulong Read64(ReadOnlySpan<byte> s, int at)
        => at + 8 <= s.Length ? BinaryPrimitives.ReadUInt64LittleEndian(s[at..]) : throw new FuseErrorException(Errno.EINVAL);

    private static int ErrnoOf(Exception e) => e switch
    {
        FuseErrorException f => f.Errno,
        DiskFullException => Errno.ENOSPC,
        BadArgumentException => Errno.EINVAL,
        UnsupportedFeatureException => Errno.EOPNOTSUPP,
        ArgumentException => Errno.EINVAL,
        NotSupportedException => Errno.EOPNOTSUPP,
        UnauthorizedAccessException => Errno.EACCES,
        OutOfMemoryException => Errno.ENOMEM,
        _ => Errno.EIO,
    };
}
