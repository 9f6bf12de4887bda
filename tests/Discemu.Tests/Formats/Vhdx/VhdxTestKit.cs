using System.Buffers.Binary;
using Discemu.Block;
using Discemu.Formats;
using Discemu.Formats.Vhdx;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Formats.Vhdx;

/// <summary>Shared helpers for the VHDX tests: creating and opening images, qemu-img wrappers, whole-disk comparisons.</summary>
internal static class VhdxTestKit
{
    public static string QemuImg(params string[] args) => PeerTools.RunOk("qemu-img", args);

    /// <summary>Runs qemu-io on a VHDX image.</summary>
    public static string QemuIo(string image, params string[] commands)
    {
        var args = new List<string> { "-f", "vhdx" };
        foreach (var c in commands) { args.Add("-c"); args.Add(c); }
        args.Add(image);
        return PeerTools.RunOk("qemu-io", [.. args]);
    }

    public static VhdxImage Create(string path, long size, string options = "", string? backing = null, string? backingFormat = null)
        => (VhdxImage)VhdxFormat.Instance.Create(new ImageCreateRequest(path, size, CreateOptions.Parse(options), ImageOpener.Default)
        {
            BackingFile = backing,
            BackingFormat = backingFormat,
        });

    public static DiskImage Open(string path, bool writable = false, bool openBacking = true)
        => ImageOpener.Default.Open(path, new ImageOpenOptions { Format = "vhdx", Writable = writable, OpenBacking = openBacking });

    /// <summary>Deterministic bytes, never long zero runs.</summary>
    public static byte[] Pattern(int length, int seed)
    {
        var b = new byte[length];
        new Random(seed).NextBytes(b);
        for (int i = 0; i < b.Length; i += 97) b[i] |= 1;
        return b;
    }

    /// <summary>A raw file of <paramref name="size"/> bytes with random data, a zero-filled run and holes.</summary>
    public static string MixedRaw(TempDir dir, string name, long size, int seed)
    {
        string path = dir.File(name);
        var rng = new Random(seed);
        using var fs = new FileStream(path, FileMode.Create, FileAccess.Write);
        fs.SetLength(size);
        var buffer = new byte[1 << 20];
        for (long at = 0; at < size; at += 1 << 20)
        {
            int kind = (int)(at >> 20) % 5;
            if (kind is 1 or 4) continue;
            if (kind == 2) Array.Clear(buffer);
            else rng.NextBytes(buffer);
            if (kind == 3) buffer.AsSpan(300_000, 200_000).Clear();
            fs.Position = at;
            fs.Write(buffer, 0, (int)Math.Min(buffer.Length, size - at));
        }
        return path;
    }

    /// <summary>qemu-img's raw rendering of an image.</summary>
    public static byte[] QemuRaw(TempDir dir, string image, string format = "vhdx")
    {
        var raw = dir.File(Guid.NewGuid().ToString("N") + ".raw");
        QemuImg("convert", "-f", format, "-O", "raw", image, raw);
        var bytes = File.ReadAllBytes(raw);
        File.Delete(raw);
        return bytes;
    }

    /// <summary>Reads the whole device in uneven pieces.</summary>
    public static byte[] ReadAll(BlockDevice device)
    {
        var result = new byte[device.Length];
        int[] pieces = [4096, 777, 65536, 1 << 20, 512, 131071, 3 << 20];
        long pos = 0;
        for (int i = 0; pos < result.Length; i++)
        {
            int n = (int)Math.Min(pieces[i % pieces.Length], result.Length - pos);
            device.Read(pos, result.AsSpan((int)pos, n));
            pos += n;
        }
        return result;
    }

    /// <summary>Fails with the first differing offset when the arrays differ.</summary>
    public static void AssertSameBytes(ReadOnlySpan<byte> expected, ReadOnlySpan<byte> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        if (expected.SequenceEqual(actual)) return;
        int i = expected.CommonPrefixLength(actual);
        Assert.Fail($"{what}: first difference at offset {i} (expected 0x{expected[i]:x2}, got 0x{actual[i]:x2}).");
    }

    /// <summary>qemu-img check must find nothing wrong.</summary>
    public static void AssertQemuCheckClean(string image)
    {
        var (code, stdout, stderr) = PeerTools.Run("qemu-img", ["check", "-f", "vhdx", image]);
        if (code != 0) Assert.Fail($"qemu-img check exited {code}:\n{stdout}{stderr}");
    }

    /// <summary>qemu-img compare must call the two identical.</summary>
    public static void AssertQemuCompare(string image, string other, string otherFormat = "raw")
    {
        var (code, stdout, stderr) = PeerTools.Run("qemu-img", ["compare", "-f", "vhdx", "-F", otherFormat, image, other]);
        if (code != 0) Assert.Fail($"qemu-img compare exited {code}:\n{stdout}{stderr}");
    }

    /// <summary>The current header's log GUID, read straight from the file.</summary>
    public static Guid LogGuidOnDisk(string path)
    {
        using var fs = File.OpenRead(path);
        var h1 = new byte[4096];
        var h2 = new byte[4096];
        fs.Position = 64 << 10;
        fs.ReadExactly(h1);
        fs.Position = 128 << 10;
        fs.ReadExactly(h2);
        bool ok1 = VhdxHeader.TryRead(h1, out var a, out _), ok2 = VhdxHeader.TryRead(h2, out var b, out _);
        Assert.True(ok1 || ok2, "no valid header");
        return (ok1 && (!ok2 || a.SequenceNumber > b.SequenceNumber) ? a : b).LogGuid;
    }

    public static ulong ReadU64(byte[] data, int offset) => BinaryPrimitives.ReadUInt64LittleEndian(data.AsSpan(offset));
}

/// <summary>Runs work on an image that "crashes" (stops writing, as if killed) after a number of file modifications.</summary>
internal static class VhdxCrash
{
    /// <summary>
    /// Opens <paramref name="path"/> for writing, lets <paramref name="writesBeforeCrash"/> file modifications
    /// through, runs <paramref name="work"/> and closes the image. Returns true when the simulated crash cut
    /// the work short (nothing after it reached the file), false when the work finished first.
    /// </summary>
    public static bool Run(string path, int writesBeforeCrash, Action<VhdxImage> work, int seed = 0)
    {
        var image = (VhdxImage)VhdxTestKit.Open(path, writable: true);
        var plan = new VhdxFaultPlan(writesBeforeCrash, seed);
        image.HostFile.Faults = plan;
        try
        {
            work(image);
            image.Dispose();
        }
        catch (VhdxSimulatedCrashException)
        {
            image.Dispose();
        }
        catch (Exception e) when (plan.Crashed && e.InnerException is VhdxSimulatedCrashException)
        {
            image.Dispose();
        }
        return plan.Crashed;
    }
}
