using System.Security.Cryptography;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Formats.Dmg;

/// <summary>Sample disks and peer-tool helpers for the DMG tests.</summary>
internal static class DmgTestData
{
    /// <summary>The sample disk's partitions: a one-sector "MBR" and the rest.</summary>
    public static readonly (string Name, long Start, long Sectors)[] TwoPartitions =
        [("Protective Master Boot Record (MBR : 0)", 0, 1), ("disk image (Apple_HFS : 1)", 1, (Length / 512) - 1)];

    /// <summary>3 MiB + 5 sectors: text, then random and patterned bytes, a zero run covering a whole chunk, random tail.</summary>
    public const int Length = (3 << 20) + 5 * 512;

    public static byte[] Disk(int seed = 1)
    {
        var d = new byte[Length];
        var text = System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, 40_000).Select(i => $"line {i % 977} of the sample disk {i * 7 % 13}\n")));
        text.AsSpan(0, 1 << 20).CopyTo(d);
        var rng = new Random(seed);
        rng.NextBytes(d.AsSpan(1 << 20, 1 << 19));
        for (int i = (1 << 20) + (1 << 19); i < 2 << 20; i++) d[i] = (byte)(i % 251 < 100 ? i / 3 : 0x5A);
        // [2 MiB, 3 MiB + 512) stays zero: it covers the second partition's third chunk entirely.
        rng.NextBytes(d.AsSpan((3 << 20) + 512));
        return d;
    }

    public static string Sha(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));

    /// <summary>Extracts every partition with 7-Zip and concatenates them in partition order.</summary>
    public static byte[] SevenZipExtract(TempDir dir, string dmg)
    {
        string outDir = dir.File("7z-" + Guid.NewGuid().ToString("N")[..8]);
        PeerTools.RunOk("7zz", "x", "-tdmg", "-y", "-bd", "-o" + outDir, dmg);
        var files = Directory.GetFiles(outDir).OrderBy(f => int.Parse(Path.GetFileName(f).Split('.')[0])).ToList();
        using var ms = new MemoryStream();
        foreach (var f in files) ms.Write(File.ReadAllBytes(f));
        return ms.ToArray();
    }
}

/// <summary>Reading helpers for the DMG tests.</summary>
internal static class DmgRead
{
    /// <summary>Opens a file with format detection (it must be detected as dmg).</summary>
    public static Discemu.Formats.DiskImage Open(string path)
    {
        var image = Discemu.Formats.ImageOpener.Default.Open(path);
        Assert.Equal("dmg", image.Format.Name);
        return image;
    }

    /// <summary>The whole virtual disk.</summary>
    public static byte[] All(Discemu.Block.BlockDevice device)
    {
        var b = new byte[device.Length];
        device.Read(0, b);
        return b;
    }

    /// <summary>Asserts equal bytes, naming the first difference.</summary>
    public static void AssertSame(byte[] expected, byte[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        int i = expected.AsSpan().CommonPrefixLength(actual);
        Assert.True(i == expected.Length, $"{what}: first difference at byte {i}");
    }
}
