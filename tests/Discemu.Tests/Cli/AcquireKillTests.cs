using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Discemu.Acquisition;
using Discemu.Tests.Acquisition;
using Discemu.Tests.Infrastructure;
using static Discemu.Tests.Acquisition.AcquisitionTestKit;

namespace Discemu.Tests.Cli;

/// <summary>
/// A real <c>discemu acquire</c> process reading a slow failing source (nbdkit ddrescue + delay + log filters
/// behind nbdfuse) is killed with SIGKILL at several points; running the same command again resumes from the
/// mapfile on disk without any read (in nbdkit's request log) touching an area that mapfile marks finished,
/// and the last run produces the exact image, bad-sector list and hashes.
/// </summary>
public sealed class AcquireKillTests
{
    private const long Size = 6 << 20;

    private static readonly (long Offset, long Length)[] Bad = [(0x100000, 0x1000), (0x300200, 0x10000), (Size - 0x200, 0x200)];

    [Theory]
    [InlineData("raw")]
    [InlineData("qcow2")]
    public void KilledRunsResumeWithoutRereadingFinishedAreas(string format)
    {
        if (format == "qcow2") PeerTools.Require("qemu-img");
        using var dir = new TempDir();
        string content = dir.File("disk.img");
        var bytes = new byte[Size];
        new Random(31).NextBytes(bytes);
        File.WriteAllBytes(content, bytes);
        using var source = FaultyFuseSource.Start(dir, content, Bad, delayMs: 3, log: true);
        string dest = dir.File("evidence." + format), map = dest + ".map";

        var killAfter = new[] { TimeSpan.FromMilliseconds(150), TimeSpan.FromMilliseconds(700), TimeSpan.FromMilliseconds(1500) };
        RescueMap? onDisk = null;
        int interrupted = 0;
        var notes = new List<string>();
        for (int run = 0; run <= killAfter.Length; run++)
        {
            long mark = source.LogMark();
            bool kill = run < killAfter.Length;
            var (killed, exit, stderr) = RunAcquire(source.Path, dest, map, format, kill ? killAfter[run] : null);
            if (killed && format == "qcow2" && File.Exists(dest))
            {
                // A killed run may leak clusters, never corrupt the image.
                var (code, output, error) = PeerTools.Run("qemu-img", ["check", "-f", "qcow2", dest]);
                Assert.True(code is 0 or 3, $"qemu-img check after kill {run} exited {code}: {output}{error}");
            }
            var reads = source.ReadsSince(mark);
            if (onDisk is not null) AssertNoFinishedAreaRead(onDisk, reads.Select(r => (r.Offset, (int)r.Length, true)), $"run {run}");
            if (!kill) Assert.True(exit == 0, $"the last run failed with {exit}: {stderr}");
            else if (!killed) Assert.True(exit == 0, $"run {run} failed with {exit}: {stderr}");
            if (!File.Exists(map))
            {
                notes.Add($"run {run}: killed before the first mapfile save");
                continue;
            }
            var state = Mapfile.Load(map);
            if (killed && state.Phase != RescuePhase.Finished) interrupted++;
            notes.Add($"run {run}: {(killed ? "killed" : "finished")} in {state.Phase} pass {state.Pass}, {state.Map.TotalOf(RescueBlockStatus.Finished)} bytes finished, {reads.Count} reads");
            onDisk = state.Map;
        }
        TestContext.Current.TestOutputHelper?.WriteLine(string.Join(Environment.NewLine, notes));
        Assert.True(interrupted >= 2, $"only {interrupted} kills interrupted the rescue: {string.Join("; ", notes)}");

        foreach (var (o, l) in Bad) Array.Clear(bytes, (int)o, (int)l);
        using (var image = Discemu.Formats.ImageOpener.Default.Open(dest))
        {
            var read = new byte[image.Length];
            image.Read(0, read);
            Assert.Equal(bytes, read);
        }
        Assert.Equal(Bad.Select(b => (b.Offset, b.Offset + b.Length)), Unfinished(Mapfile.Load(map).Map));
        using var log = JsonDocument.Parse(File.ReadAllText(dest + ".log.json"));
        Assert.Equal(Convert.ToHexStringLower(MD5.HashData(bytes)), log.RootElement.GetProperty("hashes").GetProperty("md5").GetString());
        Assert.True(log.RootElement.GetProperty("resumed").GetBoolean());
    }

    [Fact]
    public void CtrlCStopsCleanlyWithTheMapfileSavedAndTheLogsWritten()
    {
        using var dir = new TempDir();
        string content = dir.File("disk.img");
        var bytes = new byte[Size];
        new Random(32).NextBytes(bytes);
        File.WriteAllBytes(content, bytes);
        using var source = FaultyFuseSource.Start(dir, content, Bad, delayMs: 3);
        string dest = dir.File("interrupted.raw"), map = dest + ".map";
        var (signalled, exit, stderr) = RunAcquire(source.Path, dest, map, "raw", TimeSpan.FromMilliseconds(300), signal: "INT");
        Assert.True(signalled);
        Assert.True(exit == AcquireExitInterrupted, $"exit {exit}: {stderr}");
        Assert.Contains("interrupted", stderr);
        var state = Mapfile.Load(map);
        Assert.NotEqual(RescuePhase.Finished, state.Phase);
        using (var log = JsonDocument.Parse(File.ReadAllText(dest + ".log.json")))
        {
            Assert.Equal("interrupted", log.RootElement.GetProperty("status").GetString());
            Assert.Equal(state.Map.TotalOf(RescueBlockStatus.Finished), log.RootElement.GetProperty("statistics").GetProperty("bytes_recovered").GetInt64());
        }
        var (_, again, stderr2) = RunAcquire(source.Path, dest, map, "raw", null);
        Assert.True(again == 0, stderr2);
        foreach (var (o, l) in Bad) Array.Clear(bytes, (int)o, (int)l);
        Assert.Equal(bytes, File.ReadAllBytes(dest));
    }

    private const int AcquireExitInterrupted = 130;

    /// <summary>
    /// Runs discemu acquire as a child process; with <paramref name="killAfter"/>, sends it <paramref name="signal"/>
    /// (SIGKILL by default) that long after its first mapfile save.
    /// </summary>
    private static (bool Killed, int Exit, string Stderr) RunAcquire(string source, string dest, string map, string format, TimeSpan? killAfter, string signal = "KILL")
    {
        var psi = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "Discemu.Cli.dll"), "acquire", "-q", "-O", format, "--direct", "-r", "1", "--map-interval", "0.05", source, dest })
            psi.ArgumentList.Add(a);
        DateTime before = File.Exists(map) ? File.GetLastWriteTimeUtc(map) : DateTime.MinValue;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = p.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        bool killed = false;
        if (killAfter is { } delay)
        {
            var watch = Stopwatch.StartNew();
            Stopwatch? sinceSave = null;
            while (!p.HasExited && watch.Elapsed < TimeSpan.FromSeconds(120))
            {
                if (sinceSave is null && File.Exists(map) && File.GetLastWriteTimeUtc(map) != before) sinceSave = Stopwatch.StartNew();
                if (sinceSave is not null && sinceSave.Elapsed >= delay)
                {
                    if (signal == "KILL")
                    {
                        try { p.Kill(); } catch (InvalidOperationException) { }
                    }
                    else
                    {
                        using var k = Process.Start(new ProcessStartInfo("kill", ["-" + signal, p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))!;
                        k.WaitForExit();
                    }
                    killed = true;
                    break;
                }
                Thread.Sleep(5);
            }
        }
        if (!p.WaitForExit(120_000))
        {
            p.Kill();
            Assert.Fail("discemu acquire did not finish within 120 s.");
        }
        p.WaitForExit();
        _ = stdout.Result;
        return (killed, p.ExitCode, stderr.Result);
    }
}
