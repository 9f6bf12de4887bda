using Discemu.Formats.Vhdx;
using Discemu.Fuzz;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Robustness;

/// <summary>
/// Damaged VHDX images must open and read, or fail with a typed error — never crash, hang or allocate
/// without bound. Mutations favour the metadata: headers, region tables, the metadata region, the BAT,
/// the log (dirty logs are replayed on open) and the sector bitmaps of differencing images.
/// </summary>
public sealed class VhdxMutationTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string> Configs => ["dynamic", "fixed", "qemu", "dirty-log", "differencing", "4k"];

    /// <summary>Builds a seed image (and its parent, for the differencing one) in the test folder; returns its bytes and hot ranges.</summary>
    private (byte[] Seed, List<(long, long)> Hot) MakeSeed(string config)
    {
        string path = _dir.File("seed.vhdx");
        string options = config switch { "fixed" => "subformat=fixed,block_size=1M", "4k" => "logical_sector_size=4096,block_size=1M", _ => "block_size=1M" };
        switch (config)
        {
            case "qemu":
                PeerTools.Require("qemu-img");
                var raw = _dir.File("src.raw");
                var data = new byte[6 << 20];
                new Random(1).NextBytes(data.AsSpan(0, 1 << 20));
                new Random(2).NextBytes(data.AsSpan(3 << 20, 5000));
                File.WriteAllBytes(raw, data);
                PeerTools.RunOk("qemu-img", "convert", "-f", "raw", "-O", "vhdx", "-o", "block_size=1M", raw, path);
                break;
            case "dirty-log":
                Formats.Vhdx.VhdxLogTests.MakeDirtyImage(_dir, path);
                break;
            case "differencing":
                using (var parent = Formats.Vhdx.VhdxTestKit.Create(_dir.File("parent.vhdx"), 6 << 20, "block_size=1M"))
                    parent.Write(0, Formats.Vhdx.VhdxTestKit.Pattern(6 << 20, 3));
                using (var child = Formats.Vhdx.VhdxTestKit.Create(path, 6 << 20, "block_size=1M", "parent.vhdx", "vhdx"))
                {
                    child.Write(1000, Formats.Vhdx.VhdxTestKit.Pattern(3000, 4));
                    child.Write(2 << 20, Formats.Vhdx.VhdxTestKit.Pattern(1 << 20, 5));
                }
                break;
            default:
                using (var img = Formats.Vhdx.VhdxTestKit.Create(path, 6 << 20, options))
                {
                    img.Write(0, Formats.Vhdx.VhdxTestKit.Pattern(1 << 20, 6));
                    img.Write((3 << 20) + 512, Formats.Vhdx.VhdxTestKit.Pattern(9000, 7));
                }
                break;
        }
        var bytes = File.ReadAllBytes(path);
        File.Delete(path);
        // Hot ranges: the file identifier's signature, both headers, both region tables, and the start of
        // every region and of the log as the current header and region table name them.
        var hot = new List<(long, long)> { (0, 16), (64 << 10, 128), (128 << 10, 128), (192 << 10, 256), (256 << 10, 256) };
        using (var fs = new MemoryStream(bytes))
        {
            var h1 = bytes.AsSpan(64 << 10, 4096);
            var h2 = bytes.AsSpan(128 << 10, 4096);
            bool ok1 = VhdxHeader.TryRead(h1, out var a, out _), ok2 = VhdxHeader.TryRead(h2, out var b, out _);
            var h = ok1 && (!ok2 || a.SequenceNumber > b.SequenceNumber) ? a : b;
            hot.Add((h.LogOffset, 3 * 4096));
            if (VhdxRegionTable.TryRead(bytes.AsSpan(192 << 10, 64 << 10), out var table, out _))
                foreach (var r in table!.Regions) hot.Add((r.FileOffset, r.Id == VhdxConstants.MetadataRegion ? (64 << 10) + 256 : 4096));
        }
        return (bytes, hot);
    }

    [Theory]
    [MemberData(nameof(Configs))]
    public void MutatedVhdxImagesOpenAndReadOrFailTyped(string config)
    {
        var (seed, hot) = MakeSeed(config);
        string path = _dir.File("case.vhdx");
        File.WriteAllBytes(path, seed);
        MutationHarness.AssertPristineOpens(path, "vhdx");
        MutationHarness.Run(_dir, $"vhdx-{config}", seed, MutationHarness.Iterations(25), "case.vhdx", hot);
    }
}
