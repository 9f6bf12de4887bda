using System.Text.Json;
using Discemu.Block;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Formats.Vhd;

/// <summary>Helpers shared by the VHD and VDI tests: mixed sources, qemu-img/qemu-io wrappers, whole-disk comparisons.</summary>
internal static class DiskTestKit
{
    public static string QemuImg(params string[] args) => PeerTools.RunOk("qemu-img", args);

    /// <summary>Runs qemu-io commands on an image of <paramref name="format"/>.</summary>
    public static string QemuIo(string format, string image, params string[] commands)
    {
        var args = new List<string> { "-f", format };
        foreach (var c in commands) { args.Add("-c"); args.Add(c); }
        args.Add(image);
        var output = PeerTools.RunOk("qemu-io", [.. args]);
        if (output.Contains("Pattern verification failed", StringComparison.Ordinal) || output.Contains("failed:", StringComparison.Ordinal))
            Assert.Fail($"qemu-io {string.Join(' ', args)}: {output}");
        return output;
    }

    /// <summary>qemu-img's raw rendering of an image.</summary>
    public static byte[] QemuRaw(TempDir dir, string image, string format)
    {
        var raw = dir.File(Guid.NewGuid().ToString("N") + ".raw");
        QemuImg("convert", "-f", format, "-O", "raw", image, raw);
        var bytes = File.ReadAllBytes(raw);
        File.Delete(raw);
        return bytes;
    }

    /// <summary>The virtual size qemu-img info reports.</summary>
    public static long QemuVirtualSize(string image, string format)
    {
        using var doc = JsonDocument.Parse(QemuImg("info", "-f", format, "--output", "json", image));
        return doc.RootElement.GetProperty("virtual-size").GetInt64();
    }

    /// <summary>
    /// A raw file of <paramref name="size"/> bytes mixing random data, written zeros, holes, 4 KiB-grained
    /// mixes and small unaligned pieces; returns its path and content.
    /// </summary>
    public static (string Path, byte[] Data) MixedSource(TempDir dir, string name, long size, int seed)
    {
        var data = new byte[size];
        var rng = new Random(seed);
        const int Region = 256 * 1024;
        string path = dir.File(name);
        using (var fs = new FileStream(path, FileMode.Create, FileAccess.Write))
        {
            fs.SetLength(size);
            for (long at = 0, r = 0; at < size; at += Region, r++)
            {
                int n = (int)Math.Min(Region, size - at);
                var span = data.AsSpan((int)at, n);
                switch (r % 6)
                {
                    case 0: rng.NextBytes(span); break;
                    case 1: continue; // hole
                    case 2: break; // written zeros
                    case 3:
                        for (int b = 0; b < n; b += 4096) if (rng.Next(2) == 0) rng.NextBytes(span[b..Math.Min(n, b + 4096)]);
                        break;
                    case 4:
                        for (int k = 0; k < 5; k++)
                        {
                            int off = rng.Next(n - 700);
                            rng.NextBytes(span.Slice(off, rng.Next(1, 700)));
                        }
                        break;
                    default: continue;
                }
                fs.Position = at;
                fs.Write(span);
            }
        }
        return (path, data);
    }

    /// <summary>Reads the whole device in uneven pieces.</summary>
    public static byte[] ReadAll(BlockDevice device) => Qcow2.Qcow2TestKit.ReadAll(device);

    /// <summary>Fails with the first differing offset.</summary>
    public static void AssertSameBytes(ReadOnlySpan<byte> expected, ReadOnlySpan<byte> actual, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: {actual.Length} bytes, expected {expected.Length}.");
        if (expected.SequenceEqual(actual)) return;
        int i = expected.CommonPrefixLength(actual);
        Assert.Fail($"{what}: first difference at offset {i} (expected 0x{expected[i]:x2}, got 0x{actual[i]:x2}).");
    }

    /// <summary><paramref name="data"/> padded with zeros (or cut) to <paramref name="length"/> bytes.</summary>
    public static byte[] Padded(byte[] data, long length)
    {
        var b = new byte[length];
        data.AsSpan(0, (int)Math.Min(data.Length, length)).CopyTo(b);
        return b;
    }

    /// <summary>Walks the status of the whole device: answers tile it, and ranges reported zero hold zeros in <paramref name="content"/>.</summary>
    public static void AssertStatusAgrees(BlockDevice device, byte[] content, string what)
    {
        long pos = 0;
        while (pos < device.Length)
        {
            var st = device.GetStatus(pos, device.Length - pos);
            Assert.InRange(st.Length, 1, device.Length - pos);
            if (st.IsZero && content.AsSpan((int)pos, (int)st.Length).IndexOfAnyExcept((byte)0) is int nz and >= 0)
                Assert.Fail($"{what}: {pos}+{st.Length} is reported zero ({st.Flags}) but byte {pos + nz} is 0x{content[pos + nz]:x2}.");
            pos += st.Length;
        }
    }

    /// <summary>Runs the CLI in-process.</summary>
    public static (int Code, string Out, string Err) RunCli(params string[] args) => Discemu.Tests.Cli.CliHarness.Run(args);

    /// <summary>Runs the CLI and fails unless it exits 0.</summary>
    public static string CliOk(params string[] args)
    {
        var (code, stdout, stderr) = RunCli(args);
        Assert.True(code == 0, $"discemu {string.Join(' ', args)} exited {code}: {stderr}{stdout}");
        return stdout;
    }

    /// <summary>Rewrites the bytes at <paramref name="offset"/> of a file.</summary>
    public static void Patch(string path, long offset, ReadOnlySpan<byte> bytes)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Write);
        fs.Position = offset;
        fs.Write(bytes);
    }

    /// <summary>Reads <paramref name="count"/> bytes at <paramref name="offset"/> of a file.</summary>
    public static byte[] ReadFile(string path, long offset, int count)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var b = new byte[count];
        fs.Position = offset;
        fs.ReadExactly(b);
        return b;
    }
}
