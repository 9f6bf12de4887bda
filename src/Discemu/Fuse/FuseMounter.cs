using System.Collections;
using System.Diagnostics;
using System.Text;

namespace Discemu.Fuse;

/// <summary>
/// Mounting and unmounting for users other than root, through the set-uid helper fusermount3 (package fuse3):
/// <c>fusermount3 -o OPTIONS -- MOUNTPOINT</c> with <c>_FUSE_COMMFD</c> naming one end of a unix socket pair opens
/// /dev/fuse, mounts, sends the descriptor back as SCM_RIGHTS ancillary data on a one-byte message and exits 0;
/// <c>fusermount3 -u [-z] MOUNTPOINT</c> unmounts.
/// </summary>
internal static unsafe class FuseMounter
{
    /// <summary>The helper's name, searched in PATH.</summary>
    public const string Fusermount = "fusermount3";

    /// <summary>The environment variable that names the socket descriptor to fusermount3.</summary>
    private const string CommFdVariable = "_FUSE_COMMFD";

    /// <summary>The line in /etc/fuse.conf that lets users other than root mount with allow_other.</summary>
    private const string UserAllowOther = "user_allow_other";

    /// <summary>The most of fusermount3's standard error kept for a message.</summary>
    private const int MaxErrorBytes = 16 * 1024;

    /// <summary>
    /// Mounts at <paramref name="mountPoint"/> with fusermount3 and returns the /dev/fuse descriptor it hands back
    /// (close-on-exec). The mount is <c>nosuid,nodev</c> (fusermount3 enforces that for users), type
    /// <c>fuse.discemu</c>, source <see cref="FuseMountOptions.Source"/>, with <c>default_permissions</c>, <c>ro</c> for a
    /// read-only view and <c>allow_other</c> when asked.
    /// </summary>
    /// <exception cref="BadArgumentException">allow_other is asked but /etc/fuse.conf does not permit it to users.</exception>
    /// <exception cref="UnsupportedFeatureException">fusermount3 is not installed.</exception>
    /// <exception cref="ImageAccessException">fusermount3 refused or failed.</exception>
    public static (int Fd, Watcher? Watcher) MountWithFusermount(string mountPoint, FuseMountOptions options, bool writable)
    {
        if (options.AllowOther && FuseNative.GetEuid() != 0 && !UserMayAllowOther()) throw new BadArgumentException($"--allow-other needs the line '{UserAllowOther}' in /etc/fuse.conf when not mounting as root.", mountPoint);
        string mountOptions = MountOptions(options.Source, writable, options.AllowOther, options.AutoUnmount);
        int* pair = stackalloc int[2];
        int* errPipe = stackalloc int[2];
        if (FuseNative.SocketPair(FuseNative.AfUnix, FuseNative.SockStream | FuseNative.SockCloExec, 0, pair) != 0) throw CallFailed("socketpair", mountPoint);
        if (FuseNative.Pipe2(errPipe, FuseNative.OCloExec) != 0)
        {
            var e = CallFailed("pipe2", mountPoint);
            FuseNative.Close(pair[0]);
            FuseNative.Close(pair[1]);
            throw e;
        }
        // Both ends are close-on-exec, so no other child of this process inherits them; in fusermount3 the socket's end
        // is duplicated onto a number above all four (dup2 clears close-on-exec), and the pipe becomes its stderr.
        int commFd = Math.Max(Math.Max(pair[0], pair[1]), Math.Max(errPipe[0], errPipe[1])) + 1;
        int rc = FuseNative.Spawn(Fusermount, [Fusermount, "-o", mountOptions, "--", mountPoint], Environment(commFd),
            [(pair[1], commFd), (errPipe[1], 2)], out int pid, nullStdio: true);
        FuseNative.Close(pair[1]);
        FuseNative.Close(errPipe[1]);
        if (rc != 0)
        {
            FuseNative.Close(pair[0]);
            FuseNative.Close(errPipe[0]);
            if (rc == Errno.ENOENT) throw new UnsupportedFeatureException($"Mounting as a user other than root needs {Fusermount} (package fuse3), which is not in PATH.", mountPoint);
            throw new ImageAccessException($"Cannot run {Fusermount}: {FuseNative.Describe(rc)}.", mountPoint);
        }
        int fd;
        try
        {
            fd = ReceiveDescriptor(pair[0]);
        }
        catch
        {
            FuseNative.Close(pair[0]);
            FuseNative.Close(errPipe[0]);
            throw;
        }
        if (fd >= 0 && options.AutoUnmount)
        {
            // Mounted; fusermount3 stays, watching its end of the socket (it keeps the pipe open too: not read to the end).
            FuseNative.Close(errPipe[0]);
            return (fd, new Watcher(pid, pair[0]));
        }
        FuseNative.Close(pair[0]);
        string err = ReadAll(errPipe[0]);
        FuseNative.Close(errPipe[0]);
        int exit = FuseNative.WaitExit(pid);
        if (fd >= 0 && exit is 0 or -1) return (fd, null); // -1: reaped by someone else; the descriptor says it mounted
        if (fd >= 0) FuseNative.Close(fd);
        throw new ImageAccessException(MountFailure(err, exit), mountPoint);
    }

    /// <summary>
    /// Runs <c>fusermount3 -u MOUNTPOINT</c>; when the mount is busy and <paramref name="lazyIfBusy"/>, again with
    /// <c>-z</c> (detach now, finish when the last user is gone), as <c>umount -l</c> does for root.
    /// </summary>
    /// <exception cref="BadArgumentException">Nothing is mounted there (for this user).</exception>
    /// <exception cref="UnsupportedFeatureException">fusermount3 is not installed.</exception>
    /// <exception cref="ImageAccessException">fusermount3 fails.</exception>
    public static void FusermountUnmount(string mountPoint, bool lazyIfBusy)
    {
        var (code, err) = RunUnmount(mountPoint, lazy: false);
        if (code != 0 && lazyIfBusy && err.Contains("busy", StringComparison.OrdinalIgnoreCase)) (code, err) = RunUnmount(mountPoint, lazy: true);
        if (code == 0) return;
        if (err.Contains("not found in /etc/mtab", StringComparison.Ordinal)) throw new BadArgumentException("Not a mount point.", mountPoint);
        throw new ImageAccessException($"{Fusermount} -u failed: {FirstLine(err)}", mountPoint);
    }

    private static (int Code, string Err) RunUnmount(string mountPoint, bool lazy)
    {
        var psi = new ProcessStartInfo(Fusermount) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add("-u");
        if (lazy) psi.ArgumentList.Add("-z");
        psi.ArgumentList.Add("--");
        psi.ArgumentList.Add(mountPoint);
        Process p;
        try
        {
            p = Process.Start(psi) ?? throw new ImageAccessException($"Cannot run {Fusermount}.", mountPoint);
        }
        catch (System.ComponentModel.Win32Exception e) when (e.NativeErrorCode == Errno.ENOENT)
        {
            throw new UnsupportedFeatureException($"Unmounting as a user other than root needs {Fusermount} (package fuse3), which is not in PATH.", mountPoint, e);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new ImageAccessException($"Cannot run {Fusermount}: {e.Message}", mountPoint, e);
        }
        using (p)
        {
            var stdout = p.StandardOutput.ReadToEndAsync();
            string err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            _ = stdout.Result;
            return (p.ExitCode, err);
        }
    }

    /// <summary>
    /// A fusermount3 started with <c>auto_unmount</c>: it unmounts once its end of the socket pair sees this process's
    /// end close, which the kernel does however this process ends.
    /// </summary>
    internal sealed class Watcher(int pid, int socket)
    {
        private int _socket = socket;

        /// <summary>Closes this process's end (after its own unmount) and reaps fusermount3, waiting at most a few seconds.</summary>
        public void Release()
        {
            int s = Interlocked.Exchange(ref _socket, -1);
            if (s < 0) return;
            FuseNative.Close(s);
            FuseNative.WaitExit(pid, TimeSpan.FromSeconds(5));
        }
    }

    /// <summary>The -o list: source, subtype, permissions by the kernel, read-only, allow_other, auto_unmount. Commas and backslashes in the source are escaped.</summary>
    internal static string MountOptions(string source, bool writable, bool allowOther, bool autoUnmount = false)
    {
        var sb = new StringBuilder("fsname=");
        foreach (char c in source)
        {
            if (c is ',' or '\\') sb.Append('\\');
            sb.Append(c);
        }
        sb.Append(",subtype=discemu,default_permissions");
        if (!writable) sb.Append(",ro");
        if (allowOther) sb.Append(",allow_other");
        if (autoUnmount) sb.Append(",auto_unmount");
        return sb.ToString();
    }

    /// <summary>True unless /etc/fuse.conf is readable and lacks a <c>user_allow_other</c> line (when unreadable fusermount3 decides).</summary>
    private static bool UserMayAllowOther()
    {
        try
        {
            return File.ReadLines("/etc/fuse.conf").Any(l => l.Trim() == UserAllowOther);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return true;
        }
    }

    /// <summary>This process's environment with <c>_FUSE_COMMFD</c> set to <paramref name="commFd"/>.</summary>
    private static List<string> Environment(int commFd)
    {
        var list = new List<string>();
        foreach (DictionaryEntry e in System.Environment.GetEnvironmentVariables())
        {
            string name = (string)e.Key;
            if (name != CommFdVariable) list.Add($"{name}={e.Value}");
        }
        list.Add($"{CommFdVariable}={commFd.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        return list;
    }

    /// <summary>Receives one message and the first descriptor of its SCM_RIGHTS data; -1 when the peer closed without sending one.</summary>
    private static int ReceiveDescriptor(int socket)
    {
        byte data;
        var iov = new FuseNative.IoVec { Base = &data, Length = 1 };
        int header = FuseNative.CmsgHeaderSize;
        int space = header + FuseNative.CmsgAlign(sizeof(int)); // room for one descriptor: the kernel closes any more
        ulong* control = stackalloc ulong[(space + 7) / 8];
        var msg = new FuseNative.MsgHdr { Iov = &iov, IovLength = 1, Control = control, ControlLength = (nuint)space };
        nint n;
        while ((n = FuseNative.RecvMsg(socket, &msg, FuseNative.MsgCmsgCloExec)) < 0)
        {
            if (FuseNative.LastErrno != Errno.EINTR) return -1;
        }
        if (n == 0 || msg.ControlLength < (nuint)header) return -1;
        byte* cmsg = (byte*)control;
        ulong length = IntPtr.Size == 8 ? *(ulong*)cmsg : *(uint*)cmsg;
        int level = *(int*)(cmsg + IntPtr.Size);
        int type = *(int*)(cmsg + IntPtr.Size + 4);
        if (level != FuseNative.SolSocket || type != FuseNative.ScmRights || length < (ulong)(header + sizeof(int)) || length > msg.ControlLength) return -1;
        return *(int*)(cmsg + header);
    }

    /// <summary>Reads a pipe to its end, keeping at most <see cref="MaxErrorBytes"/>.</summary>
    private static string ReadAll(int fd)
    {
        var buffer = new byte[MaxErrorBytes];
        int used = 0;
        fixed (byte* p = buffer)
        {
            byte* scratch = stackalloc byte[512];
            while (true)
            {
                nint n = used < buffer.Length ? FuseNative.Read(fd, p + used, buffer.Length - used) : FuseNative.Read(fd, scratch, 512);
                if (n < 0 && FuseNative.LastErrno == Errno.EINTR) continue;
                if (n <= 0) break;
                if (used < buffer.Length) used += (int)n;
            }
        }
        return Encoding.UTF8.GetString(buffer, 0, used);
    }

    private static string MountFailure(string err, int exit)
    {
        string line = FirstLine(err);
        if (line.Length == 0) line = exit >= 0 ? $"exit code {exit}, no descriptor" : "no descriptor";
        string hint = line.Contains("/dev/fuse", StringComparison.Ordinal) && line.Contains("Permission denied", StringComparison.Ordinal)
            ? " (/dev/fuse must be readable and writable by this user, normally mode 0666)"
            : "";
        return $"{Fusermount} could not mount: {line}{hint}";
    }

    /// <summary>The first non-empty line, without the "fusermount3: " prefix.</summary>
    private static string FirstLine(string text)
    {
        string line = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "";
        return line.StartsWith(Fusermount + ": ", StringComparison.Ordinal) ? line[(Fusermount.Length + 2)..] : line;
    }

    private static ImageAccessException CallFailed(string call, string path)
        => new($"{call} failed: {FuseNative.Describe(FuseNative.LastErrno)}.", path);
}
