using System.Diagnostics;
using Discemu.Tests.Infrastructure;
using static Discemu.Tests.Formats.Qcow2.Qcow2TestKit;

namespace Discemu.Tests.Formats.Qcow2;

/// <summary>
/// Crash safety of <c>snapshot -c/-a/-d</c>: the CLI runs under strace with every write from the Nth on failing
/// (EIO), which leaves the file as a crash after N-1 writes would. For every N until the operation completes, the
/// image must pass <c>qemu-img check</c> with at most leaks, the active disk must read as before or as after, and
/// every snapshot still listed must read as it did.
/// </summary>
public sealed class Qcow2SnapshotCrashTests
{
    public static TheoryData<string> Operations => new() { "create", "apply", "delete" };

    [Theory]
    [MemberData(nameof(Operations))]
    public void EveryCutOffLeavesAConsistentImage(string operation)
    {
        PeerTools.Require("qemu-img");
        PeerTools.Require("strace");
        using var dir = new TempDir();
        string seed = dir.File("seed.qcow2");
        QemuImg("create", "-q", "-f", "qcow2", "-o", "cluster_size=4096", seed, "4M");
        QemuIo(seed, "write -P 1 0 1M", "write -c -P 2 2M 64k");
        QemuImg("snapshot", "-c", "first", seed);
        QemuIo(seed, "write -P 3 512k 1M", "write -z 3M 64k");
        QemuImg("snapshot", "-c", "second", seed);
        QemuIo(seed, "write -P 4 0 256k");
        byte[] active = QemuRaw(dir, seed);
        var snapshots = new Dictionary<string, byte[]>
        {
            ["first"] = QemuRaw(dir, seed, "first"),
            ["second"] = QemuRaw(dir, seed, "second"),
        };
        string[] args = operation switch
        {
            "create" => ["-c", "third"],
            "apply" => ["-a", "first"],
            _ => ["-d", "second"],
        };
        bool completed = false;
        int cuts = 0;
        for (int n = 1; n <= 64 && !completed; n++)
        {
            string image = dir.File($"cut{n}.qcow2");
            File.Copy(seed, image);
            int exit = RunWithWritesFailingFrom(n, image, args);
            completed = exit == 0;
            if (!completed) cuts++;
            AssertAtMostLeaksOrMissingCopiedFlags(image, n);

            byte[] now = QemuRaw(dir, image);
            bool asBefore = now.AsSpan().SequenceEqual(active);
            bool asAfter = operation == "apply" ? now.AsSpan().SequenceEqual(snapshots["first"]) : asBefore;
            Assert.True(asBefore || asAfter, $"cut at write {n}: the active disk reads neither as before nor as after");
            if (completed) Assert.True(asAfter, "the completed operation did not give the expected disk");

            var listed = QemuImg("snapshot", "-l", image);
            foreach (var (name, content) in snapshots)
            {
                if (!listed.Contains(" " + name + " ", StringComparison.Ordinal))
                {
                    Assert.True(operation == "delete" && name == "second", $"cut at write {n}: snapshot '{name}' vanished");
                    continue;
                }
                AssertSameBytes(content, QemuRaw(dir, image, name), $"cut at write {n}: snapshot '{name}'");
            }
            if (operation == "create" && listed.Contains(" third ", StringComparison.Ordinal))
                AssertSameBytes(active, QemuRaw(dir, image, "third"), $"cut at write {n}: snapshot 'third'");
            if (completed)
            {
                Assert.Equal(operation == "create", listed.Contains(" third ", StringComparison.Ordinal));
                Assert.Equal(operation != "delete", listed.Contains(" second ", StringComparison.Ordinal));
            }
            File.Delete(image);
        }
        Assert.True(completed, "the operation never completed within 64 writes");
        Assert.True(cuts >= 3, $"only {cuts} cut points were exercised: the write injection did not take");
    }

    /// <summary>
    /// qemu-img check finds nothing but leaks and COPIED flags missing on clusters whose refcount fell to 1 (what a
    /// crash between the refcount decrements and the flag updates leaves, as with qemu's own snapshot code: such a
    /// cluster is merely copied on its next write). Never a flag set on a shared cluster. If there are missing
    /// flags, <c>discemu check -r all</c> must then leave the image clean for qemu-img.
    /// </summary>
    private static void AssertAtMostLeaksOrMissingCopiedFlags(string image, int n)
    {
        var (code, stdout, stderr) = PeerTools.Run("qemu-img", ["check", "-f", "qcow2", image]);
        if (code is 0 or 3) return;
        Assert.True(code == 2, $"cut at write {n}: qemu-img check exited {code}:\n{stdout}{stderr}");
        foreach (var line in (stdout + stderr).Split('\n').Where(l => l.StartsWith("ERROR", StringComparison.Ordinal)))
        {
            var m = System.Text.RegularExpressions.Regex.Match(line, @"^ERROR OFLAG_COPIED (?:data|L2) cluster: .*(?:l2_entry|l1_entry)=([0-9a-f]+) refcount=1$");
            Assert.True(m.Success, $"cut at write {n}: qemu-img check: {line}");
            Assert.True((Convert.ToUInt64(m.Groups[1].Value, 16) >> 63) == 0, $"cut at write {n}: qemu-img check: {line}");
        }
        var repair = Discemu.Tests.Cli.CliHarness.Run("check", "-r", "all", image);
        Assert.True(repair.Code is 0 or 3, repair.Err);
        AssertCheckClean(image);
    }

    /// <summary>Runs <c>discemu snapshot ARGS IMAGE</c> with every pwrite from the <paramref name="n"/>th on failing with EIO.</summary>
    private static int RunWithWritesFailingFrom(int n, string image, string[] args)
    {
        var psi = new ProcessStartInfo("strace")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in (string[])["-f", "-qq", "-o", "/dev/null", "-e", "trace=pwrite64,pwritev,pwritev2", "-e", $"inject=pwrite64,pwritev,pwritev2:error=EIO:when={n}+",
                     Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet",
                     Path.Combine(AppContext.BaseDirectory, "Discemu.Cli.dll"), "snapshot"])
            psi.ArgumentList.Add(a);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.ArgumentList.Add(image);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(120_000))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"discemu snapshot under strace did not finish (cut at write {n})");
        }
        string stderr = err.Result;
        if (p.ExitCode != 0)
            Assert.True(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length <= 1, $"cut at write {n}: more than a one-line error:\n{stderr}");
        return p.ExitCode;
    }
}
