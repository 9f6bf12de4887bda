using System.Diagnostics;

namespace Discemu.Tests.Infrastructure;

/// <summary>
/// Finds and runs the peer tools interop tests compare against (qemu-img, ...). A missing tool
/// fails the test when CI=true (CI must install it) and skips it with a reason otherwise.
/// </summary>
public static class PeerTools
{
    /// <summary>True when running under CI (the environment variable CI is "true").</summary>
    public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>The full path of <paramref name="tool"/>, or fails/skips the test when it is not installed.</summary>
    public static string Require(string tool)
    {
        var path = Find(tool);
        if (path is not null) return path;
        string reason = $"{tool} is not installed (apt-get install the package that provides it).";
        if (InCi) Assert.Fail(reason);
        Assert.Skip(reason);
        return null!;
    }

    /// <summary>The full path of <paramref name="tool"/> on PATH, or null.</summary>
    public static string? Find(string tool)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, tool);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>Runs a tool and returns (exit code, stdout, stderr). Times out after <paramref name="timeoutSeconds"/>.</summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(string tool, IEnumerable<string> args, int timeoutSeconds = 300)
    {
        var psi = new ProcessStartInfo(Require(tool))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutSeconds * 1000))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"{tool} {string.Join(' ', args)} timed out after {timeoutSeconds}s.");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Runs a tool and fails the test unless it exits 0; returns stdout.</summary>
    public static string RunOk(string tool, params string[] args)
    {
        var (code, stdout, stderr) = Run(tool, args);
        if (code != 0) Assert.Fail($"{tool} {string.Join(' ', args)} exited {code}: {stderr}{stdout}");
        return stdout;
    }
}
