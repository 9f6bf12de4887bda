using System.Security.Cryptography;
using Discemu.Block;
using Discemu.Formats;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Formats.Qcow2;

/// <summary>Shared helpers for the QCOW2 tests: qemu-img/qemu-io wrappers and whole-disk comparisons.</summary>
internal static class Qcow2TestKit
{
    public static string QemuImg(params string[] args) => PeerTools.RunOk("qemu-img", args);

    public static string QemuIo(string image, params string[] commands)
    {
        var args = new List<string> { "-f", "qcow2" };
        foreach (var c in commands) { args.Add("-c"); args.Add(c); }
        args.Add(image);
        return PeerTools.RunOk("qemu-io", [.. args]);
    }

    /// <summary>qemu-img's raw rendering of an image (of its internal snapshot <paramref name="snapshot"/> when given).</summary>
    public static byte[] QemuRaw(TempDir dir, string image, string? snapshot = null)
    {
        var raw = dir.File(Guid.NewGuid().ToString("N") + ".raw");
        if (snapshot is null) QemuImg("convert", "-O", "raw", image, raw);
        else QemuImg("convert", "-l", snapshot, "-O", "raw", image, raw);
        var bytes = File.ReadAllBytes(raw);
        File.Delete(raw);
        return bytes;
    }

    /// <summary>Reads the whole device in uneven pieces (to exercise partial-cluster paths).</summary>
    public static byte[] ReadAll(BlockDevice device)
    {
        var result = new byte[device.Length];
        int[] pieces = [4096, 777, 65536, 1 << 20, 512, 131071];
        long pos = 0;
        for (int i = 0; pos < result.Length; i++)
        {
            int n = (int)Math.Min(pieces[i % pieces.Length], result.Length - pos);
            device.Read(pos, result.AsSpan((int)pos, n));
            pos += n;
        }
        return result;
    }

    public static string Sha256(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(SHA256.HashData(data));

    /// <summary>Fails with the first differing offset when the arrays differ.</summary>
    public static void AssertSameBytes(byte[] expected, byte[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        if (expected.AsSpan().SequenceEqual(actual)) return;
        int i = expected.AsSpan().CommonPrefixLength(actual);
        Assert.Fail($"{what}: first difference at offset {i} (expected 0x{expected[i]:x2}, got 0x{actual[i]:x2}).");
    }

    /// <summary>Runs qemu-img check and fails unless it is clean (no corruptions, no leaks).</summary>
    public static void AssertCheckClean(string image)
    {
        var (code, stdout, stderr) = PeerTools.Run("qemu-img", ["check", "-f", "qcow2", image]);
        if (code != 0) Assert.Fail($"qemu-img check exited {code}:\n{stdout}{stderr}");
    }

    /// <summary>Runs qemu-img compare against a raw file and fails unless identical.</summary>
    public static void AssertQemuCompare(string image, string raw)
    {
        var (code, stdout, stderr) = PeerTools.Run("qemu-img", ["compare", "-f", "qcow2", "-F", "raw", image, raw]);
        if (code != 0) Assert.Fail($"qemu-img compare exited {code}:\n{stdout}{stderr}");
    }

    public static DiskImage Open(string path, bool writable = false, bool openBacking = true)
        => ImageOpener.Default.Open(path, new ImageOpenOptions { Format = "qcow2", Writable = writable, OpenBacking = openBacking });

    public static DiskImage Create(string path, long size, string options = "", string? backing = null, string? backingFormat = null)
        => Discemu.Formats.Qcow2.Qcow2Format.Instance.Create(new ImageCreateRequest(path, size, CreateOptions.Parse(options), ImageOpener.Default)
        {
            BackingFile = backing,
            BackingFormat = backingFormat,
        });

    /// <summary>Deterministic pseudo-random bytes with some compressible runs.</summary>
    public static byte[] Pattern(int length, int seed)
    {
        var rnd = new Random(seed);
        var data = new byte[length];
        for (int i = 0; i < length;)
        {
            int run = rnd.Next(1, 2048);
            int n = Math.Min(run, length - i);
            if (rnd.Next(3) == 0) data.AsSpan(i, n).Fill((byte)rnd.Next(256));
            else rnd.NextBytes(data.AsSpan(i, n));
            i += n;
        }
        return data;
    }

    /// <summary>The incompatible-features word of a QCOW2 v3 header, read straight from the file.</summary>
    public static ulong ReadIncompatible(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var b = new byte[8];
        fs.Position = 72;
        fs.ReadExactly(b);
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(b);
    }
}
