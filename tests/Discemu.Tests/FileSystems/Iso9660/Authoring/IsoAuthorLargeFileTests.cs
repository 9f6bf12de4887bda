using Discemu.FileSystems.Iso9660.Authoring;
using Discemu.Tests.Infrastructure;
using static Discemu.Tests.FileSystems.Iso9660.IsoTestKit;
using static Discemu.Tests.FileSystems.Iso9660.Authoring.IsoAuthorKit;

namespace Discemu.Tests.FileSystems.Iso9660.Authoring;

/// <summary>A sparse 4.5 GiB file is recorded as a multi-extent file that we, xorriso, isoinfo and 7-Zip read back.</summary>
public sealed class IsoAuthorLargeFileTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void FileOfFourAndAHalfGiBIsMultiExtent()
    {
        string src = _dir.File("big-src");
        Directory.CreateDirectory(src);
        long size = 4L * 1024 * 1024 * 1024 + 512L * 1024 * 1024 + 3;
        var marks = new (long Offset, byte[] Data)[]
        {
            (0, "start"u8.ToArray()),
            (0xFFFFF800L - 2, "across the first extent's end"u8.ToArray()),
            (size - 9, "the end!!"u8.ToArray()),
        };
        using (var f = new FileStream(Path.Join(src, "big.bin"), FileMode.Create))
        {
            f.SetLength(size);
            foreach (var (offset, data) in marks) { f.Position = offset; f.Write(data); }
        }
        File.WriteAllText(Path.Join(src, "small.txt"), "small\n");
        Assert.Throws<BadArgumentException>(() => IsoAuthor.Plan(new IsoAuthorOptions { Sources = [src], Level = 2 }));
        string iso = Author(_dir.File("big.iso"), new IsoAuthorOptions { Sources = [src] });
        var (image, fs) = Open(iso);
        using (image)
        using (fs)
        {
            var e = fs.Lookup("/big.bin");
            Assert.Equal(size, e.Size);
            using var content = fs.OpenFile(e);
            foreach (var (offset, data) in marks)
            {
                var buf = new byte[data.Length];
                content.Read(offset, buf);
                Assert.Equal(data, buf);
            }
            var zeros = new byte[4096];
            content.Read(3L << 30, zeros);
            Assert.All(zeros, b => Assert.Equal(0, b));
            Assert.Equal(OurLsdl(fs), XorrisoLsdl(iso));
        }
        // isoinfo lists the file once per extent: a record of 4 GiB - 2 KiB (its flags printed oddly), then the rest.
        var records = PeerTools.RunOk("isoinfo", "-l", "-i", iso).Split('\n').Where(l => l.Contains("BIG.BIN;1"))
            .Select(l => long.Parse(System.Text.RegularExpressions.Regex.Match(l, @"(\d+) \w{3} +\d+ \d{4} \[").Groups[1].Value)).ToList();
        Assert.Equal([0xFFFFF800L, size - 0xFFFFF800L], records);
        Assert.Contains($"big.bin {size}", SevenZip(iso));
    }
}
