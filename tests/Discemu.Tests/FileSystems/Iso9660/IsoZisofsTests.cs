using Discemu.Tests.Infrastructure;
using static Discemu.Tests.FileSystems.Iso9660.IsoTestKit;

namespace Discemu.Tests.FileSystems.Iso9660;

/// <summary>zisofs-compressed files (mkzftree + genisoimage -z, xorriso's --zisofs filter) read back uncompressed.</summary>
public sealed class IsoZisofsTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Source()
    {
        string src = _dir.File("zsrc");
        Directory.CreateDirectory(src);
        var rng = new Random(3);
        var mixed = new byte[700_000];
        rng.NextBytes(mixed.AsSpan(0, 100_000));                       // incompressible
        mixed.AsSpan(100_000, 300_000).Clear();                        // zero blocks (stored as length 0)
        for (int i = 400_000; i < mixed.Length; i++) mixed[i] = (byte)"compressible text "[i % 18];
        File.WriteAllBytes(Path.Join(src, "mixed.bin"), mixed);
        File.WriteAllText(Path.Join(src, "text.txt"), string.Concat(Enumerable.Repeat("hello zisofs\n", 20_000)));
        File.WriteAllText(Path.Join(src, "tiny.txt"), "tiny\n");
        File.WriteAllBytes(Path.Join(src, "empty"), []);
        var exact = new byte[65536 * 3]; // ends exactly on a block boundary
        rng.NextBytes(exact);
        File.WriteAllBytes(Path.Join(src, "exact.bin"), exact);
        SetTimes(src, BaseTime);
        return src;
    }

    [Fact]
    public void MkzftreeAndGenisoimageZ()
    {
        string src = Source();
        string compressed = _dir.File("ztree");
        PeerTools.RunOk("mkzftree", src, compressed);
        SetTimes(compressed, BaseTime);
        string iso = _dir.File("z.iso");
        PeerTools.RunOk("genisoimage", "-quiet", "-R", "-z", "-o", iso, compressed);
        AssertDecompresses(iso, src);
    }

    [Theory]
    [InlineData("32k")]
    [InlineData("64k")]
    [InlineData("128k")]
    public void XorrisoZisofsFilter(string blockSize)
    {
        string src = Source();
        string iso = _dir.File($"zx-{blockSize}.iso");
        PeerTools.RunOk("xorriso", "-outdev", iso, "-zisofs", $"block_size={blockSize}", "-map", src, "/", "-set_filter_r", "--zisofs", "/", "--", "-commit");
        AssertDecompresses(iso, src);
    }

    private static void AssertDecompresses(string iso, string src)
    {
        // The files really are stored compressed (isoinfo shows the stored sizes).
        var stored = Isoinfo(iso, "-R").ToDictionary(l => l.Name, l => l.Size);
        Assert.True(stored["text.txt"] < 10_000, $"text.txt is stored in {stored["text.txt"]} bytes");
        var (image, fs) = Open(iso);
        using (image)
        using (fs)
        {
            AssertSame(HostSnapshot(src, modes: false, times: false), FsSnapshot(fs, modes: false, times: false));
            // Unaligned reads across block boundaries.
            var expected = File.ReadAllBytes(Path.Join(src, "mixed.bin"));
            using var content = fs.OpenFile(fs.Lookup("/mixed.bin"));
            var rng = new Random(5);
            for (int i = 0; i < 50; i++)
            {
                int at = rng.Next(expected.Length), n = rng.Next(Math.Min(200_000, expected.Length - at) + 1);
                var buffer = new byte[n];
                content.Read(at, buffer);
                Assert.True(buffer.AsSpan().SequenceEqual(expected.AsSpan(at, n)), $"read {at}+{n}");
            }
        }
    }
}
