using System.Buffers.Binary;
using Discemu.Fuzz;
using Discemu.Tests.FileSystems.Udf;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Robustness;

/// <summary>
/// Damaged UDF images (random mutations of mkudffs volumes and <see cref="HandUdf"/> images with files) must
/// open and walk, or fail with a typed error — never crash, hang or allocate without bound. Each case goes
/// through the <c>udf</c> fuzz target (probe, open, walk every directory, read every file) with
/// <see cref="MutationHarness"/>'s case count and the same time and allocation caps. Mutations favour the metadata: the recognition sequence, the
/// volume descriptor sequences and integrity descriptor, the anchors, and the partition's file set, file
/// entries, allocation extents and directories (everything but the file data).
/// </summary>
public sealed class UdfMutationTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string> Seeds => ["hand-1.02", "hand-2.01", "hand-2.50", "hand-2.50-512", "mkudffs-cdr-vat", "mkudffs-dvdrw-sparable"];

    private byte[] MakeSeed(string name)
    {
        switch (name)
        {
            case "hand-1.02": return UdfHandMadeTests.Sample(0x0102).Build();
            case "hand-2.01": return UdfHandMadeTests.Sample(0x0201).Build();
            case "hand-2.50": return UdfHandMadeTests.Sample(0x0250).Build();
            case "hand-2.50-512": return UdfHandMadeTests.Sample(0x0250, 512).Build();
        }
        PeerTools.Require("mkudffs");
        string path = _dir.File(name + ".udf");
        string media = name.Contains("cdr", StringComparison.Ordinal) ? "cdr" : "dvdrw";
        PeerTools.RunOk("mkudffs", "--media-type=" + media, "--new-file", path, media == "cdr" ? "1200" : "3072");
        return File.ReadAllBytes(path);
    }

    /// <summary>Every sector holding a descriptor tag (checksum valid), plus the recognition sequence: the metadata.</summary>
    private static List<(long Offset, long Length)> HotRanges(byte[] seed, int sectorSize)
    {
        var hot = new List<(long, long)> { (32768, 3 * 2048) };
        for (int at = 0; at + 16 <= seed.Length; at += sectorSize)
        {
            byte sum = 0;
            for (int i = 0; i < 16; i++) if (i != 4) sum += seed[at + i];
            if (sum == seed[at + 4] && BinaryPrimitives.ReadUInt16LittleEndian(seed.AsSpan(at + 2)) is 2 or 3) hot.Add((at, sectorSize));
        }
        return hot;
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void MutatedImagesWalkOrFailTyped(string seedName)
    {
        var seed = MakeSeed(seedName);
        using (var device = new Discemu.Block.MemoryDevice(seed))
        using (var fs = Discemu.FileSystems.FileSystemRegistry.Default.Open(device))
        {
            Assert.Equal("udf", fs.Type.Name);
            Assert.True(FuzzTargets.WalkFileSystem(fs, 1 << 20) >= (seedName.StartsWith("hand", StringComparison.Ordinal) ? 10 : 0), "the pristine seed must walk");
        }
        var hot = HotRanges(seed, seedName.EndsWith("512", StringComparison.Ordinal) ? 512 : 2048);
        Assert.True(hot.Count > 8, "the seed's descriptors must be found");
        MutationHarness.RunFuzzTarget("udf", seedName, seed, hot, MutationHarness.Iterations(40));
    }
}
