using System.Security.Cryptography;
using Discemu.Block;
using Discemu.Formats;
using Discemu.Formats.Vmdk;
using Discemu.Operations;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Formats.Vmdk;

/// <summary>Shared helpers for the VMDK tests: sources with mixed content, qemu-img wrappers, whole-disk comparisons.</summary>
internal static class VmdkTestKit
{
    public static readonly string[] Subformats = ["monolithicSparse", "monolithicFlat", "twoGbMaxExtentSparse", "twoGbMaxExtentFlat", "streamOptimized"];

    public static TheoryData<string> SubformatData => [.. Subformats];

    public static string QemuImg(params string[] args) => PeerTools.RunOk("qemu-img", args);

    public static string QemuIo(string image, string format, params string[] commands)
    {
        var args = new List<string> { "-f", format };
        foreach (var c in commands) { args.Add("-c"); args.Add(c); }
        args.Add(image);
        return PeerTools.RunOk("qemu-io", [.. args]);
    }

    /// <summary>
    /// A raw file of <paramref name="size"/> bytes holding every kind of content, at offsets that do not
    /// line up with grains: random data, compressible text, explicit zeros (written) and holes (never written).
    /// </summary>
    public static string MixedSource(TempDir dir, string name, long size, int seed, params long[] extraDataAt)
    {
        string path = dir.File(name);
        var rng = new Random(seed);
        using var fs = new FileStream(path, FileMode.Create, FileAccess.Write);
        fs.SetLength(size);
        var text = System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("VMDK grain text, compressible and plain. ", 4000)));
        long pos = 0;
        int kind = 0;
        long limit = Math.Min(size, 6L << 20);
        while (pos < limit)
        {
            int n = (int)Math.Min(limit - pos, rng.Next(1000, 300_000));
            var block = new byte[n];
            switch (kind++ % 4)
            {
                case 0: rng.NextBytes(block); break;
                case 1: for (int i = 0; i < n; i++) block[i] = text[i % text.Length]; break;
                case 2: break; // explicit zeros, written
                default: pos += n; continue; // a hole
            }
            fs.Position = pos;
            fs.Write(block);
            pos += n;
        }
        foreach (long at in extraDataAt)
        {
            var block = new byte[Math.Min(200_000, size - at)];
            rng.NextBytes(block);
            fs.Position = at;
            fs.Write(block);
        }
        return path;
    }

    public static DiskImage Open(string path, bool writable = false, bool openBacking = true)
        => ImageOpener.Default.Open(path, new ImageOpenOptions { Format = "vmdk", Writable = writable, OpenBacking = openBacking });

    public static DiskImage Create(string path, long size, string options = "", string? backing = null, string? backingFormat = null, long? extentBytes = null)
    {
        var request = new ImageCreateRequest(path, size, CreateOptions.Parse(options), ImageOpener.Default) { BackingFile = backing, BackingFormat = backingFormat };
        return extentBytes is { } e ? VmdkFormat.Instance.Create(request, e) : VmdkFormat.Instance.Create(request);
    }

    /// <summary>Converts <paramref name="source"/> (any format) into a new VMDK with Discemu's copier, as <c>convert</c> does.</summary>
    public static void Convert(string source, string target, string options, string? backing = null)
    {
        using var src = ImageOpener.Default.Open(source);
        using var dst = Create(target, src.Length, options, backing);
        ImageCopier.Copy(src, dst, new CopyOptions { TargetBacking = dst.Backing });
    }

    /// <summary>Fails with the first differing offset unless both devices show the same bytes (hole-aware, through <see cref="ImageComparer"/>).</summary>
    public static void AssertSameContent(BlockDevice expected, BlockDevice actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        var result = ImageComparer.Compare(expected, actual);
        Assert.True(result.Outcome == CompareOutcome.Identical, $"{what}: content differs at offset {result.Offset}.");
    }

    /// <summary>Compares a device with a raw file, byte for byte.</summary>
    public static void AssertSameContent(string rawPath, BlockDevice actual, string what)
    {
        using var raw = ImageOpener.Default.Open(rawPath, new ImageOpenOptions { Format = "raw" });
        AssertSameContent(raw, actual, what);
    }

    /// <summary>Reads the whole device in uneven pieces (to exercise partial-grain paths).</summary>
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

    public static string Sha256(ReadOnlySpan<byte> data) => System.Convert.ToHexStringLower(SHA256.HashData(data));

    /// <summary>Runs qemu-img check and fails unless it is clean.</summary>
    public static void AssertQemuCheckClean(string image)
    {
        var (code, stdout, stderr) = PeerTools.Run("qemu-img", ["check", "-f", "vmdk", image]);
        if (code != 0 || !stdout.Contains("No errors were found", StringComparison.Ordinal)) Assert.Fail($"qemu-img check exited {code}:\n{stdout}{stderr}");
    }

    /// <summary>Runs qemu-img compare and fails unless identical.</summary>
    public static void AssertQemuCompare(string image, string other, string otherFormat = "raw")
    {
        var (code, stdout, stderr) = PeerTools.Run("qemu-img", ["compare", "-f", "vmdk", "-F", otherFormat, image, other]);
        if (code != 0) Assert.Fail($"qemu-img compare {image} {other} exited {code}:\n{stdout}{stderr}");
    }

    /// <summary>qemu-img info --output json as a document.</summary>
    public static System.Text.Json.JsonElement QemuInfo(string image)
        => System.Text.Json.JsonDocument.Parse(QemuImg("info", "--output", "json", "-f", "vmdk", image)).RootElement;

    /// <summary>The descriptor text of an image (embedded or a file).</summary>
    public static string DescriptorOf(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length >= 4 && bytes[0] == 'K' && bytes[1] == 'D' && bytes[2] == 'M' && bytes[3] == 'V')
        {
            long offset = BitConverter.ToInt64(bytes, 28) * 512, length = BitConverter.ToInt64(bytes, 36) * 512;
            return System.Text.Encoding.UTF8.GetString(bytes, (int)offset, (int)length).TrimEnd('\0');
        }
        return System.Text.Encoding.UTF8.GetString(bytes);
    }

    /// <summary>Deterministic pseudo-random bytes.</summary>
    public static byte[] Pattern(int length, int seed)
    {
        var b = new byte[length];
        new Random(seed).NextBytes(b);
        return b;
    }
}
