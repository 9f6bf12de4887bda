using Discemu.Block;
using Discemu.FileSystems;
using Discemu.Fuzz;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Robustness;

/// <summary>
/// Damaged ISO 9660 images (random mutations of images the peers and <see cref="HandIso"/> made) must open
/// and walk, or fail with a typed error — never crash, hang or allocate without bound. The walk is the
/// fuzz target's: every directory listed once, every file opened and read (bounded). Mutations favour the
/// metadata: the system area, the volume descriptors and everything up to the first file's data
/// (directories, path tables, continuation areas, boot catalog).
/// </summary>
public sealed class Iso9660MutationTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string> Seeds => ["genisoimage-rr-joliet", "xorriso-zisofs-boot", "xorriso-multisession", "hand-rock-ridge", "hand-multi-extent", "hand-boot"];

    private string SmallTree()
    {
        string src = _dir.File("src");
        string deep = Path.Join(src, "a", "b", "c", "d", "e", "f", "g", "h", "i");
        Directory.CreateDirectory(deep);
        File.WriteAllText(Path.Join(deep, "deep.txt"), "deep\n");
        File.WriteAllText(Path.Join(src, "text.txt"), string.Concat(Enumerable.Repeat("mutation seed text\n", 3000)));
        File.WriteAllText(Path.Join(src, new string('n', 120) + ".txt"), "long name\n");
        File.WriteAllText(Path.Join(src, "ünï.txt"), "unicode\n");
        File.CreateSymbolicLink(Path.Join(src, "link"), "a/b/../text.txt");
        File.WriteAllBytes(Path.Join(src, "boot.bin"), Enumerable.Range(0, 4096).Select(i => (byte)i).ToArray());
        return src;
    }

    private byte[] MakeSeed(string name)
    {
        string iso = _dir.File(name + ".iso");
        switch (name)
        {
            case "genisoimage-rr-joliet":
                PeerTools.RunOk("genisoimage", "-quiet", "-R", "-J", "-joliet-long", "-o", iso, SmallTree());
                break;
            case "xorriso-zisofs-boot":
                PeerTools.RunOk("xorriso", "-outdev", iso, "-joliet", "on", "-map", SmallTree(), "/", "-set_filter", "--zisofs", "/text.txt", "--",
                    "-boot_image", "any", "bin_path=/boot.bin", "-boot_image", "any", "emul_type=no_emulation", "-commit");
                break;
            case "xorriso-multisession":
                string src = SmallTree();
                PeerTools.RunOk("xorriso", "-dev", iso, "-map", Path.Join(src, "a"), "/a", "-commit");
                PeerTools.RunOk("xorriso", "-dev", iso, "-map", Path.Join(src, "text.txt"), "/text.txt", "-commit");
                break;
            case "hand-rock-ridge": return IsoSeeds.RockRidge().Build();
            case "hand-multi-extent": return IsoSeeds.MultiExtent().Build();
            case "hand-boot": return IsoSeeds.Boot().Build();
        }
        return File.ReadAllBytes(iso);
    }

    /// <summary>The system area, and from the volume descriptors up to the first byte of file data.</summary>
    private static List<(long Offset, long Length)> HotRanges(byte[] seed)
    {
        using var device = new MemoryDevice(seed);
        using var fs = FileSystemRegistry.Default.Open(device);
        long firstData = seed.Length;
        var stack = new Stack<FileSystemEntry>([fs.Root]);
        while (stack.Count > 0)
        {
            foreach (var e in fs.ListDirectory(stack.Pop()))
            {
                if (e.IsDirectory) { stack.Push(e); continue; }
                if (e.Kind != FileSystemEntryKind.File || e.Size == 0 || e.Name.StartsWith("Boot-", StringComparison.Ordinal)) continue;
                if (e is Discemu.FileSystems.Iso9660.IsoEntry { Extents: [var (offset, _), ..] }) firstData = Math.Min(firstData, offset);
            }
        }
        return [(0, 2048), (16 * 2048, Math.Max(2048, firstData - 16 * 2048))];
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void MutatedImagesWalkOrFailTyped(string seedName)
    {
        var seed = MakeSeed(seedName);
        Assert.True(FuzzTargets.WalkFileSystem(FileSystemRegistry.Default.Open(new MemoryDevice(seed)), 1 << 20) > 0, "the pristine seed must walk");
        var hot = HotRanges(seed);
        MutationHarness.RunFuzzTarget("iso9660", seedName, seed, hot, MutationHarness.Iterations(40), saltLastChar: false);
    }
}
