using System.Diagnostics;
using System.IO.Hashing;
using Discemu.Formats;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Formats.Vhd;

/// <summary>
/// Crash safety of dynamic VHD and VDI writes: a real <c>discemu convert</c> is killed with SIGKILL part way;
/// the image must open, check without corruption (leaks, and for VDI an over-counted slot, allowed) and hold
/// in every 4 KiB block either the source's bytes or zeros.
/// </summary>
public sealed class SparseCrashTests : IDisposable
{
    private const int Block = 4096;
    private const long DiskSize = 24L << 20;
    private readonly TempDir _dir = new();
    private readonly string _source;
    private readonly ulong[] _hashes;

    public SparseCrashTests()
    {
        _source = _dir.File("source.raw");
        var rng = new Random(606);
        var data = new byte[DiskSize];
        for (long at = 0; at < DiskSize; at += 1 << 20)
        {
            var region = data.AsSpan((int)at, 1 << 20);
            switch ((at >> 20) % 4)
            {
                case 0: rng.NextBytes(region); break;
                case 1: break;
                default:
                    for (int b = 0; b < region.Length; b += Block) if (rng.Next(3) != 0) rng.NextBytes(region.Slice(b, Block));
                    break;
            }
        }
        File.WriteAllBytes(_source, data);
        _hashes = Hashes(data);
    }

    public void Dispose() => _dir.Dispose();

    private static ulong[] Hashes(ReadOnlySpan<byte> data)
    {
        var h = new ulong[data.Length / Block];
        for (int i = 0; i < h.Length; i++) h[i] = XxHash3.HashToUInt64(data.Slice(i * Block, Block));
        return h;
    }

    [Theory]
    [InlineData("vpc")]
    [InlineData("vdi")]
    public void KilledConvertLeavesAReadableConsistentImage(string format)
    {
        PeerTools.Require("qemu-img");
        string full = _dir.File($"full.{format}");
        Assert.Equal(0, Run(format, full, killAt: -1).Exit);
        long finalSize = new FileInfo(full).Length;
        AssertConsistent(format, full, complete: true);
        int interrupted = 0;
        foreach (double point in new[] { 0.2, 0.6 })
        {
            string path = _dir.File($"cut{point}.{format}");
            var (killed, exit) = Run(format, path, (long)(finalSize * point));
            if (killed && exit != 0) interrupted++;
            AssertConsistent(format, path, complete: !killed || exit == 0);
        }
        Assert.True(interrupted >= 1, $"no kill interrupted the copy");
    }

    private (bool Killed, int Exit) Run(string format, string target, long killAt)
    {
        var psi = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "Discemu.Cli.dll"), "convert", "-f", "raw", "-O", format, _source, target })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        _ = p.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        bool killed = false;
        var clock = Stopwatch.StartNew();
        while (killAt >= 0 && !p.HasExited && clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            var info = new FileInfo(target);
            if (info.Exists && info.Length >= killAt)
            {
                try { p.Kill(); } catch (InvalidOperationException) { }
                killed = true;
                break;
            }
            Thread.Sleep(1);
        }
        Assert.True(p.WaitForExit(120_000), "the writer did not finish");
        Assert.True(killed || p.ExitCode == 0, $"the writer failed: {stderr.Result}");
        return (killed, p.ExitCode);
    }

    private void AssertConsistent(string format, string path, bool complete)
    {
        if (!File.Exists(path) || new FileInfo(path).Length < 512) return; // killed before the file was made
        DiskImage image;
        try { image = ImageOpener.Default.Open(path, new ImageOpenOptions { Format = format }); }
        catch (CorruptImageException) when (!complete && HeaderNotWritten(format, path)) { return; } // killed while creating it
        using (image)
        {
            Assert.Equal(DiskSize, image.Length);
            var data = new byte[DiskSize];
            for (long at = 0; at < DiskSize; at += 1 << 20) image.Read(at, data.AsSpan((int)at, 1 << 20));
            var actual = Hashes(data);
            ulong zero = XxHash3.HashToUInt64(new byte[Block]);
            for (int i = 0; i < actual.Length; i++)
                if (actual[i] != _hashes[i] && (complete || actual[i] != zero))
                    Assert.Fail($"{path}: the block at 0x{(long)i * Block:x} holds neither the source's bytes{(complete ? "" : " nor zeros")}.");
            var result = ((ICheckableImage)image).Check(CheckRepair.None);
            // A kill between growing the file and moving the footer to its new end leaves the end without a footer:
            // by the spec the copy at offset 0 (intact, or the open above would have failed) then describes the disk,
            // and the next writable open rewrites the end. That is the one corruption an interrupted write may leave.
            if (format == "vpc")
            {
                bool onlyTailFooter = !complete && result.Corruptions == 1
                    && result.Messages.Contains("ERROR the footer at the end of the file is missing or damaged");
                Assert.True((result.Corruptions == 0 || onlyTailFooter) && result.CheckErrors == 0, string.Join("; ", result.Messages));
                if (onlyTailFooter)
                {
                    image.Dispose();
                    using (var writable = ImageOpener.Default.Open(path, new ImageOpenOptions { Format = format, Writable = true })) writable.Flush();
                    using var reopened = ImageOpener.Default.Open(path, new ImageOpenOptions { Format = format });
                    var again = ((ICheckableImage)reopened).Check(CheckRepair.None);
                    Assert.True(again.Corruptions == 0, "a writable open did not restore the footer at the end: " + string.Join("; ", again.Messages));
                }
            }
        }
        if (format == "vdi")
        {
            var (code, _, stderr) = PeerTools.Run("qemu-img", ["check", "-f", "vdi", path]);
            if (code != 0)
            {
                // The only damage a kill may leave: a slot counted in the header that no block uses yet.
                var m = System.Text.RegularExpressions.Regex.Match(stderr, @"^ERROR: allocated blocks mismatch, is (\d+), should be (\d+)\s*$");
                Assert.True(!complete && code == 2 && m.Success && long.Parse(m.Groups[1].Value) < long.Parse(m.Groups[2].Value), $"qemu-img check exited {code}: {stderr}");
            }
        }
    }

    /// <summary>True when the kill came before the create wrote its first sector (the header goes in last).</summary>
    private static bool HeaderNotWritten(string format, string path)
    {
        var first = File.ReadAllBytes(path).AsSpan(0, 512);
        return format == "vdi" ? !first[64..68].SequenceEqual(new byte[] { 0x7F, 0x10, 0xDA, 0xBE }) : !first[..8].SequenceEqual("conectix"u8);
    }
}
