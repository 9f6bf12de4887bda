using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Acquisition;

/// <summary>
/// A real failing "disk" both ddrescue and discemu can read: a file served by nbdkit through its ddrescue
/// filter (every read touching a range the filter's map does not mark finished returns EIO), optionally its
/// delay filter (slow reads) and log filter (every request the tools make, with offset and length), exposed
/// as a file by nbdfuse. Reads with O_DIRECT reach nbdkit exactly as issued. Needs root or FUSE permissions.
/// </summary>
internal sealed partial class FaultyFuseSource : IDisposable
{
    private readonly Process _fuse;
    private readonly string _mount;

    private FaultyFuseSource(Process fuse, string mount, string path, string? log)
    {
        _fuse = fuse;
        _mount = mount;
        Path = path;
        LogPath = log;
    }

    /// <summary>The faulty file.</summary>
    public string Path { get; }

    /// <summary>nbdkit's request log, when asked for.</summary>
    public string? LogPath { get; }

    /// <summary>Skips (or fails under CI) unless nbdkit and nbdfuse are installed; skips when FUSE cannot be used here.</summary>
    public static void Require()
    {
        PeerTools.Require("nbdkit");
        PeerTools.Require("nbdfuse");
        if (!File.Exists("/dev/fuse")) Assert.Skip("/dev/fuse is missing: FUSE cannot run here.");
    }

    /// <summary>
    /// Serves <paramref name="content"/> with <paramref name="bad"/> ranges unreadable (sector-aligned ranges give exact
    /// bad sectors) and, when <paramref name="delayMs"/> is positive, every read delayed.
    /// </summary>
    public static FaultyFuseSource Start(TempDir dir, string content, IReadOnlyList<(long Offset, long Length)> bad, int delayMs = 0, bool log = false)
    {
        Require();
        long size = new FileInfo(content).Length;
        string errorMap = dir.File("errors.map");
        File.WriteAllText(errorMap, ErrorMap(size, bad));
        string mount = dir.File("mnt-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(mount);
        string pidFile = dir.File("nbdfuse.pid");
        string? logFile = log ? dir.File("nbdkit.log") : null;
        var psi = new ProcessStartInfo(PeerTools.Require("nbdfuse")) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "-r", "-P", pidFile, mount + "/faulty", "--command", "nbdkit", "-s", "--exit-with-parent" }) psi.ArgumentList.Add(a);
        if (log) psi.ArgumentList.Add("--filter=log");
        if (delayMs > 0) psi.ArgumentList.Add("--filter=delay");
        psi.ArgumentList.Add("--filter=ddrescue");
        psi.ArgumentList.Add("file");
        psi.ArgumentList.Add(content);
        psi.ArgumentList.Add("ddrescue-mapfile=" + errorMap);
        if (delayMs > 0) psi.ArgumentList.Add($"delay-read={delayMs}ms");
        if (log) psi.ArgumentList.Add("logfile=" + logFile);
        var fuse = Process.Start(psi)!;
        var stderr = fuse.StandardError.ReadToEndAsync();
        var watch = Stopwatch.StartNew();
        while (!(File.Exists(pidFile) && new FileInfo(pidFile).Length > 0))
        {
            // Mounting FUSE needs privileges this environment may not grant: that is a reason to skip, not a failure.
            if (fuse.HasExited) Assert.Skip($"nbdfuse cannot mount here (exit {fuse.ExitCode}): {stderr.Result.Trim()}");
            if (watch.Elapsed > TimeSpan.FromSeconds(30))
            {
                fuse.Kill();
                Assert.Fail("nbdfuse did not get ready within 30 s.");
            }
            Thread.Sleep(20);
        }
        var source = new FaultyFuseSource(fuse, mount, mount + "/faulty", logFile);
        Assert.Equal(size, new FileInfo(source.Path).Length);
        return source;
    }

    /// <summary>A ddrescue mapfile for the nbdkit filter: finished everywhere but the bad ranges.</summary>
    private static string ErrorMap(long size, IReadOnlyList<(long Offset, long Length)> bad)
    {
        var sb = new StringBuilder("# error map for nbdkit's ddrescue filter\n0x0 + 1\n");
        long pos = 0;
        foreach (var (offset, length) in bad.OrderBy(b => b.Offset))
        {
            if (offset > pos) sb.Append(CultureInfo.InvariantCulture, $"0x{pos:X} 0x{offset - pos:X} +\n");
            sb.Append(CultureInfo.InvariantCulture, $"0x{offset:X} 0x{length:X} -\n");
            pos = offset + length;
        }
        if (pos < size) sb.Append(CultureInfo.InvariantCulture, $"0x{pos:X} 0x{size - pos:X} +\n");
        return sb.ToString();
    }

    /// <summary>The length of the request log now (to read only what later requests add).</summary>
    public long LogMark() => LogPath is null || !File.Exists(LogPath) ? 0 : new FileInfo(LogPath).Length;

    /// <summary>The reads nbdkit logged after <paramref name="mark"/>.</summary>
    public List<(long Offset, long Length)> ReadsSince(long mark)
    {
        if (LogPath is null) throw new InvalidOperationException("The source was started without a log.");
        using var fs = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        fs.Position = mark;
        string text = new StreamReader(fs).ReadToEnd();
        return [.. ReadLine().Matches(text).Select(m => (
            long.Parse(m.Groups[1].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture),
            long.Parse(m.Groups[2].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture)))];
    }

    [GeneratedRegex(@"Read id=\d+ offset=0x([0-9a-fA-F]+) count=0x([0-9a-fA-F]+) \.\.\.")]
    private static partial Regex ReadLine();

    /// <summary>Unmounts (nbdfuse then exits and takes nbdkit with it).</summary>
    public void Dispose()
    {
        using (var umount = Process.Start(new ProcessStartInfo("umount", [_mount]) { RedirectStandardError = true })!)
            umount.WaitForExit(30_000);
        if (!_fuse.WaitForExit(30_000))
        {
            _fuse.Kill();
            using var lazy = Process.Start(new ProcessStartInfo("umount", ["-l", _mount]) { RedirectStandardError = true })!;
            lazy.WaitForExit(30_000);
        }
        _fuse.Dispose();
    }
}
