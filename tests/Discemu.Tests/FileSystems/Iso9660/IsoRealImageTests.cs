using Discemu.Tests.Infrastructure;
using static Discemu.Tests.FileSystems.Iso9660.IsoTestKit;

namespace Discemu.Tests.FileSystems.Iso9660;

/// <summary>The real genisoimage image of ../shared/testdata/real, as a raw file and converted to QCOW2.</summary>
public sealed class IsoRealImageTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void ListsAndReadsWhatIsoinfoShows()
    {
        string iso = TestData.Real("iso9660.raw");
        var listing = Isoinfo(iso);
        var (image, fs) = Open(iso);
        using (image)
        using (fs)
        {
            Assert.Equal("CDROM", fs.Label);
            Assert.Equal(listing.Select(l => l.Directory + IsoNameOf(l.Name)).Order(StringComparer.Ordinal), FsSnapshot(fs).Select(i => i.Path).Order(StringComparer.Ordinal));
            foreach (var l in listing.Where(l => l.Mode[0] == '-'))
            {
                var entry = fs.Lookup(l.Directory + l.Name); // isoinfo's spelling, version included, works too
                Assert.Equal(l.Size, entry.Size);
                using var content = fs.OpenFile(entry);
                Assert.Equal(PeerTools.RunOk("isoinfo", "-i", iso, "-x", l.Directory + l.Name), System.Text.Encoding.Latin1.GetString(ReadAll(content)));
            }
            Assert.Equal(new DateTimeOffset(2021, 7, 22, 0, 0, 0, TimeSpan.Zero).Year, fs.Lookup("/PASSWORDS.TXT").Modified!.Value.Year);
        }
    }

    [Fact]
    public void ExtractsWhatIsoinfoExtracts()
    {
        string iso = TestData.Real("iso9660.raw");
        string output = _dir.File("out");
        var (image, fs) = Open(iso);
        using var _ = image;
        using var __ = fs;
        new Discemu.Operations.FileExtractor(fs, new Discemu.Operations.FileExtractOptions()).Extract(fs.Root, output);
        var files = Isoinfo(iso).Where(l => l.Mode[0] == '-').ToList();
        Assert.Equal(files.Count, Directory.GetFiles(output, "*", SearchOption.AllDirectories).Length);
        foreach (var l in files)
        {
            string host = Path.Join(output, l.Directory, IsoNameOf(l.Name));
            Assert.Equal(PeerTools.RunOk("isoinfo", "-i", iso, "-x", l.Directory + l.Name), File.ReadAllText(host, System.Text.Encoding.Latin1));
            Assert.Equal(fs.Lookup(l.Directory + l.Name).Modified!.Value.UtcDateTime, File.GetLastWriteTimeUtc(host));
        }
        Assert.True(Directory.Exists(Path.Join(output, "LOST_FOUND")));
    }

    private static string IsoNameOf(string isoinfoName) => Discemu.FileSystems.Iso9660.IsoText.StripVersion(isoinfoName, stripDot: true);

    [Fact]
    public void InsideQcow2ItListsTheSame()
    {
        PeerTools.Require("qemu-img");
        string iso = TestData.Real("iso9660.raw");
        string qcow = _dir.File("iso.qcow2");
        PeerTools.RunOk("qemu-img", "convert", "-f", "raw", "-O", "qcow2", iso, qcow);
        var (rawImage, rawFs) = Open(iso);
        var (qImage, qFs) = Open(qcow);
        using (rawImage)
        using (rawFs)
        using (qImage)
        using (qFs)
        {
            Assert.Equal("qcow2", qImage.Format.Name);
            AssertSame(FsSnapshot(rawFs), FsSnapshot(qFs));
        }
    }
}
