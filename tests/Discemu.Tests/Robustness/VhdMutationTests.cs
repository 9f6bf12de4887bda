using System.Buffers.Binary;
using Discemu.Formats;
using Discemu.Formats.Vhd;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Robustness;

/// <summary>
/// Damaged VHDs (qemu-img's, Discemu's, Windows' and a differencing disk over its parent) must open and read
/// or fail with a typed error: mutations favour the footers, the dynamic header, the block allocation table,
/// the first blocks' bitmaps and the parent locators.
/// </summary>
public sealed class VhdMutationTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string> Seeds => ["qemu-dynamic", "qemu-fixed", "discemu-dynamic", "discemu-differencing", "ext2.vhd", "fat-differential.vhd"];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void MutatedVhdsFailTypedNeverCrash(string seed)
    {
        string path = MakeSeed(seed);
        string name = seed == "fat-differential.vhd" ? "fat-differential.vhd" : "case.vhd";
        if (seed != "fat-differential.vhd") MutationHarness.AssertPristineOpens(path, "vpc");
        MutationHarness.Run(_dir, $"vhd-{seed}", File.ReadAllBytes(path), MutationHarness.Iterations(25), name, HotRanges(File.ReadAllBytes(path)));
    }

    private string MakeSeed(string seed)
    {
        var src = new byte[3 << 20];
        var rng = new Random(seed.Length);
        rng.NextBytes(src.AsSpan(0, 200_000));
        rng.NextBytes(src.AsSpan((2 << 20) + 1000, 5000));
        string raw = _dir.File("src.raw");
        File.WriteAllBytes(raw, src);
        string path = _dir.File("seed.vhd");
        switch (seed)
        {
            case "qemu-dynamic":
                PeerTools.RunOk("qemu-img", "convert", "-f", "raw", "-O", "vpc", raw, path);
                break;
            case "qemu-fixed":
                PeerTools.RunOk("qemu-img", "convert", "-f", "raw", "-O", "vpc", "-o", "subformat=fixed", raw, path);
                break;
            case "discemu-dynamic":
            case "discemu-differencing":
                string? parent = null;
                if (seed == "discemu-differencing")
                {
                    using (var p = VhdFormat.Instance.Create(new ImageCreateRequest(_dir.File("parent.vhd"), src.Length, CreateOptions.Empty, ImageOpener.Default)))
                        p.Write(0, src);
                    parent = "parent.vhd";
                }
                using (var image = VhdFormat.Instance.Create(new ImageCreateRequest(path, src.Length, CreateOptions.Empty, ImageOpener.Default) { BackingFile = parent }))
                {
                    image.Write(4096, src.AsSpan(0, 100_000));
                    image.Write((2 << 20) - 300, src.AsSpan(0, 1000));
                }
                break;
            case "fat-differential.vhd":
                // With a stand-in parent (the recorded unique id, zero content) next to the mutated copy.
                File.Copy(TestData.Real(seed), path);
                var id = new Guid(File.ReadAllBytes(path).AsSpan(512 + 40, 16), bigEndian: true);
                string stand = _dir.File("fat-parent.vhd");
                using (VhdFormat.Instance.Create(new ImageCreateRequest(stand, 4194304, CreateOptions.Empty, ImageOpener.Default))) { }
                long length = new FileInfo(stand).Length;
                var bytes = File.ReadAllBytes(stand);
                foreach (long at in new[] { 0L, length - 512 })
                {
                    id.TryWriteBytes(bytes.AsSpan((int)at + 68, 16), bigEndian: true, out _);
                    BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan((int)at + 64), VhdFooter.Checksum(bytes.AsSpan((int)at, 512), 64));
                }
                File.WriteAllBytes(stand, bytes);
                break;
            default:
                File.Copy(TestData.Real(seed), path);
                break;
        }
        return path;
    }

    /// <summary>The footers, the dynamic header, the BAT, the first blocks' bitmaps and the locator data.</summary>
    internal static List<(long Offset, long Length)> HotRanges(byte[] file)
    {
        var hot = new List<(long, long)> { (0, Math.Min(file.Length, 2048)), (Math.Max(0, file.Length - 512), Math.Min(file.Length, 512)) };
        if (file.Length < 1536 || !VhdFooter.HasCookie(file)) return hot;
        long headerAt = (long)BinaryPrimitives.ReadUInt64BigEndian(file.AsSpan(16));
        if (headerAt < 0 || headerAt > file.Length - 1024) return hot;
        var header = file.AsSpan((int)headerAt, 1024);
        long table = (long)BinaryPrimitives.ReadUInt64BigEndian(header[16..]);
        long entries = BinaryPrimitives.ReadUInt32BigEndian(header[28..]);
        if (table <= 0 || table >= file.Length) return hot;
        hot.Add((table, Math.Min(entries * 4, file.Length - table)));
        for (int i = 0; i < Math.Min(entries, 8); i++)
        {
            if (table + i * 4 + 4 > file.Length) break;
            uint e = BinaryPrimitives.ReadUInt32BigEndian(file.AsSpan((int)(table + i * 4)));
            long at = e * 512L;
            if (e != 0xFFFFFFFF && at < file.Length) hot.Add((at, Math.Min(512, file.Length - at)));
        }
        for (int i = 0; i < 8; i++)
        {
            var l = header.Slice(576 + 24 * i, 24);
            long at = (long)BinaryPrimitives.ReadUInt64BigEndian(l[16..]);
            uint length = BinaryPrimitives.ReadUInt32BigEndian(l[8..]);
            if (BinaryPrimitives.ReadUInt32BigEndian(l) != 0 && at > 0 && at < file.Length) hot.Add((at, Math.Min(Math.Max(length, 1u), file.Length - at)));
        }
        return hot;
    }
}
