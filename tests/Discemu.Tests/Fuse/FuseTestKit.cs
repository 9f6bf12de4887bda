using System.Diagnostics;
using System.Runtime.InteropServices;
using Discemu.Fuse;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Fuse;

/// <summary>Real kernel FUSE mounts for the tests: in-process servers, CLI child processes, shell commands through the mount.</summary>
internal static partial class FuseTestKit
{
    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEuid();

    /// <summary>Skips (fails under CI=true) unless /dev/fuse exists and the tests run as root.</summary>
    public static void Require()
    {
        string? problem = !OperatingSystem.IsLinux() ? "FUSE mounts need Linux."
            : !File.Exists("/dev/fuse") ? "/dev/fuse is missing: FUSE cannot run here."
            : GetEuid() != 0 ? "FUSE mount tests need root (mount(2))."
            : null;
        if (problem is null) return;
        if (PeerTools.InCi) Assert.Fail(problem);
        Assert.Skip(problem);
    }

    /// <summary>True when some mount's mount point is <paramref name="path"/> (per /proc/self/mountinfo).</summary>
    public static bool IsMounted(string path)
    {
        string full = Path.GetFullPath(path).TrimEnd('/');
        return File.ReadLines("/proc/self/mountinfo").Any(l => l.Split(' ') is { Length: > 4 } f && f[4].Replace("\\040", " ") == full);
    }

    /// <summary>Mounts <paramref name="view"/> in-process at a fresh folder of <paramref name="dir"/>.</summary>
    public static MountedView Mount(TempDir dir, FuseView view, string name = "mnt", FuseMountOptions? options = null)
    {
        Require();
        string mnt = dir.File(name);
        Directory.CreateDirectory(mnt);
        var server = FuseServer.Mount(view, mnt, options ?? new FuseMountOptions { Source = "discemu-test" });
        return new MountedView(server, view, mnt);
    }

    /// <summary>Runs <paramref name="script"/> with sh -c in <paramref name="cwd"/>; fails unless it exits 0; returns stdout.</summary>
    public static string Sh(string cwd, string script)
    {
        var psi = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = cwd, UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script);
        psi.Environment["LC_ALL"] = "C";
        psi.Environment["TZ"] = "UTC";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000))
        {
            p.Kill(true);
            Assert.Fail($"'{script}' timed out.");
        }
        if (p.ExitCode != 0) Assert.Fail($"'{script}' in {cwd} exited {p.ExitCode}: {stderr.Result}{stdout.Result}");
        return stdout.Result;
    }

    /// <summary>Starts <c>discemu ARGS</c> as a child process and waits for its "mounted" line.</summary>
    public static CliMount StartCli(string mountPoint, params string[] args)
    {
        Require();
        var psi = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Discemu.Cli.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        return CliMount.Start(psi, mountPoint, $"discemu {string.Join(' ', args)}");
    }

    /// <summary>Waits up to 10 s for nothing to be mounted at <paramref name="mountPoint"/>.</summary>
    public static bool WaitUnmounted(string mountPoint)
    {
        var sw = Stopwatch.StartNew();
        while (IsMounted(mountPoint))
        {
            if (sw.Elapsed > TimeSpan.FromSeconds(10)) return false;
            Thread.Sleep(50);
        }
        return true;
    }
}

/// <summary>An in-process mount; disposing unmounts it and checks nothing is left mounted.</summary>
internal sealed class MountedView(FuseServer server, FuseView view, string path) : IDisposable
{
    public FuseServer Server { get; } = server;
    public FuseView View { get; } = view;
    public string Path { get; } = path;

    public void Dispose()
    {
        Server.Dispose();
        Assert.True(Server.Stopped.Wait(TimeSpan.FromSeconds(10)), "the FUSE session did not end after unmount");
        Assert.False(FuseTestKit.IsMounted(Path), $"{Path} is still mounted");
    }
}

/// <summary>A <c>discemu mount</c> child process.</summary>
internal sealed class CliMount(Process process, string mountPoint, Task<string> stderr) : IDisposable
{
    /// <summary>Starts <paramref name="psi"/> (a discemu mount command, <paramref name="what"/> in messages) and waits for its "mounted" line.</summary>
    public static CliMount Start(ProcessStartInfo psi, string mountPoint, string what)
    {
        var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var mount = new CliMount(p, mountPoint, stderr);
        var line = p.StandardOutput.ReadLineAsync();
        if (!line.Wait(TimeSpan.FromSeconds(90)) || line.Result is null || !line.Result.StartsWith("mounted ", StringComparison.Ordinal))
        {
            mount.Dispose();
            Assert.Fail($"{what} did not mount: {(line.IsCompleted ? line.Result : "(no output)")} {(stderr.IsCompleted ? stderr.Result : "")}");
        }
        return mount;
    }

    public Process Process { get; } = process;
    public string MountPoint { get; } = mountPoint;

    /// <summary>Waits for the process to exit; returns its exit code and stderr.</summary>
    public (int Code, string Err) WaitExit()
    {
        if (!Process.WaitForExit(60_000)) Assert.Fail("discemu mount did not exit after unmount");
        return (Process.ExitCode, stderr.Result);
    }

    /// <summary>Sends a signal to the process (kill -SIG PID).</summary>
    public void Signal(string signal) => PeerTools.RunOk("kill", "-" + signal, Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public void Dispose()
    {
        if (FuseTestKit.IsMounted(MountPoint))
        {
            try { FuseServer.UnmountPath(MountPoint, viaFusermount: false, lazyIfBusy: true); }
            catch (DiscemuException) { }
        }
        if (!Process.WaitForExit(30_000)) Process.Kill(true);
        Process.Dispose();
    }
}
