using System.Diagnostics;
using System.Globalization;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Fuse;

/// <summary>
/// Runs the discemu command line as an unprivileged user (nobody, 65534, through setpriv) so that it mounts with
/// fusermount3; the tests themselves run as root to switch users and to clean up.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal static class UserMountKit
{
    /// <summary>The unprivileged user and group the CLI runs as.</summary>
    public const int Nobody = 65534;

    private const UnixFileMode OthersReadWrite = UnixFileMode.OtherRead | UnixFileMode.OtherWrite;

    /// <summary>
    /// Skips (fails under CI=true) unless the tests run as root with /dev/fuse, fusermount3 and setpriv are installed,
    /// and /dev/fuse is readable and writable by other users (fusermount3 opens it as the calling user).
    /// </summary>
    public static void Require()
    {
        FuseTestKit.Require();
        PeerTools.Require("fusermount3");
        PeerTools.Require("setpriv");
        if ((File.GetUnixFileMode("/dev/fuse") & OthersReadWrite) != OthersReadWrite)
        {
            const string reason = "/dev/fuse is not readable and writable by other users (udev normally makes it 0666; chmod 0666 /dev/fuse).";
            if (PeerTools.InCi) Assert.Fail(reason);
            Assert.Skip(reason);
        }
    }

    /// <summary>A scratch folder every user can enter (mode 0755) for the images; mount points made in it are 0777.</summary>
    public static TempDir Sandbox()
    {
        var dir = new TempDir();
        File.SetUnixFileMode(dir.PathName, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        return dir;
    }

    /// <summary>An empty directory in <paramref name="dir"/> that the user may mount on.</summary>
    public static string MountPoint(TempDir dir, string name = "mnt")
    {
        string mnt = dir.File(name);
        Directory.CreateDirectory(mnt);
        File.SetUnixFileMode(mnt, (UnixFileMode)0b111_111_111);
        return mnt;
    }

    /// <summary>Hands <paramref name="path"/> to the unprivileged user.</summary>
    public static void GiveToNobody(string path) => PeerTools.RunOk("chown", $"{Nobody}:{Nobody}", path);

    /// <summary>Starts <c>discemu ARGS</c> as nobody and waits for its "mounted" line.</summary>
    public static CliMount StartCli(TempDir dir, string mountPoint, params string[] args)
        => CliMount.Start(CliStartInfo(dir, args), mountPoint, $"discemu {string.Join(' ', args)} as nobody");

    /// <summary>Runs <c>discemu ARGS</c> as nobody to its end.</summary>
    public static (int Code, string Out, string Err) RunCli(TempDir dir, params string[] args) => Run(CliStartInfo(dir, args));

    /// <summary>Runs <c>discemu ARGS</c> as nobody with PATH set to <paramref name="path"/>.</summary>
    public static (int Code, string Out, string Err) RunCliWithPath(TempDir dir, string path, params string[] args)
    {
        var psi = CliStartInfo(dir, args);
        psi.Environment["PATH"] = path;
        return Run(psi);
    }

    /// <summary>Runs <paramref name="script"/> with sh -c as nobody in <paramref name="cwd"/>; fails unless it exits 0; returns stdout.</summary>
    public static string Sh(string cwd, string script)
    {
        var psi = AsNobody("/bin/sh", "/"); // root may not enter the user's mount: the user changes into it
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add($"cd '{cwd}' && {{ {script}\n}}");
        var (code, stdout, stderr) = Run(psi);
        if (code != 0) Assert.Fail($"'{script}' as nobody in {cwd} exited {code}: {stderr}{stdout}");
        return stdout;
    }

    /// <summary>The mountinfo fields of the mount at <paramref name="path"/>: options, file system type, source, super options.</summary>
    public static (string Options, string Type, string Source, string SuperOptions)? MountInfo(string path)
    {
        string full = Path.GetFullPath(path).TrimEnd('/');
        foreach (var line in File.ReadLines("/proc/self/mountinfo"))
        {
            var f = line.Split(' ');
            if (f.Length < 10 || Unescape(f[4]) != full) continue;
            int dash = Array.IndexOf(f, "-", 6);
            if (dash < 0 || dash + 3 >= f.Length) continue;
            return (f[5], f[dash + 1], Unescape(f[dash + 2]), f[dash + 3]);
        }
        return null;
    }

    /// <summary>The processes whose command line names <paramref name="text"/> (a unique mount point), but for the fusermount3 watching a mount.</summary>
    public static List<int> ProcessesNaming(string text)
    {
        var pids = new List<int>();
        foreach (var d in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(d), NumberStyles.None, CultureInfo.InvariantCulture, out int pid) || pid == Environment.ProcessId) continue;
            try
            {
                var args = File.ReadAllText(Path.Join(d, "cmdline")).Split('\0');
                if (args.Contains(text) && Path.GetFileName(args[0]) != "fusermount3" && State(pid) is not ('Z' or 'X' or null)) pids.Add(pid);
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return pids;
    }

    /// <summary>The session id of <paramref name="pid"/> (/proc/PID/stat field 6).</summary>
    public static int SessionOf(int pid) => int.Parse(StatFields(pid)![3], CultureInfo.InvariantCulture);

    /// <summary>Waits until <paramref name="pid"/> has exited (gone, or a zombie nobody reaped yet).</summary>
    public static bool WaitGone(int pid, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        while (State(pid) is not (null or 'Z' or 'X'))
        {
            if (sw.Elapsed > timeout) return false;
            Thread.Sleep(50);
        }
        return true;
    }

    private static char? State(int pid) => StatFields(pid) is { } f ? f[0][0] : null;

    /// <summary>The /proc/PID/stat fields after the command name (state first), or null when the process is gone.</summary>
    private static string[]? StatFields(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (IOException) { return null; }
    }

    private static string Unescape(string field) => field.Replace("\\040", " ").Replace("\\054", ",").Replace("\\134", "\\");

    private static ProcessStartInfo CliStartInfo(TempDir dir, string[] args)
    {
        string host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h ? h : PeerTools.Require("dotnet");
        if (!OthersCanReach(host)) Fail($"the dotnet host {host} is not readable by other users");
        var psi = AsNobody(host, dir.PathName);
        psi.ArgumentList.Add(CliAssembly(dir));
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["HOME"] = dir.PathName;
        return psi;
    }

    /// <summary>Discemu.Cli.dll where nobody can read it: the test output folder, or a copy of its assemblies in <paramref name="dir"/>.</summary>
    private static string CliAssembly(TempDir dir)
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "Discemu.Cli.dll");
        if (OthersCanReach(cli)) return cli;
        string copy = dir.File("cli");
        if (!Directory.Exists(copy))
        {
            Directory.CreateDirectory(copy);
            File.SetUnixFileMode(copy, (UnixFileMode)0b111_101_101);
            foreach (var file in Directory.EnumerateFiles(AppContext.BaseDirectory))
            {
                string name = Path.GetFileName(file);
                if (name.EndsWith(".dll", StringComparison.Ordinal) || name.StartsWith("Discemu.Cli.", StringComparison.Ordinal))
                {
                    File.Copy(file, Path.Combine(copy, name));
                    File.SetUnixFileMode(Path.Combine(copy, name), (UnixFileMode)0b110_100_100);
                }
            }
        }
        return Path.Combine(copy, "Discemu.Cli.dll");
    }

    /// <summary>True when other users can read <paramref name="file"/> (every folder above it searchable).</summary>
    private static bool OthersCanReach(string file)
    {
        string full = Path.GetFullPath(file);
        var info = new FileInfo(full);
        if (info.LinkTarget is not null && info.ResolveLinkTarget(true) is { } target) full = target.FullName;
        if ((File.GetUnixFileMode(full) & UnixFileMode.OtherRead) == 0) return false;
        for (var d = Path.GetDirectoryName(full); d is not null; d = Path.GetDirectoryName(d))
        {
            if ((File.GetUnixFileMode(d) & UnixFileMode.OtherExecute) == 0) return false;
        }
        return true;
    }

    private static void Fail(string reason)
    {
        if (PeerTools.InCi) Assert.Fail(reason);
        Assert.Skip(reason);
    }

    private static ProcessStartInfo AsNobody(string program, string cwd)
    {
        var psi = new ProcessStartInfo(PeerTools.Require("setpriv"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = cwd,
        };
        string id = Nobody.ToString(CultureInfo.InvariantCulture);
        psi.ArgumentList.Add("--reuid=" + id);
        psi.ArgumentList.Add("--regid=" + id);
        psi.ArgumentList.Add("--clear-groups");
        psi.ArgumentList.Add(program);
        psi.Environment["LC_ALL"] = "C";
        psi.Environment["TZ"] = "UTC";
        return psi;
    }

    private static (int Code, string Out, string Err) Run(ProcessStartInfo psi)
    {
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000))
        {
            p.Kill(true);
            Assert.Fail($"{string.Join(' ', psi.ArgumentList)} timed out.");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}
