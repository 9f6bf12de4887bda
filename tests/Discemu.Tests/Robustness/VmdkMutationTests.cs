using System.Buffers.Binary;
using Discemu.Formats;
using Discemu.Formats.Vmdk;
using Discemu.Fuzz;
using Discemu.Tests.Formats.Vmdk;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Robustness;

/// <summary>
/// Damaged VMDK images (every layout: qemu-img's sparse and stream images, VMware-layout streams,
/// zeroed grains, split extents, vmfsSparse, seSparse, the real image) must open and read or fail with
/// a typed error, never crash, hang or allocate without bound. Mutations favour the metadata: header,
/// descriptor, grain directories and tables, markers and the footer.
/// </summary>
public sealed class VmdkMutationTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string> Configs => ["monolithicSparse", "zeroed-grain", "qemu-stream", "vmware-stream", "split-extent", "split-descriptor", "cowd"];

    [Theory]
    [MemberData(nameof(Configs))]
    public void MutatedVmdkImagesFailTypedNeverCrash(string config)
    {
        var (seedPath, fileName, hot) = MakeSeed(config);
        MutationHarness.AssertPristineOpens(seedPath, "vmdk");
        MutationHarness.Run(_dir, $"vmdk-{config}", File.ReadAllBytes(seedPath), MutationHarness.Iterations(25), fileName, hot);
    }

    [Fact]
    public void MutatedRealVmdkFailsTypedNeverCrashes()
    {
        string path = TestData.Real("ext2.vmdk");
        MutationHarness.AssertPristineOpens(path, "vmdk");
        var bytes = File.ReadAllBytes(path);
        MutationHarness.Run(_dir, "vmdk-real-ext2", bytes, MutationHarness.Iterations(20), "case.vmdk", SparseHotRanges(bytes));
    }

    [Fact]
    public void MutatedSeSparseExtentsFailTypedNeverCrash()
    {
        var (descriptor, _) = VmdkSyntheticImages.SeSparse(_dir, "se");
        string extent = _dir.File("se-sesparse.vmdk");
        var seed = File.ReadAllBytes(extent);
        // The extent is opened through its descriptor, so the harness's one-file loop does not fit: the same checks, by hand.
        var hot = new List<(long, long)> { (0, 512), (512, 512), (4 * 512, 512), ((8 + 64) * 512, 4096) };
        var rng = new Random(MutationHarness.Iterations(20) * 31 + 7);
        for (int i = 0; i < MutationHarness.Iterations(20); i++)
        {
            var log = new List<string>();
            File.WriteAllBytes(extent, new Mutator(rng).Mutate(seed, hot, log));
            Exception? failure = null;
            var thread = new Thread(() =>
            {
                try
                {
                    using var image = ImageOpener.Default.Open(descriptor);
                    FuzzTargets.Exercise(image, 16L << 20);
                }
                catch (DiscemuException) { }
                catch (Exception e) { failure = e; }
            }, 16 << 20);
            thread.Start();
            Assert.True(thread.Join(TimeSpan.FromSeconds(60)), $"seSparse case {i} [{string.Join(", ", log)}] hung");
            Assert.True(failure is null, $"seSparse case {i} [{string.Join(", ", log)}]: {failure}");
        }
    }

    [Fact]
    public void FuzzSeedsReallyParse()
    {
        // Seeds rejected up front would leave the fuzzer exploring nothing but the first check.
        foreach (var (target, name, data) in FuzzSeeds.All())
        {
            switch (target)
            {
                case "vmdk-descriptor":
                    Assert.NotEmpty(VmdkDescriptor.Parse(data, name).Extents);
                    break;
                case "vmdk-sparse-header":
                    SparseExtentHeader.Read(data, name);
                    break;
                case "image" when name.StartsWith("vmdk", StringComparison.Ordinal):
                    string path = _dir.File(name + ".vmdk");
                    File.WriteAllBytes(path, data);
                    using (var image = ImageOpener.Default.Open(path))
                    {
                        var first = new byte[65536];
                        image.Read(0, first);
                        for (int i = 0; i < first.Length; i++)
                            Assert.Equal(name == "vmdk-stream" ? (byte)(i / 300) : (byte)(i * 7), first[i]);
                        Assert.Equal(0, ((ICheckableImage)image).Check(CheckRepair.None).ExitCode);
                    }
                    break;
            }
        }
    }

    private (string Path, string FileName, List<(long Offset, long Length)> Hot) MakeSeed(string config)
    {
        PeerTools.Require("qemu-img");
        string src = VmdkTestKit.MixedSource(_dir, "src.raw", 2L << 20, seed: config.Length);
        string seed = _dir.File("seed.vmdk");
        switch (config)
        {
            case "monolithicSparse":
                VmdkTestKit.QemuImg("convert", "-f", "raw", "-O", "vmdk", src, seed);
                return (seed, "case.vmdk", SparseHotRanges(File.ReadAllBytes(seed)));
            case "zeroed-grain":
                VmdkTestKit.QemuImg("convert", "-f", "raw", "-O", "vmdk", "-o", "zeroed_grain=on", src, seed);
                VmdkTestKit.QemuIo(seed, "vmdk", "write -z 0 128k");
                return (seed, "case.vmdk", SparseHotRanges(File.ReadAllBytes(seed)));
            case "qemu-stream":
                VmdkTestKit.QemuImg("convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=streamOptimized", src, seed);
                return (seed, "case.vmdk", SparseHotRanges(File.ReadAllBytes(seed)));
            case "vmware-stream":
            {
                VmdkTestKit.Convert(src, seed, "subformat=streamOptimized");
                var bytes = File.ReadAllBytes(seed);
                var hot = new List<(long, long)> { (0, 512), (512, 1024), (128 * 512, 4096), (bytes.Length - 1536 - 3072, 3072 + 1536) };
                return (seed, "case.vmdk", hot);
            }
            case "split-extent":
            case "split-descriptor":
            {
                string split = _dir.File("split.vmdk");
                VmdkTestKit.QemuImg("convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=twoGbMaxExtentSparse", src, split);
                if (config == "split-descriptor") return (split, "split.vmdk", [(0, new FileInfo(split).Length)]);
                string extent = _dir.File("split-s001.vmdk");
                return (extent, "case.vmdk", SparseHotRanges(File.ReadAllBytes(extent)));
            }
            case "cowd":
            {
                VmdkSyntheticImages.Cowd(_dir);
                string extent = _dir.File("x-delta.vmdk");
                return (extent, "case.vmdk", [(0, 2048), (4 * 512, 512), (8 * 512, 2048)]);
            }
            default: throw new ArgumentException(config);
        }
    }

    /// <summary>The metadata of a hosted sparse extent: header, descriptor, both directories and their tables, and the first grain.</summary>
    private static List<(long Offset, long Length)> SparseHotRanges(byte[] file)
    {
        var hot = new List<(long, long)> { (0, 512) };
        long descriptor = BinaryPrimitives.ReadInt64LittleEndian(file.AsSpan(28)), descriptorSectors = BinaryPrimitives.ReadInt64LittleEndian(file.AsSpan(36));
        long rgd = BinaryPrimitives.ReadInt64LittleEndian(file.AsSpan(48)), gd = BinaryPrimitives.ReadInt64LittleEndian(file.AsSpan(56));
        long overhead = BinaryPrimitives.ReadInt64LittleEndian(file.AsSpan(64));
        if (descriptor > 0) hot.Add((descriptor * 512, Math.Min(descriptorSectors, 4) * 512));
        foreach (long table in new[] { rgd, gd })
            if (table > 0 && table * 512 < file.Length) hot.Add((table * 512, Math.Min(2560, file.Length - table * 512)));
        if (overhead * 512 < file.Length) hot.Add((overhead * 512, Math.Min(1024, file.Length - overhead * 512)));
        return hot;
    }
}
