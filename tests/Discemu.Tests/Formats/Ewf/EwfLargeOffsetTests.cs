using System.Buffers.Binary;
using System.Text;
using Discemu.Formats.Ewf;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Formats.Ewf;

/// <summary>
/// Chunks more than 2 GiB into a segment file: EnCase 6 tables hold 31-bit offsets relative to a 64-bit
/// base offset. A written set is rebuilt sparsely with a 3 GiB unknown section before its sectors
/// section, so every later offset (and the table's base) moves past 2 GiB without writing 3 GiB.
/// </summary>
public sealed class EwfLargeOffsetTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void ReadsChunksPastTwoGiBThroughTheTableBaseOffset()
    {
        var media = EwfTestMedia.Mixed(40 * 4096, seed: 12);
        string small = _dir.File("small.E01");
        EwfTestMedia.WriteSet(small, media, new EwfWriterOptions { MediaSize = 0, SectorsPerChunk = 8, Compression = EwfCompression.Fast });
        var bytes = File.ReadAllBytes(small);

        // Find the sectors section; everything from there on moves by delta.
        long sectors = 13;
        while (Encoding.ASCII.GetString(bytes, (int)sectors, 7) != "sectors")
            sectors = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan((int)sectors + 16));
        const long gap = 3L << 30;
        long delta = 76 + gap;
        var tail = bytes.AsSpan((int)sectors).ToArray();
        for (long off = 0; off + 76 <= tail.Length;)
        {
            var d = tail.AsSpan((int)off, 76);
            string type = Encoding.ASCII.GetString(d[..16]).TrimEnd('\0');
            long next = BinaryPrimitives.ReadInt64LittleEndian(d[16..]);
            long size = BinaryPrimitives.ReadInt64LittleEndian(d[24..]);
            EwfSection.Write(d, type, next + delta, size);
            if (type is "table" or "table2")
            {
                var header = tail.AsSpan((int)off + 76, 24);
                BinaryPrimitives.WriteInt64LittleEndian(header[8..], BinaryPrimitives.ReadInt64LittleEndian(header[8..]) + delta);
                BinaryPrimitives.WriteUInt32LittleEndian(header[20..], Adler32.Compute(header[..20]));
            }
            if (type is "done" or "next") break;
            off = next - sectors;
        }
        string big = _dir.File("big.E01");
        using (var f = new FileStream(big, FileMode.Create, FileAccess.Write))
        {
            f.Write(bytes, 0, (int)sectors);
            var pad = new byte[76];
            EwfSection.Write(pad, "padding", sectors + delta, delta);
            f.Write(pad);
            f.SetLength(sectors + delta); // sparse: the gap costs no disk space
            f.Position = sectors + delta;
            f.Write(tail);
        }
        Assert.True(new FileInfo(big).Length > (3L << 30));
        using var image = EwfImage.Open(big);
        Assert.Equal(media, EwfTestMedia.ReadAll(image));
        Assert.Equal(0, image.Check(Discemu.Formats.CheckRepair.None).ExitCode);
    }
}
