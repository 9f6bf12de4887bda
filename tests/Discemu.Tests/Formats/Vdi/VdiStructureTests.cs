using System.Buffers.Binary;
using Discemu.Formats;
using Discemu.Formats.Vdi;
using Discemu.Tests.Infrastructure;
using static Discemu.Tests.Formats.Vhd.DiskTestKit;

namespace Discemu.Tests.Formats.Vdi;

/// <summary>The VDI header's validation and the block map's markers.</summary>
public sealed class VdiStructureTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Make(long size = 4L << 20)
    {
        string path = _dir.File("t.vdi");
        using (var vdi = VdiFormat.Instance.Create(new ImageCreateRequest(path, size, CreateOptions.Empty, ImageOpener.Default)))
            vdi.Write(0, Enumerable.Repeat((byte)0xAB, 3 << 20).ToArray());
        return path;
    }

    [Theory]
    [InlineData(68, 0x00010000u, typeof(UnsupportedFeatureException))] // version 1.0
    [InlineData(76, 3u, typeof(UnsupportedFeatureException))]           // undo image
    [InlineData(76, 9u, typeof(CorruptImageException))]                 // unknown type
    [InlineData(360, 4096u, typeof(UnsupportedFeatureException))]       // sector size
    [InlineData(376, 3000u, typeof(CorruptImageException))]             // block size
    [InlineData(384, 1u, typeof(CorruptImageException))]                // fewer blocks than the disk needs
    [InlineData(72, 0x100u, typeof(CorruptImageException))]             // header size
    [InlineData(344, 516u, typeof(UnsupportedFeatureException))]        // unaligned data offset
    public void BadHeaderFieldsAreTypedErrors(int offset, uint value, Type error)
    {
        string path = Make();
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        Patch(path, offset, b);
        var e = Record.Exception(() => ImageOpener.Default.Open(path, new ImageOpenOptions { Format = "vdi" }));
        Assert.IsType(error, e);
    }

    [Fact]
    public void ZeroBlocksReadAsZerosAndMapPastTheFileIsCorrupt()
    {
        string path = Make();
        var header = VdiHeader.Read(ReadFile(path, 0, 512), path);
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, 0xFFFFFFFE);
        Patch(path, header.BlocksOffset + 4, b);
        using (var vdi = ImageOpener.Default.Open(path))
        {
            var buffer = new byte[1 << 20];
            vdi.Read(1 << 20, buffer);
            Assert.True(buffer.AsSpan().IndexOfAnyExcept((byte)0) < 0);
            var st = vdi.GetStatus(1 << 20, 1 << 20);
            Assert.True(st.IsZero && st.IsAllocated, st.ToString());
            vdi.Read(0, buffer);
            Assert.True(buffer.AsSpan().IndexOfAnyExcept((byte)0xAB) < 0);
        }
        // A map longer than the file: refused before allocating it.
        BinaryPrimitives.WriteUInt32LittleEndian(b, 0x1000000);
        Patch(path, 384, b);
        Patch(path, 344, [0, 0, 0, 0x40]); // data offset 1 GiB so the map "fits" before it
        var e = Assert.Throws<CorruptImageException>(() => ImageOpener.Default.Open(path));
        Assert.Contains("block map", e.Message);
    }
}
