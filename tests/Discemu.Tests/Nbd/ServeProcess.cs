using System.Diagnostics;

namespace Discemu.Tests.Nbd;

/// <summary>Runs <c>discemu serve</c> as a child process and reads the URIs it prints.</summary>
internal sealed class ServeProcess : IDisposable
{
    private readonly Process _process;
    private readonly Task<string> _stderr;

    public List<string> Uris { get; } = [];

    /// <summary>Starts the server and waits for <paramref name="uriCount"/> URI lines on stdout.</summary>
    public ServeProcess(int uriCount, params string[] args)
    {
        var psi = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Discemu.Cli.dll"));
        psi.ArgumentList.Add("serve");
        foreach (var a in args) psi.ArgumentList.Add(a);
        _process = Process.Start(psi)!;
        _stderr = _process.StandardError.ReadToEndAsync();
        while (Uris.Count < uriCount)
        {
            var line = _process.StandardOutput.ReadLineAsync();
            if (!line.Wait(TimeSpan.FromSeconds(60)) || line.Result is null)
            {
                Kill();
                Assert.Fail($"discemu serve did not start: {_stderr.Result}");
            }
            Uris.Add(line.Result!);
        }
    }

    public int Pid => _process.Id;

    /// <summary>Sends SIGTERM and returns the exit code and stderr.</summary>
    public (int Exit, string Stderr) Terminate()
    {
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) kill.WaitForExit();
        if (!_process.WaitForExit(60_000))
        {
            Kill();
            Assert.Fail("discemu serve did not stop on SIGTERM.");
        }
        return (_process.ExitCode, _stderr.Result);
    }

    /// <summary>SIGKILL: no chance to flush.</summary>
    public void Kill()
    {
        try { _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        _process.WaitForExit(30_000);
    }

    public void Dispose()
    {
        if (!_process.HasExited) Kill();
        _process.Dispose();
    }
}
