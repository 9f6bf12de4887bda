using System.Buffers.Binary;
using Discemu.Block;
using Discemu.FileSystems;
using Discemu.Fuzz;
using Discemu.Tests.Infrastructure;
using Discemu.Tests.FileSystems.Iso9660;
using static Discemu.Tests.FileSystems.Iso9660.IsoTestKit;

namespace Discemu.Tests.FileSystems.Udf;

/// <summary>
/// Images built from the spec by <see cref="HandUdf"/> (what mkudffs cannot make: files, metadata partitions,
/// extended file entries, allocation extent chains, sparse extents, symlinks, hard links), checked by udfinfo
/// and read back field by field; damaged ones give typed errors.
/// </summary>
public sealed class UdfHandMadeTests : IDisposable
{
    private static readonly DateTimeOffset T = new(2021, 3, 4, 5, 6, 7, TimeSpan.FromMinutes(60));
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    internal static byte[] Random(int n, int seed)
    {
        var b = new byte[n];
        new Random(seed).NextBytes(b);
        return b;
    }

    /// <summary>The standard hand-made tree (with a split file when the block size allows it).</summary>
    internal static HandUdf Sample(ushort revision, int sectorSize = 2048, bool breakMetadata = false, bool breakMain = false)
    {
        var udf = new HandUdf { Revision = revision, SectorSize = sectorSize, BreakMetadataFile = breakMetadata, BreakMainSequence = breakMain };
        var text = HandUdfNode.File("readme.txt", "Discemu reads UDF.\n"u8.ToArray(), HandUdfStorage.Embedded);
        var split = Random(3 * sectorSize + 100, 2);
        split.AsSpan(sectorSize, sectorSize).Clear();
        udf.Root.Children.AddRange(
        [
            text,
            HandUdfNode.File("random.bin", Random(10_000, 1)),
            HandUdfNode.File("ext-ad.bin", Random(3000, 4), HandUdfStorage.ExtendedAd),
            HandUdfNode.File("empty", []),
            new HandUdfNode { Name = "split.bin", Content = split, Storage = HandUdfStorage.Split, Mode = 0x1ED, Time = T.AddHours(5) },
            new HandUdfNode { Name = "Ünïcödé 日本語.txt", Content = "unicode\n"u8.ToArray(), Uid = 0, Gid = 0, Mode = 0x180 },
            new HandUdfNode { Name = "link", SymlinkTarget = "../dir/./inner.txt", Mode = 0x1FF },
            new HandUdfNode { Name = "abs-link", SymlinkTarget = "/etc/hostname", Mode = 0x1FF },
            new HandUdfNode { Name = "hard.txt", LinkOf = text },
            new HandUdfNode { Name = "hidden.txt", Content = "h\n"u8.ToArray(), Characteristics = 1 },
            new HandUdfNode { Name = "deleted.txt", LinkOf = text, Characteristics = 4 },
            HandUdfNode.Dir("dir", HandUdfNode.File("inner.txt", "inner\n"u8.ToArray()), HandUdfNode.Dir("empty-dir")),
        ]);
        return udf;
    }

    private string Save(byte[] image, string name = "hand.udf")
    {
        string path = _dir.File(name);
        File.WriteAllBytes(path, image);
        return path;
    }

    public static TheoryData<ushort, int> Variants => new()
    {
        { 0x0102, 2048 }, { 0x0150, 2048 }, { 0x0201, 2048 }, { 0x0250, 2048 }, { 0x0260, 2048 }, { 0x0201, 512 }, { 0x0250, 4096 },
    };

    [Theory]
    [MemberData(nameof(Variants))]
    public void HandMadeTreeReadsBack(ushort revision, int sectorSize)
    {
        var image = Sample(revision, sectorSize).Build();
        using var device = new MemoryDevice(image);
        Assert.Equal("udf", FileSystemRegistry.Default.Detect(device)?.Name);
        using var fs = FileSystemRegistry.Default.Open(device);
        var info = fs.Info.ToDictionary(k => k.Key, k => k.Value);
        Assert.Equal($"{revision >> 8:x}.{revision & 0xFF:x2}", info["udf-revision"]);
        Assert.Equal(sectorSize, info["logical-block-size"]);
        Assert.Equal("Hand made UDF", fs.Label);
        Assert.Equal("HANDFS", info["file-set-id"]);
        var kinds = ((List<object?>)info["partitions"]!).Cast<Dictionary<string, object?>>().Select(p => p["type"]).ToList();
        Assert.Equal(revision >= 0x0250 ? ["physical", "metadata"] : new object?[] { "physical" }, kinds);

        var split = Sample(revision, sectorSize).Root.Children.Single(c => c.Name == "split.bin").Content;
        var expected = new List<TreeItem>
        {
            new("/abs-link", 'l', 0, null, null, null, "/etc/hostname"),
            new("/dir", 'd', 0, null, T.ToUnixTimeSeconds(), 0x1ED, null),
            new("/dir/empty-dir", 'd', 0, null, T.ToUnixTimeSeconds(), 0x1ED, null),
            new("/dir/inner.txt", 'f', 6, Hash("inner\n"u8.ToArray()), T.ToUnixTimeSeconds(), 0x1A4, null),
            new("/empty", 'f', 0, Hash([]), T.ToUnixTimeSeconds(), 0x1A4, null),
            new("/ext-ad.bin", 'f', 3000, Hash(Random(3000, 4)), T.ToUnixTimeSeconds(), 0x1A4, null),
            new("/hard.txt", 'f', 19, Hash("Discemu reads UDF.\n"u8.ToArray()), T.ToUnixTimeSeconds(), 0x1A4, null),
            new("/hidden.txt", 'f', 2, Hash("h\n"u8.ToArray()), T.ToUnixTimeSeconds(), 0x1A4, null),
            new("/link", 'l', 0, null, null, null, "../dir/./inner.txt"),
            new("/random.bin", 'f', 10_000, Hash(Random(10_000, 1)), T.ToUnixTimeSeconds(), 0x1A4, null),
            new("/readme.txt", 'f', 19, Hash("Discemu reads UDF.\n"u8.ToArray()), T.ToUnixTimeSeconds(), 0x1A4, null),
            new("/split.bin", 'f', split.Length, Hash(split), T.AddHours(5).ToUnixTimeSeconds(), 0x1ED, null),
            new("/Ünïcödé 日本語.txt", 'f', 8, Hash("unicode\n"u8.ToArray()), T.ToUnixTimeSeconds(), 0x180, null),
        };
        AssertSame(expected, FsSnapshot(fs));

        var readme = fs.Lookup("/readme.txt");
        var hard = fs.Lookup("/hard.txt");
        Assert.Equal(readme.Identity, hard.Identity);
        Assert.Equal(2, readme.Links);
        Assert.Equal(1000u, readme.Uid);
        Assert.Equal(100u, readme.Gid);
        Assert.Equal(0u, fs.Lookup("/Ünïcödé 日本語.txt").Uid);
        Assert.Equal(TimeSpan.FromHours(1), readme.Modified!.Value.Offset);
        Assert.Equal(T.AddHours(1), readme.Changed);
        if (revision >= 0x0200) Assert.Equal(T.AddDays(-1), readme.Created);
        else Assert.Null(readme.Created);
        Assert.Equal(FileAttributes.Hidden, fs.Lookup("/hidden.txt").Attributes);
        Assert.Null(fs.TryLookup("/deleted.txt"));
        Assert.Null(fs.TryLookup("/README.TXT")); // names are case-sensitive
        Assert.Equal(0xA1FFu, fs.Lookup("/link").Mode);
        Assert.Equal(0x41EDu, fs.Lookup("/dir").Mode);
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void UdfinfoAcceptsTheHandMadeImage(ushort revision, int sectorSize)
    {
        PeerTools.Require("udfinfo");
        string path = Save(Sample(revision, sectorSize).Build());
        var (code, stdout, stderr) = PeerTools.Run("udfinfo", ["--blocksize=" + sectorSize, path]);
        Assert.True(code == 0, $"udfinfo failed ({code}): {stderr}");
        Assert.DoesNotContain("Error", stderr, StringComparison.Ordinal);
        var fields = stdout.Split('\n').Where(l => l.Contains('=')).Select(l => l.Split('=', 2)).GroupBy(p => p[0]).ToDictionary(g => g.Key, g => g.First()[1]);
        Assert.Equal("Hand made UDF", fields["lvid"]);
        Assert.Equal("HANDUDF", fields["vid"]);
        Assert.Equal("HANDFS", fields["fsid"]);
        Assert.Equal(sectorSize.ToString(System.Globalization.CultureInfo.InvariantCulture), fields["blocksize"]);
        Assert.Equal($"{revision >> 8:x}.{revision & 0xFF:x2}", fields["udfrev"]);
        Assert.Equal("closed", fields["integrity"]);
    }

    [Fact]
    public void MirrorFileIsUsedWhenTheMetadataFileIsDamaged()
    {
        using var device = new MemoryDevice(Sample(0x0250, breakMetadata: true).Build());
        using var fs = FileSystemRegistry.Default.Open(device);
        var metadata = ((List<object?>)fs.Info.Single(i => i.Key == "partitions").Value!).Cast<Dictionary<string, object?>>().Single(p => (string?)p["type"] == "metadata");
        Assert.Equal(true, metadata["uses-mirror"]);
        Assert.Equal(13, FsSnapshot(fs).Count);
    }

    [Fact]
    public void ReserveSequenceIsUsedWhenTheMainOneIsDamaged()
    {
        using var device = new MemoryDevice(Sample(0x0201, breakMain: true).Build());
        using var fs = FileSystemRegistry.Default.Open(device);
        Assert.Equal("reserve", fs.Info.Single(i => i.Key == "descriptor-sequence").Value);
        Assert.Equal(13, FsSnapshot(fs).Count);
    }

    [Fact]
    public void DirectoryLoopIsATypedError()
    {
        var udf = new HandUdf { Revision = 0x0201 };
        var sub = HandUdfNode.Dir("sub");
        udf.Root.Children.Add(sub);
        sub.Children.Add(new HandUdfNode { Name = "back-to-root", LinkOf = udf.Root });
        using var device = new MemoryDevice(udf.Build());
        using var fs = FileSystemRegistry.Default.Open(device);
        var e = Assert.Throws<CorruptImageException>(() => fs.ListDirectory(fs.Lookup("/sub")));
        Assert.Contains("loops", e.Message, StringComparison.Ordinal);
    }

    /// <summary>Finds the file entry of <paramref name="name"/>'s node in the image (its unique id is known from the tree order).</summary>
    private static int FindEntry(byte[] image, ulong size, int sectorSize)
    {
        for (int at = 0; at + sectorSize <= image.Length; at += sectorSize)
        {
            ushort tag = BinaryPrimitives.ReadUInt16LittleEndian(image.AsSpan(at));
            if (tag is 261 or 266 && BinaryPrimitives.ReadUInt64LittleEndian(image.AsSpan(at + 56)) == size) return at;
        }
        throw new InvalidOperationException("entry not found");
    }

    private static void Retag(byte[] image, int at, int sectorSize)
    {
        int crcLength = BinaryPrimitives.ReadUInt16LittleEndian(image.AsSpan(at + 10));
        HandUdf.Tag(image.AsSpan(at, sectorSize), BinaryPrimitives.ReadUInt16LittleEndian(image.AsSpan(at)), BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(at + 12)), crcLength + 16);
    }

    [Fact]
    public void OverlappingExtentsAreATypedError()
    {
        var udf = new HandUdf { Revision = 0x0201 };
        var content = Random(3 * 2048 + 100, 5);
        content.AsSpan(2048, 2048).Clear();
        udf.Root.Children.Add(new HandUdfNode { Name = "split.bin", Content = content, Storage = HandUdfStorage.Split });
        var image = udf.Build();
        // The allocation extent descriptor's last extent is moved onto the first one.
        for (int at = 0; at < image.Length; at += 2048)
        {
            if (BinaryPrimitives.ReadUInt16LittleEndian(image.AsSpan(at)) != 258) continue;
            uint first = BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(at + 40 + 4)) - 2;
            BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(at + 40 + 4), first);
            Retag(image, at, 2048);
        }
        using var device = new MemoryDevice(image);
        using var fs = FileSystemRegistry.Default.Open(device);
        var e = Assert.Throws<CorruptImageException>(() => fs.OpenFile(fs.Lookup("/split.bin")));
        Assert.Contains("overlap", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0x0000_0100_0000_0000UL)] // 1 TiB in a tiny image: the extents do not cover it
    [InlineData(0x7FFF_FFFF_FFFF_FFFFUL)] // absurd
    public void AbsurdSizesAreTypedErrors(ulong size)
    {
        var udf = new HandUdf { Revision = 0x0201 };
        udf.Root.Children.Add(HandUdfNode.File("big", Random(5000, 3)));
        var image = udf.Build();
        int at = FindEntry(image, 5000, 2048);
        BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan(at + 56), size);
        Retag(image, at, 2048);
        using var device = new MemoryDevice(image);
        Assert.ThrowsAny<DiscemuException>(() =>
        {
            using var fs = FileSystemRegistry.Default.Open(device);
            using var content = fs.OpenFile(fs.Lookup("/big"));
        });
    }

    [Fact]
    public void DamagedAnchorEverywhereIsATypedError()
    {
        var image = Sample(0x0201).Build();
        image[256 * 2048 + 4] ^= 1;
        image[image.Length - 2048 + 4] ^= 1;
        using var device = new MemoryDevice(image);
        Assert.Null(FileSystemRegistry.Default.Detect(device));
        Assert.Throws<CorruptImageException>(() => FileSystemRegistry.Default.Open(device, new FileSystemOpenOptions { Type = "udf" }));
    }

    [Fact]
    public void BackupAnchorIsUsedWhenSector256IsDamaged()
    {
        var image = Sample(0x0201).Build();
        image[256 * 2048 + 4] ^= 1;
        using var device = new MemoryDevice(image);
        using var fs = FileSystemRegistry.Default.Open(device);
        Assert.Equal((uint)(image.Length / 2048 - 1), fs.Info.Single(i => i.Key == "anchor-sector").Value);
    }
}
