namespace Discemu.Fuse;

/// <summary>Request opcodes of the kernel protocol (include/uapi/linux/fuse.h, enum fuse_opcode).</summary>
internal enum FuseOpcode : uint
{
    Lookup = 1,
    Forget = 2,
    GetAttr = 3,
    SetAttr = 4,
    ReadLink = 5,
    Symlink = 6,
    MkNod = 8,
    MkDir = 9,
    Unlink = 10,
    RmDir = 11,
    Rename = 12,
    Link = 13,
    Open = 14,
    Read = 15,
    Write = 16,
    StatFs = 17,
    Release = 18,
    Fsync = 20,
    SetXAttr = 21,
    GetXAttr = 22,
    ListXAttr = 23,
    RemoveXAttr = 24,
    Flush = 25,
    Init = 26,
    OpenDir = 27,
    ReadDir = 28,
    ReleaseDir = 29,
    FsyncDir = 30,
    Access = 34,
    Create = 35,
    Interrupt = 36,
    Destroy = 38,
    BatchForget = 42,
    ReadDirPlus = 44,
    Rename2 = 45,
}

/// <summary>Protocol numbers: version, INIT flags, sizes, attribute masks, errno values.</summary>
internal static class FuseConstants
{
    /// <summary>The major protocol version spoken.</summary>
    public const uint KernelVersion = 7;

    /// <summary>The highest minor version spoken (7.31: max_pages in init_out, 64-byte init_out).</summary>
    public const uint KernelMinorVersion = 31;

    /// <summary>The root directory's node id.</summary>
    public const ulong RootId = 1;

    // INIT flags (fuse_init_in.flags / fuse_init_out.flags).
    public const uint AsyncRead = 1u << 0;
    public const uint BigWrites = 1u << 5;
    public const uint SpliceWrite = 1u << 7;
    public const uint SpliceMove = 1u << 8;
    public const uint AsyncDio = 1u << 15;
    public const uint DoReaddirplus = 1u << 13;
    public const uint ReaddirplusAuto = 1u << 14;
    public const uint ParallelDirops = 1u << 18;
    public const uint MaxPagesFlag = 1u << 22;
    public const uint CacheSymlinks = 1u << 23;

    // fuse_setattr_in.valid bits.
    public const uint FattrMode = 1u << 0;
    public const uint FattrUid = 1u << 1;
    public const uint FattrGid = 1u << 2;
    public const uint FattrSize = 1u << 3;
    public const uint FattrAtime = 1u << 4;
    public const uint FattrMtime = 1u << 5;
    public const uint FattrAtimeNow = 1u << 7;
    public const uint FattrMtimeNow = 1u << 8;

    // fuse_open_out.open_flags.
    public const uint FopenDirectIo = 1u << 0;
    public const uint FopenKeepCache = 1u << 1;

    // RENAME2 flags (renameat2).
    public const uint RenameNoReplace = 1u << 0;
    public const uint RenameExchange = 1u << 1;

    // Structure sizes (64-bit padded, as the header defines them).
    public const int InHeaderSize = 40;
    public const int OutHeaderSize = 16;
    public const int AttrSize = 88;
    public const int EntryOutSize = 40 + AttrSize;
    public const int AttrOutSize = 16 + AttrSize;
    public const int OpenOutSize = 16;
    public const int InitOutSize = 64;
    public const int StatFsOutSize = 80;
    public const int WriteInSize = 40;
    public const int DirentHeaderSize = 24;
    public const int MinReadBuffer = 8192;

    // open(2) flags.
    public const int OAccMode = 3;
    public const int OReadOnly = 0;

    // File type bits of st_mode.
    public const uint SIfMt = 0xF000;
    public const uint SIfDir = 0x4000;
    public const uint SIfReg = 0x8000;
    public const uint SIfLnk = 0xA000;
}

/// <summary>The errno values replies carry (Linux numbering).</summary>
internal static class Errno
{
    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int EINTR = 4;
    public const int EIO = 5;
    public const int EBADF = 9;
    public const int EAGAIN = 11;
    public const int ENOMEM = 12;
    public const int EACCES = 13;
    public const int EBUSY = 16;
    public const int EEXIST = 17;
    public const int ENODEV = 19;
    public const int ENOTDIR = 20;
    public const int EISDIR = 21;
    public const int EINVAL = 22;
    public const int EFBIG = 27;
    public const int ENOSPC = 28;
    public const int EROFS = 30;
    public const int ENAMETOOLONG = 36;
    public const int ENOSYS = 38;
    public const int ENOTEMPTY = 39;
    public const int ENODATA = 61;
    public const int EPROTO = 71;
    public const int EOPNOTSUPP = 95;
}

/// <summary>An operation failed with an errno the reply carries.</summary>
internal sealed class FuseErrorException(int errno, string? message = null) : Exception(message ?? $"errno {errno}")
{
    /// <summary>The positive errno.</summary>
    public int Errno { get; } = errno;
}
