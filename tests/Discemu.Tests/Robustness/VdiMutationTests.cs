using System.Buffers.Binary;
using Discemu.Formats;
using Discemu.Formats.Vdi;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Robustness;

/// <summary>
/// Damaged VDI images (qemu-img's dynamic and static, Discemu's, a differencing image next to its parent) must
/// open and read or fail with a typed error: mutations favour the header sector and the block map.
/// </summary>
public sealed class VdiMutationTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string> Seeds => ["qemu-dynamic", "qemu-static", "discemu-dynamic", "discemu-differencing"];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void MutatedVdisFailTypedNeverCrash(string seed)
    {
        string path = MakeSeed(seed);
        MutationHarness.AssertPristineOpens(path, "vdi");
        var bytes = File.ReadAllBytes(path);
        MutationHarness.Run(_dir, $"vdi-{seed}", bytes, MutationHarness.Iterations(25), "case.vdi", HotRanges(bytes));
    }

    private string MakeSeed(string seed)
    {
        var src = new byte[3 << 20];
        var rng = new Random(seed.Length);
        rng.NextBytes(src.AsSpan(0, 200_000));
        rng.NextBytes(src.AsSpan((2 << 20) + 1000, 5000));
        string raw = _dir.File("src.raw");
        File.WriteAllBytes(raw, src);
        string path = _dir.File("seed.vdi");
        switch (seed)
        {
            case "qemu-dynamic":
                PeerTools.RunOk("qemu-img", "convert", "-f", "raw", "-O", "vdi", raw, path);
                break;
            case "qemu-static":
                PeerTools.RunOk("qemu-img", "convert", "-f", "raw", "-O", "vdi", "-o", "static=on", raw, path);
                break;
            default:
                string? parent = null;
                if (seed == "discemu-differencing")
                {
                    using (var p = VdiFormat.Instance.Create(new ImageCreateRequest(_dir.File("parent.vdi"), src.Length, CreateOptions.Empty, ImageOpener.Default)))
                        p.Write(0, src);
                    parent = "parent.vdi";
                }
                using (var image = VdiFormat.Instance.Create(new ImageCreateRequest(path, src.Length, CreateOptions.Empty, ImageOpener.Default) { BackingFile = parent }))
                {
                    image.Write(4096, src.AsSpan(0, 100_000));
                    image.Write((2 << 20) - 300, src.AsSpan(0, 1000));
                }
                // The seed is mutated as case.vdi: it must not be found as a parent candidate itself.
                break;
        }
        return path;
    }

    /// <summary>The header sector and the block map.</summary>
    internal static List<(long Offset, long Length)> HotRanges(byte[] file)
    {
        var hot = new List<(long, long)> { (0, Math.Min(file.Length, 512)) };
        if (file.Length < 512) return hot;
        long map = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(340));
        long blocks = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(384));
        if (map > 0 && map < file.Length) hot.Add((map, Math.Min(Math.Max(blocks * 4, 4), file.Length - map)));
        return hot;
    }
}
