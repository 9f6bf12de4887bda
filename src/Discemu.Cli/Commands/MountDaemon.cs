using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text;
using Discemu.Fuse;
using Microsoft.Win32.SafeHandles;

namespace Discemu.Cli.Commands;

/// <summary>
/// <c>mount --daemon</c>: starts this same program again (the Native AOT or apphost executable, or <c>dotnet
/// Discemu.Cli.dll</c>) with the same arguments but without <c>--daemon</c>, in a new session with stdin from /dev/null
/// and stdout/stderr on pipes; the parent relays what the child printed and exits 0 once the child's "mounted" line
/// arrives (the mount is then usable), or with the child's exit code and error when it fails. The child, told by
/// <see cref="ChildVariable"/>, points stdin/stdout/stderr at /dev/null after its "mounted" line and serves until
/// unmounted.
/// </summary>
internal static class MountDaemon
{
    /// <summary>Set to 1 in the environment of the background child.</summary>
    private const string ChildVariable = "DISCEMU_MOUNT_DAEMON";

    private const string DaemonOption = "--daemon";

    /// <summary>True in the background child of <c>mount --daemon</c>.</summary>
    public static bool IsChild => Environment.GetEnvironmentVariable(ChildVariable) == "1";

    /// <summary>Starts the background child and waits for it to mount (or fail).</summary>
    /// <exception cref="UnsupportedFeatureException">Not Linux, or the program's own path is unknown.</exception>
    /// <exception cref="ImageAccessException">The child cannot be started.</exception>
    public static unsafe int Start(CliContext ctx, ParseResult parse)
    {
        if (!OperatingSystem.IsLinux()) throw new UnsupportedFeatureException("mount --daemon needs Linux.");
        string exe = Environment.ProcessPath ?? throw new UnsupportedFeatureException("mount --daemon: the program's own path is unknown.");
        var argv = new List<string> { exe };
        if (Path.GetFileNameWithoutExtension(exe) == "dotnet")
        {
            // Run as 'dotnet Discemu.Cli.dll': the child needs the assembly too (AOT and apphost builds are the executable).
            string dll = Path.Combine(AppContext.BaseDirectory, typeof(MountDaemon).Assembly.GetName().Name + ".dll");
            if (!File.Exists(dll)) throw new UnsupportedFeatureException("mount --daemon: the program's own assembly is not found.", dll);
            argv.Add(dll);
        }
        foreach (var token in parse.Tokens)
        {
            if (token.Type == TokenType.Option && token.Value == DaemonOption) continue;
            argv.Add(token.Value);
        }
        var environment = new List<string>();
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
        {
            if ((string)e.Key != ChildVariable) environment.Add($"{e.Key}={e.Value}");
        }
        environment.Add(ChildVariable + "=1");

        int* outPipe = stackalloc int[2];
        int* errPipe = stackalloc int[2];
        if (FuseNative.Pipe2(outPipe, FuseNative.OCloExec) != 0) throw PipeFailed();
        if (FuseNative.Pipe2(errPipe, FuseNative.OCloExec) != 0)
        {
            var e = PipeFailed();
            FuseNative.Close(outPipe[0]);
            FuseNative.Close(outPipe[1]);
            throw e;
        }
        int rc = FuseNative.Spawn(exe, argv, environment, [(outPipe[1], 1), (errPipe[1], 2)], out int pid, detach: true);
        FuseNative.Close(outPipe[1]);
        FuseNative.Close(errPipe[1]);
        using var stdout = new StreamReader(new FileStream(new SafeFileHandle(outPipe[0], ownsHandle: true), FileAccess.Read, 1), Encoding.UTF8);
        using var stderr = new SafeFileHandle(errPipe[0], ownsHandle: true);
        if (rc != 0) throw new ImageAccessException($"mount --daemon: cannot start {exe}: {FuseNative.Describe(rc)}.", exe);

        var output = new StringBuilder();
        bool mounted = false;
        while (stdout.ReadLine() is { } line)
        {
            output.Append(line).Append('\n');
            if (line.StartsWith("mounted ", StringComparison.Ordinal))
            {
                mounted = true;
                break;
            }
        }
        // Whatever the child wrote to stderr before its "mounted" line (a note) is in the pipe already: take what is
        // there without waiting (the child's runtime keeps its own copy of the descriptor, so no end-of-file comes).
        // A child that failed has exited, and its stderr has ended.
        ctx.Err.Write(Drain(stderr, wait: !mounted));
        ctx.Out.Write(output.ToString());
        if (mounted) return 0;
        int exit = FuseNative.WaitExit(pid);
        return exit > 0 ? exit : 1;
    }

    /// <summary>Reads the pipe: to its end when <paramref name="wait"/>, else only what is already there; at most 64 KiB kept.</summary>
    private static unsafe string Drain(SafeFileHandle pipe, bool wait)
    {
        const int Limit = 64 * 1024;
        var buffer = new byte[Limit];
        int used = 0;
        int fd = (int)pipe.DangerousGetHandle();
        fixed (byte* p = buffer)
        {
            while (used < Limit)
            {
                var poll = new FuseNative.PollFd { Fd = fd, Events = FuseNative.PollIn };
                if (!wait && (FuseNative.Poll(&poll, 1, 0) <= 0 || poll.Revents == 0)) break;
                nint n = FuseNative.Read(fd, p + used, Limit - used);
                if (n < 0 && FuseNative.LastErrno == Errno.EINTR) continue;
                if (n <= 0) break;
                used += (int)n;
            }
        }
        return Encoding.UTF8.GetString(buffer, 0, used);
    }

    /// <summary>In the background child, once mounted: stdin, stdout and stderr go to /dev/null, so the parent sees them close and exits.</summary>
    public static void DetachStdio(CliContext ctx)
    {
        ctx.Out.Flush();
        ctx.Err.Flush();
        Environment.SetEnvironmentVariable(ChildVariable, null);
        int fd = FuseNative.Open("/dev/null", FuseNative.ORdWr | FuseNative.OCloExec);
        if (fd < 0) return;
        FuseNative.Dup2(fd, 0);
        FuseNative.Dup2(fd, 1);
        FuseNative.Dup2(fd, 2);
        FuseNative.Close(fd);
    }

    private static ImageAccessException PipeFailed() => new($"mount --daemon: pipe2 failed: {FuseNative.Describe(FuseNative.LastErrno)}.");
}
