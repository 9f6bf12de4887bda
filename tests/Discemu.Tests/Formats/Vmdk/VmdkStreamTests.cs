using System.Buffers.Binary;
using Discemu.Formats;
using Discemu.Tests.Infrastructure;
using static Discemu.Tests.Formats.Vmdk.VmdkTestKit;

namespace Discemu.Tests.Formats.Vmdk;

/// <summary>The streamOptimized writer: VMware's layout, the write-once order, flushes that leave a complete image.</summary>
public sealed class VmdkStreamTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private const ulong GdAtEnd = ulong.MaxValue;

    [Fact]
    public void LayoutIsTheOneVmwareToolsExpect()
    {
        PeerTools.Require("qemu-img");
        string src = MixedSource(_dir, "src.raw", 40L << 20, seed: 21, 35L << 20);
        string image = _dir.File("s.vmdk");
        Convert(src, image, "subformat=streamOptimized,adapter_type=lsilogic");
        var b = File.ReadAllBytes(image);
        // Header: version 3, newline test + compressed + markers, deflate, GD at end, no redundant GD.
        Assert.Equal("KDMV"u8.ToArray(), b[..4]);
        Assert.Equal(3u, U32(b, 4));
        Assert.Equal(0x30001u, U32(b, 8));
        Assert.Equal(128ul, U64(b, 20));
        Assert.Equal(1ul, U64(b, 28));
        Assert.Equal(0ul, U64(b, 48));
        Assert.Equal(GdAtEnd, U64(b, 56));
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(77)));
        Assert.Equal("\n \r\n"u8.ToArray(), b[73..77]);
        // The stream: grains with increasing LBAs, each grain table after its grains, then the directory, footer and end-of-stream marker.
        long pos = (long)U64(b, 64) * 512;
        ulong lastLba = 0;
        int grains = 0, tables = 0;
        long gdSector = -1;
        var seen = new List<uint>();
        while (true)
        {
            ulong value = U64(b, (int)pos);
            uint size = U32(b, (int)pos + 8);
            if (size != 0)
            {
                Assert.True(grains == 0 || value > lastLba, $"grain LBA {value} after {lastLba}");
                Assert.Equal(0x78, b[pos + 12]); // a zlib stream
                lastLba = value;
                grains++;
                pos += (12 + size + 511) / 512 * 512;
                continue;
            }
            uint type = U32(b, (int)pos + 12);
            seen.Add(type);
            if (type == 0) break;
            if (type == 1) { tables++; Assert.Equal(4ul, value); }
            if (type == 2) gdSector = pos / 512 + 1;
            if (type == 3)
            {
                var footer = b.AsSpan((int)pos + 512, 512);
                Assert.Equal(b.AsSpan(0, 56).ToArray(), footer[..56].ToArray());
                Assert.Equal((ulong)gdSector, BinaryPrimitives.ReadUInt64LittleEndian(footer[56..]));
                Assert.Equal(b.AsSpan(64, 448).ToArray(), footer[64..].ToArray());
            }
            pos += 512 + (long)value * 512;
        }
        Assert.Equal(b.Length, pos + 512);
        Assert.True(b.AsSpan((int)pos, 512).IndexOfAnyExcept((byte)0) < 0);
        Assert.Equal([1, 1, 2, 3, 0], seen); // two grain tables (the empty ones between are left out), directory, footer, end
        Assert.Equal(2, tables);
        Assert.True(grains > 20);
        string d = DescriptorOf(image);
        foreach (var line in new[] { "createType=\"streamOptimized\"", "ddb.adapterType = \"lsilogic\"", "ddb.virtualHWVersion = \"4\"", "ddb.geometry.heads = \"255\"",
            "ddb.geometry.sectors = \"63\"", "ddb.toolsInstallType = \"4\"", "ddb.toolsVersion = \"2147483647\"", "ddb.longContentID = \"", "ddb.uuid = \"", "RW 81920 SPARSE \"s.vmdk\"" })
            Assert.Contains(line, d);
        AssertQemuCheckClean(image);
        AssertQemuCompare(image, src);
    }

    private static uint U32(byte[] b, int at) => BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(at));

    private static ulong U64(byte[] b, int at) => BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(at));

    [Fact]
    public void WritesMustComeFrontToBack()
    {
        using var image = Create(_dir.File("o.vmdk"), 8 << 20, "subformat=streamOptimized");
        image.Write(4 << 20, Pattern(1000, 1));
        image.Write((4 << 20) - 0, Pattern(10, 2)); // the chunk being filled may be rewritten
        image.Write(5 << 20, Pattern(1000, 3));
        var e = Assert.Throws<UnsupportedFeatureException>(() => image.Write(0, new byte[1]));
        Assert.Contains("front to back", e.Message);
        Assert.Throws<UnsupportedFeatureException>(() => image.WriteZeroes(4 << 20, 512));
        image.WriteZeroes(6 << 20, 2 << 20); // ahead of the data: nothing to store
    }

    [Fact]
    public void EveryFlushLeavesACompleteImageAndWritingGoesOn()
    {
        PeerTools.Require("qemu-img");
        string image = _dir.File("f.vmdk"), snapshot = _dir.File("snap.vmdk");
        var model = new byte[6 << 20];
        using (var writer = Create(image, model.Length, "subformat=streamOptimized"))
        {
            var first = Pattern(2_500_000, 1);
            writer.Write(100, first);
            first.CopyTo(model, 100);
            writer.Flush();
            File.Copy(image, snapshot);
            var second = Pattern(1_000_000, 2);
            writer.Write(2_600_000, second);
            second.CopyTo(model, 2_600_000);
            Assert.Equal(model, ReadAll(writer)); // reads see the chunk being filled and what is in the file
        }
        var partial = new byte[model.Length];
        model.AsSpan(0, 2_500_100).CopyTo(partial);
        File.WriteAllBytes(_dir.File("partial.raw"), partial);
        AssertQemuCompare(snapshot, _dir.File("partial.raw"));
        File.WriteAllBytes(_dir.File("model.raw"), model);
        AssertQemuCompare(image, _dir.File("model.raw"));
        AssertQemuCheckClean(image);
    }

    [Fact]
    public void AnEmptyStreamIsAValidImage()
    {
        PeerTools.Require("qemu-img");
        string image = _dir.File("e.vmdk");
        using (Create(image, 3 << 20, "subformat=streamOptimized")) { }
        AssertQemuCheckClean(image);
        File.WriteAllBytes(_dir.File("zero.raw"), new byte[3 << 20]);
        AssertQemuCompare(image, _dir.File("zero.raw"));
        using var back = Open(image);
        Assert.False(back.GetStatus(0, back.Length).IsAllocated);
    }

    [Fact]
    public void DirectoryOffsetInTheHeaderInsteadOfAtTheEndReadsToo()
    {
        PeerTools.Require("qemu-img");
        string src = MixedSource(_dir, "src.raw", 3L << 20, seed: 5);
        string image = _dir.File("h.vmdk");
        Convert(src, image, "subformat=streamOptimized");
        var b = File.ReadAllBytes(image);
        ulong gd = U64(b, b.Length - 1024 + 56);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(56), gd);
        File.WriteAllBytes(image, b);
        using (var back = Open(image)) AssertSameContent(src, back, "GD offset in the header");
        AssertQemuCompare(image, src);
    }

    [Fact]
    public void ATruncatedStreamIsRefusedClearly()
    {
        string src = MixedSource(_dir, "src.raw", 2L << 20, seed: 6);
        string image = _dir.File("t.vmdk");
        Convert(src, image, "subformat=streamOptimized");
        var b = File.ReadAllBytes(image);
        File.WriteAllBytes(image, b[..^700]);
        var e = Assert.Throws<CorruptImageException>(() => Open(image));
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void CompressedGrainWithTheWrongLbaIsCorrupt()
    {
        string src = MixedSource(_dir, "src.raw", 2L << 20, seed: 7);
        string image = _dir.File("l.vmdk");
        Convert(src, image, "subformat=streamOptimized");
        var b = File.ReadAllBytes(image);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(128 * 512), 999);
        File.WriteAllBytes(image, b);
        using var back = Open(image);
        Assert.Throws<CorruptImageException>(() => back.Read(0, new byte[512]));
        var check = ((ICheckableImage)back).Check(CheckRepair.None);
        Assert.Equal(2, check.ExitCode);
    }
}
