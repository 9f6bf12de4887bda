using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Discemu.Tests.Cli;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Nbd;

/// <summary><c>discemu serve</c> against real NBD clients: qemu-img, qemu-io, nbdinfo, nbdcopy.</summary>
public sealed class NbdInteropTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A 32 MiB qcow2 with data, a zero cluster range and holes, written by qemu-io.</summary>
    private string MixedQcow2(string name = "src.qcow2")
    {
        string path = _dir.File(name);
        PeerTools.RunOk("qemu-img", "create", "-q", "-f", "qcow2", path, "32M");
        PeerTools.RunOk("qemu-io", "-f", "qcow2", "-c", "write -P 0x11 0 1M", "-c", "write -P 0x22 5M 3M", "-c", "write -z 12M 1M",
            "-c", "write -P 0x33 20M 64k", "-c", "write -P 0x44 31M 1M", path);
        return path;
    }

    [Fact]
    public void QemuImgInfoConvertAndCompareOverTcpAndUnix()
    {
        PeerTools.Require("qemu-img");
        string src = MixedQcow2();
        string sock = _dir.File("s.sock");
        using var server = new ServeProcess(2, "-r", "--port", "0", "--socket", sock, "--export", "disk=" + src);
        string tcp = server.Uris[0], unix = server.Uris[1];
        Assert.Matches(@"^nbd://127\.0\.0\.1:\d+/disk$", tcp);
        Assert.Equal($"nbd+unix:///disk?socket={sock}", unix);
        string info = PeerTools.RunOk("qemu-img", "info", "--output=json", tcp);
        Assert.Equal(32L << 20, JsonDocument.Parse(info).RootElement.GetProperty("virtual-size").GetInt64());
        string raw = _dir.File("out.raw");
        PeerTools.RunOk("qemu-img", "convert", "-O", "raw", unix, raw);
        PeerTools.RunOk("qemu-img", "compare", "-f", "raw", "-F", "qcow2", raw, src);
        PeerTools.RunOk("qemu-img", "compare", tcp, src);
        PeerTools.RunOk("qemu-img", "compare", unix, src);
        var (exit, stderr) = server.Terminate();
        Assert.True(exit == 0, stderr);
        Assert.False(File.Exists(sock));
    }

    [Fact]
    public void NbdinfoMapMatchesDiscemuMap()
    {
        PeerTools.Require("nbdinfo");
        string src = MixedQcow2();
        using var server = new ServeProcess(1, "-r", "--port", "0", src);
        string map = PeerTools.RunOk("nbdinfo", "--map", server.Uris[0]);
        var remote = new List<(long Start, long Length, int Type)>();
        foreach (var line in map.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            remote.Add((long.Parse(f[0], CultureInfo.InvariantCulture), long.Parse(f[1], CultureInfo.InvariantCulture), int.Parse(f[2], CultureInfo.InvariantCulture)));
        }
        var (code, json, err) = CliHarness.Run("map", "--output=json", src);
        Assert.True(code == 0, err);
        var local = new List<(long Start, long Length, int Type)>();
        foreach (var e in JsonDocument.Parse(json).RootElement.EnumerateArray())
        {
            int type = (e.GetProperty("data").GetBoolean() ? 0 : 1) | (e.GetProperty("zero").GetBoolean() ? 2 : 0);
            long start = e.GetProperty("start").GetInt64(), length = e.GetProperty("length").GetInt64();
            if (local.Count > 0 && local[^1].Type == type) local[^1] = (local[^1].Start, local[^1].Length + length, type);
            else local.Add((start, length, type));
        }
        Assert.Equal(local, remote);
        Assert.Contains(remote, r => r.Type == 0);
        Assert.Contains(remote, r => r.Type == 3);
        server.Terminate();
    }

    [Fact]
    public void NbdcopyCopiesByteIdenticalAndIntoARamDisk()
    {
        PeerTools.Require("nbdcopy");
        string src = MixedQcow2();
        string reference = _dir.File("ref.raw");
        PeerTools.RunOk("qemu-img", "convert", "-O", "raw", src, reference);
        using var server = new ServeProcess(2, "-r", "--port", "0", "--export", "disk=" + src, "--memory", "32M");
        Assert.EndsWith("/memory", server.Uris[1]);
        string copy = _dir.File("copy.raw");
        PeerTools.RunOk("nbdcopy", server.Uris[0], copy);
        Assert.Equal(CliHarness.Sha256(reference), CliHarness.Sha256(copy));
        // Read-only applies to the RAM disk too; a second server takes writes into it.
        var (code, _, _) = PeerTools.Run("nbdcopy", [reference, server.Uris[1]]);
        Assert.NotEqual(0, code);
        using var ram = new ServeProcess(1, "--port", "0", "--memory", "32M");
        PeerTools.RunOk("nbdcopy", "--connections=4", reference, ram.Uris[0]);
        string back = _dir.File("back.raw");
        PeerTools.RunOk("nbdcopy", ram.Uris[0], back);
        Assert.Equal(CliHarness.Sha256(reference), CliHarness.Sha256(back));
    }

    [Fact]
    public void AcknowledgedWritesSurviveRestartAndSigkill()
    {
        PeerTools.Require("qemu-io");
        string image = _dir.File("w.qcow2");
        PeerTools.RunOk("qemu-img", "create", "-q", "-f", "qcow2", image, "16M");
        using (var server = new ServeProcess(1, "--port", "0", image))
        {
            // Plain writes, then SIGTERM: the server flushes before exiting.
            PeerTools.RunOk("qemu-io", "-f", "raw", "-c", "write -P 0x5a 1M 256k", "-c", "write -z 3M 64k", server.Uris[0]);
            var (exit, stderr) = server.Terminate();
            Assert.True(exit == 0, stderr);
        }
        using (var server = new ServeProcess(1, "--port", "0", image))
        {
            // A FUA write and a flushed write, then SIGKILL: both were acknowledged as durable.
            PeerTools.RunOk("qemu-io", "-f", "raw", "-c", "write -f -P 0x6b 4M 64k", "-c", "write -P 0x7c 6M 128k", "-c", "flush", server.Uris[0]);
            server.Kill();
        }
        PeerTools.RunOk("qemu-img", "check", image);
        PeerTools.RunOk("qemu-io", "-f", "qcow2", "-r", "-c", "read -P 0x5a 1M 256k", "-c", "read -P 0x6b 4M 64k", "-c", "read -P 0x7c 6M 128k",
            "-c", "read -P 0 3M 64k", image);
        using (var server = new ServeProcess(1, "-r", "--port", "0", image))
            PeerTools.RunOk("qemu-io", "-f", "raw", "-r", "-c", "read -P 0x6b 4M 64k", server.Uris[0]);
    }

    [Fact]
    public void SnapshotModeNeverTouchesTheImage()
    {
        PeerTools.Require("qemu-io");
        string src = MixedQcow2();
        string before = CliHarness.Sha256(src);
        using var server = new ServeProcess(1, "--snapshot", "--port", "0", src);
        PeerTools.RunOk("qemu-io", "-f", "raw", "-c", "write -P 0x99 100k 300k", "-c", "flush", "-c", "read -P 0x99 100k 300k", "-c", "read -P 0x22 5M 3M", server.Uris[0]);
        Assert.Equal(0, server.Terminate().Exit);
        Assert.Equal(before, CliHarness.Sha256(src));
    }

    [Fact]
    public void LoadSnapshotServesTheSnapshotReadOnlyLikeQemuNbd()
    {
        PeerTools.Require("qemu-io");
        string src = MixedQcow2();
        PeerTools.RunOk("qemu-img", "snapshot", "-c", "old", src);
        PeerTools.RunOk("qemu-io", "-f", "qcow2", "-c", "write -P 0x55 0 2M", src);
        string expected = _dir.File("expected.raw"), got = _dir.File("got.raw");
        PeerTools.RunOk("qemu-img", "convert", "-l", "old", "-O", "raw", src, expected);
        using (var server = new ServeProcess(1, "--port", "0", "-l", "snapshot.name=old", src))
        {
            PeerTools.RunOk("qemu-img", "convert", "-f", "raw", "-O", "raw", server.Uris[0], got);
            Assert.Equal(CliHarness.Sha256(expected), CliHarness.Sha256(got));
            var (writeCode, stdout, stderr) = PeerTools.Run("qemu-io", ["-f", "raw", "-c", "write 0 4k", server.Uris[0]]);
            Assert.True(writeCode != 0 || (stdout + stderr).Contains("read-only", StringComparison.OrdinalIgnoreCase) || (stdout + stderr).Contains("Operation not permitted", StringComparison.Ordinal), stdout + stderr);
            Assert.Equal(0, server.Terminate().Exit);
        }
        PeerTools.RunOk("qemu-io", "-f", "qcow2", "-r", "-c", "read -P 0x55 0 2M", src); // the active disk is untouched
    }

    [Fact]
    public void ClientKilledMidCopyDoesNotDisturbTheServer()
    {
        PeerTools.Require("nbdcopy");
        string data = CliHarness.SparseRaw(_dir, "big.raw", 24 << 20, (0, 24 << 20));
        using var server = new ServeProcess(1, "--port", "0", "--memory", "24M");
        for (int i = 0; i < 3; i++)
        {
            using var copier = Process.Start(new ProcessStartInfo("nbdcopy", [data, server.Uris[0]]) { RedirectStandardError = true, UseShellExecute = false })!;
            Thread.Sleep(20 + 40 * i);
            try { copier.Kill(); } catch (InvalidOperationException) { }
            copier.WaitForExit();
        }
        PeerTools.RunOk("nbdcopy", data, server.Uris[0]);
        string back = _dir.File("back.raw");
        PeerTools.RunOk("nbdcopy", server.Uris[0], back);
        Assert.Equal(CliHarness.Sha256(data), CliHarness.Sha256(back));
        Assert.Equal(0, server.Terminate().Exit);
    }

    [Fact]
    public void ReadOnlyFormatIsServedReadOnly()
    {
        PeerTools.Require("qemu-io");
        string e01 = TestData.Real("ext2.E01");
        string expected = _dir.File("expected.raw");
        var (code, _, err) = CliHarness.Run("convert", "-O", "raw", e01, expected);
        Assert.True(code == 0, err);
        using var server = new ServeProcess(1, "--port", "0", e01);
        string got = _dir.File("got.raw");
        PeerTools.RunOk("qemu-img", "convert", "-f", "raw", "-O", "raw", server.Uris[0], got);
        Assert.Equal(CliHarness.Sha256(expected), CliHarness.Sha256(got));
        var (writeCode, stdout, stderr) = PeerTools.Run("qemu-io", ["-f", "raw", "-c", "write 0 4k", server.Uris[0]]);
        Assert.True(writeCode != 0 || (stdout + stderr).Contains("read-only", StringComparison.OrdinalIgnoreCase) || (stdout + stderr).Contains("Operation not permitted", StringComparison.Ordinal), stdout + stderr);
        var (exit, log) = server.Terminate();
        Assert.Equal(0, exit);
        Assert.Contains("serving read-only", log);
    }
}
