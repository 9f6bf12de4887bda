using Discemu.Block;
using Discemu.FileSystems;
using Discemu.Formats;
using Discemu.Fuzz;
using Discemu.Tests.FileSystems.Udf;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Block;

/// <summary>
/// <see cref="HostMapping"/> through device stacks: wherever a range maps, the host file's bytes at the mapped places
/// are the device's bytes (checked at random ranges); devices whose bytes are not stored verbatim do not map.
/// </summary>
public sealed class HostMappingTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Save(string name, byte[] data)
    {
        string path = _dir.File(name);
        File.WriteAllBytes(path, data);
        return path;
    }

    /// <summary>Reads what <paramref name="extents"/> point at in their host files.</summary>
    private static byte[] ReadHost(List<HostExtent> extents)
    {
        var result = new byte[extents.Sum(e => e.Length)];
        int at = 0;
        foreach (var e in extents)
        {
            int n = RandomAccess.Read(e.Handle, result.AsSpan(at, (int)e.Length), e.Offset);
            Assert.Equal(e.Length, n);
            at += n;
        }
        return result;
    }

    /// <summary>For random ranges (and the whole device) that map, the host bytes equal the device's; returns how many mapped.</summary>
    private static int AssertMappedRangesMatch(BlockDevice device, int seed, int tries = 200)
    {
        var rng = new Random(seed);
        var extents = new List<HostExtent>();
        int mapped = 0;
        var ranges = Enumerable.Range(0, tries).Select(_ =>
        {
            long offset = rng.NextInt64(device.Length);
            return (offset, Math.Min(device.Length - offset, rng.NextInt64(1, 300_000)));
        }).Prepend((0L, device.Length)).Where(r => r.Item2 > 0);
        foreach (var (offset, length) in ranges)
        {
            if (!HostMapping.TryMapAll(device, offset, length, extents, int.MaxValue)) continue;
            Assert.Equal(length, extents.Sum(e => e.Length));
            var expected = new byte[length];
            device.Read(offset, expected);
            Assert.Equal(expected, ReadHost(extents));
            mapped++;
        }
        return mapped;
    }

    [Fact]
    public void RawImagesPartitionsAndSplitSetsMapOntoTheirFiles()
    {
        var rng = new Random(1);
        var a = new byte[1_000_000];
        var b = new byte[777_777];
        rng.NextBytes(a);
        rng.NextBytes(b);
        string whole = Save("disk.img", a);
        using (var image = ImageOpener.Default.Open(whole))
        {
            Assert.True(AssertMappedRangesMatch(image, 2) > 100);
            using var part = new SubRangeDevice(image, 4096 + 512, 600_000);
            Assert.True(AssertMappedRangesMatch(part, 3) > 100);
            var handle = HostMapping.Map(image, 0, 1)!.Value.Handle;
            Assert.Equal(new HostExtent(handle, 4096 + 512 + 10, 5), HostMapping.Map(part, 10, 5));
        }
        Save("split.001", a);
        Save("split.002", b);
        using var split = ImageOpener.Default.Open(_dir.File("split.001"));
        Assert.Equal(a.Length + b.Length, split.Length);
        Assert.True(AssertMappedRangesMatch(split, 4) > 100);
        // A range across the two pieces maps to two host ranges.
        var extents = new List<HostExtent>();
        Assert.True(HostMapping.TryMapAll(split, a.Length - 10, 20, extents, 8));
        Assert.Equal(2, extents.Count);
        Assert.False(HostMapping.TryMapAll(split, a.Length - 10, 20, extents, 1)); // more ranges than allowed
    }

    [Fact]
    public void IsoMultiExtentAndUdfFilesMapWhereStoredVerbatim()
    {
        string iso = Save("multi.iso", IsoSeeds.MultiExtent().Build());
        using (var image = ImageOpener.Default.Open(iso))
        using (var fs = FileSystemRegistry.Default.Open(image))
        using (var content = fs.OpenFile(fs.ListDirectory(fs.Root).Single()))
        {
            Assert.Equal(4096 + 2048 + 100, content.Length);
            Assert.True(AssertMappedRangesMatch(content, 5) > 100);
        }
        string udf = Save("hand.udf", UdfHandMadeTests.Sample(0x0250).Build());
        using (var image = ImageOpener.Default.Open(udf))
        using (var fs = FileSystemRegistry.Default.Open(image))
        {
            var extents = new List<HostExtent>();
            foreach (var name in new[] { "/random.bin", "/ext-ad.bin" })
            {
                using var content = fs.OpenFile(fs.Lookup(name));
                Assert.True(AssertMappedRangesMatch(content, 6) > 100, name);
            }
            using (var embedded = fs.OpenFile(fs.Lookup("/readme.txt")))
                Assert.False(HostMapping.TryMapAll(embedded, 0, embedded.Length, extents, 8)); // stored in the file entry
            using var split = fs.OpenFile(fs.Lookup("/split.bin"));
            Assert.False(HostMapping.TryMapAll(split, 0, split.Length, extents, 8)); // its second sector is an unrecorded run
            Assert.True(HostMapping.TryMapAll(split, 0, 2048, extents, 8));
            AssertMappedRangesMatch(split, 7);
        }
    }

    [Fact]
    public void DevicesNotStoredVerbatimDoNotMap()
    {
        using var memory = new MemoryDevice(new byte[8192]);
        Assert.Null(HostMapping.Map(memory, 0, 4096));
        PeerTools.Require("qemu-img");
        string raw = Save("d.img", new byte[1 << 20]);
        string qcow2 = _dir.File("d.qcow2");
        PeerTools.RunOk("qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, qcow2);
        using var image = ImageOpener.Default.Open(qcow2);
        Assert.Null(HostMapping.Map(image, 0, 4096));
        using var part = new SubRangeDevice(image, 4096, 8192);
        Assert.Null(HostMapping.Map(part, 0, 4096));
        // Empty and out-of-range queries answer null rather than throwing.
        using var rawImage = ImageOpener.Default.Open(raw);
        Assert.Null(HostMapping.Map(rawImage, 0, 0));
        Assert.Null(HostMapping.Map(rawImage, 1 << 20, 10));
        Assert.Null(HostMapping.Map(rawImage, -1, 10));
        Assert.Equal(100, HostMapping.Map(rawImage, (1 << 20) - 100, 4096)?.Length);
    }
}
