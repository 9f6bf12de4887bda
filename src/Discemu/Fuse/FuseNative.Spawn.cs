using System.Runtime.InteropServices;

namespace Discemu.Fuse;

/// <summary>
/// The libc calls for mounting through fusermount3: a socket pair, posix_spawnp with file actions (so exactly one
/// descriptor reaches the child, at a chosen number), recvmsg with SCM_RIGHTS, waitpid. Linux (glibc, musl) only.
/// </summary>
internal static unsafe partial class FuseNative
{
    public const int AfUnix = 1;
    public const int SockStream = 1;
    public const int SockCloExec = 0x80000;
    public const int SolSocket = 1;
    public const int ScmRights = 1;
    public const int MsgCmsgCloExec = 0x40000000;
    public const int SigPipe = 13;
    private const short PosixSpawnSetSigDef = 0x04;
    private const short PosixSpawnSetSigMask = 0x08;
    private const short PosixSpawnSetSid = 0x80;
    private const int ORdOnly = 0, OWrOnly = 1;

    /// <summary>Bytes reserved for the opaque posix_spawn types (glibc: file actions 80, attributes 336, sigset_t 128).</summary>
    private const int FileActionsWords = 64;
    private const int SpawnAttrWords = 128;
    private const int SigSetWords = 16;

    /// <summary>struct iovec.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct IoVec
    {
        public void* Base;
        public nuint Length;
    }

    /// <summary>struct msghdr (the kernel's layout, which glibc uses; musl's pads the narrower fields, left zero).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct MsgHdr
    {
        public void* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    /// <summary>struct pollfd.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    /// <summary>POLLIN.</summary>
    public const short PollIn = 1;

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    public static partial int Poll(PollFd* fds, nuint count, int timeoutMs);

    /// <summary>The size of struct cmsghdr (length, level, type), aligned to size_t.</summary>
    public static int CmsgHeaderSize => CmsgAlign(IntPtr.Size + 8);

    /// <summary>CMSG_ALIGN: rounds up to a multiple of size_t.</summary>
    public static int CmsgAlign(int length) => (length + IntPtr.Size - 1) & ~(IntPtr.Size - 1);

    [LibraryImport("libc", EntryPoint = "socketpair", SetLastError = true)]
    public static partial int SocketPair(int domain, int type, int protocol, int* fds);

    [LibraryImport("libc", EntryPoint = "pipe2", SetLastError = true)]
    public static partial int Pipe2(int* fds, int flags);

    [LibraryImport("libc", EntryPoint = "recvmsg", SetLastError = true)]
    public static partial nint RecvMsg(int fd, MsgHdr* message, int flags);

    [LibraryImport("libc", EntryPoint = "waitpid", SetLastError = true)]
    public static partial int WaitPid(int pid, int* status, int options);

    [LibraryImport("libc", EntryPoint = "posix_spawnp")]
    private static partial int PosixSpawnp(int* pid, byte* file, void* fileActions, void* attributes, byte** argv, byte** envp);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_init")]
    private static partial int FileActionsInit(void* fileActions);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_adddup2")]
    private static partial int FileActionsAddDup2(void* fileActions, int fd, int newFd);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_addopen", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int FileActionsAddOpen(void* fileActions, int fd, string path, int flags, uint mode);

    [LibraryImport("libc", EntryPoint = "dup2", SetLastError = true)]
    public static partial int Dup2(int fd, int newFd);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_destroy")]
    private static partial int FileActionsDestroy(void* fileActions);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_init")]
    private static partial int SpawnAttrInit(void* attributes);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setflags")]
    private static partial int SpawnAttrSetFlags(void* attributes, short flags);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setsigmask")]
    private static partial int SpawnAttrSetSigMask(void* attributes, void* mask);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setsigdefault")]
    private static partial int SpawnAttrSetSigDefault(void* attributes, void* signals);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_destroy")]
    private static partial int SpawnAttrDestroy(void* attributes);

    [LibraryImport("libc", EntryPoint = "sigemptyset")]
    private static partial int SigEmptySet(void* set);

    [LibraryImport("libc", EntryPoint = "sigaddset")]
    private static partial int SigAddSet(void* set, int signal);

    /// <summary>
    /// Starts <paramref name="file"/> (searched in PATH) with <paramref name="argv"/> and <paramref name="environment"/>
    /// ("NAME=value"), an empty signal mask and SIGPIPE back to its default action; in the child each
    /// <c>From</c> descriptor of <paramref name="dups"/> is duplicated onto <c>To</c> (so it survives exec even when
    /// the original is close-on-exec), in order. With <paramref name="detach"/> the child starts a new session
    /// (setsid: no controlling terminal) and reads its standard input from /dev/null; with <paramref name="nullStdio"/>
    /// its standard input and output are /dev/null (a child that outlives a command must not hold the command's
    /// output open). Returns 0 and the pid, or the error number posix_spawnp returned.
    /// </summary>
    public static int Spawn(string file, IReadOnlyList<string> argv, IReadOnlyList<string> environment, ReadOnlySpan<(int From, int To)> dups, out int pid,
        bool detach = false, bool nullStdio = false)
    {
        ulong* fileActions = stackalloc ulong[FileActionsWords];
        ulong* attributes = stackalloc ulong[SpawnAttrWords];
        ulong* mask = stackalloc ulong[SigSetWords];
        ulong* defaults = stackalloc ulong[SigSetWords];
        var strings = new List<nint>(argv.Count + environment.Count + 1);
        byte** args = null;
        byte** env = null;
        bool actionsReady = false, attributesReady = false;
        try
        {
            int rc = FileActionsInit(fileActions);
            if (rc != 0) return Fail(rc, out pid);
            actionsReady = true;
            foreach (var (from, to) in dups)
            {
                rc = FileActionsAddDup2(fileActions, from, to);
                if (rc != 0) return Fail(rc, out pid);
            }
            if ((detach || nullStdio) && (rc = FileActionsAddOpen(fileActions, 0, "/dev/null", ORdOnly, 0)) != 0) return Fail(rc, out pid);
            if (nullStdio && (rc = FileActionsAddOpen(fileActions, 1, "/dev/null", OWrOnly, 0)) != 0) return Fail(rc, out pid);
            rc = SpawnAttrInit(attributes);
            if (rc != 0) return Fail(rc, out pid);
            attributesReady = true;
            SigEmptySet(mask);
            SigEmptySet(defaults);
            SigAddSet(defaults, SigPipe); // .NET ignores SIGPIPE, and an ignored signal stays ignored across exec
            rc = SpawnAttrSetSigMask(attributes, mask);
            if (rc == 0) rc = SpawnAttrSetSigDefault(attributes, defaults);
            if (rc == 0) rc = SpawnAttrSetFlags(attributes, (short)(PosixSpawnSetSigMask | PosixSpawnSetSigDef | (detach ? PosixSpawnSetSid : 0)));
            if (rc != 0) return Fail(rc, out pid);

            args = ToNative(argv, strings);
            env = ToNative(environment, strings);
            nint path = Marshal.StringToCoTaskMemUTF8(file);
            strings.Add(path);
            int child;
            rc = PosixSpawnp(&child, (byte*)path, fileActions, attributes, args, env);
            pid = rc == 0 ? child : -1;
            return rc;
        }
        finally
        {
            if (actionsReady) FileActionsDestroy(fileActions);
            if (attributesReady) SpawnAttrDestroy(attributes);
            foreach (var s in strings) Marshal.FreeCoTaskMem(s);
            NativeMemory.Free(args);
            NativeMemory.Free(env);
        }
    }

    private static int Fail(int rc, out int pid)
    {
        pid = -1;
        return rc;
    }

    /// <summary>A NULL-terminated array of UTF-8 strings; the strings are added to <paramref name="owned"/> for freeing.</summary>
    private static byte** ToNative(IReadOnlyList<string> values, List<nint> owned)
    {
        var array = (byte**)NativeMemory.Alloc((nuint)(values.Count + 1), (nuint)sizeof(nint));
        for (int i = 0; i < values.Count; i++)
        {
            nint s = Marshal.StringToCoTaskMemUTF8(values[i]);
            owned.Add(s);
            array[i] = (byte*)s;
        }
        array[values.Count] = null;
        return array;
    }

    private const int WNoHang = 1;

    /// <summary>
    /// Waits at most <paramref name="timeout"/> for child <paramref name="pid"/>: its exit code, 128+signal when
    /// killed, -1 when it was already reaped elsewhere, null when it is still running (left to run, unreaped).
    /// </summary>
    public static int? WaitExit(int pid, TimeSpan timeout)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        int status;
        while (true)
        {
            int r = WaitPid(pid, &status, WNoHang);
            if (r == pid) return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f);
            if (r < 0 && LastErrno != Errno.EINTR) return -1;
            if (sw.Elapsed >= timeout) return null;
            Thread.Sleep(10);
        }
    }

    /// <summary>Waits for child <paramref name="pid"/>; its exit code, 128+signal when killed, or -1 when it was already reaped elsewhere.</summary>
    public static int WaitExit(int pid)
    {
        int status;
        while (WaitPid(pid, &status, 0) < 0)
        {
            if (LastErrno != Errno.EINTR) return -1;
        }
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f);
    }
}
