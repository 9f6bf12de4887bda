using System.Text;
using Discemu.Formats.Vmdk;
using Discemu.Tests.Infrastructure;
using static Discemu.Tests.Formats.Vmdk.VmdkTestKit;

namespace Discemu.Tests.Formats.Vmdk;

/// <summary>The descriptor parser: the spellings VMware products, ovftool and qemu-img write, and what it refuses.</summary>
public sealed class VmdkDescriptorTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static VmdkDescriptor Parse(string text) => VmdkDescriptor.Parse(Encoding.UTF8.GetBytes(text), "test.vmdk");

    [Fact]
    public void ParsesTheUsualSpellings()
    {
        var d = Parse("# Disk DescriptorFile\r\n  version=1\r\nencoding=\"UTF-8\"\r\nCID=2bdc5c77\r\nparentCID=ffffffff\r\nisNativeSnapshot=\"no\"\r\n"
            + "createType=streamOptimized\r\n\r\n# Extent description\r\nRDONLY 16777216 SPARSE \"dest 0.vmdk\"\r\nRW 2048 FLAT \"raw disk.img\" 100 # a comment\r\nRW 1024 ZERO\r\n"
            + "\r\n#DDB\r\nddb.adapterType = \"lsilogic\"\r\nddb.geometry.cylinders=\"1044\"\r\nddb.uuid = \"60 00 c2 9a 3c 5e 1b 7f-aa 12 34 56 78 9a bc de\"\r\n\0\0\0");
        Assert.Equal(1, d.Version);
        Assert.Equal(0x2bdc5c77u, d.Cid);
        Assert.Equal(0xffffffffu, d.ParentCid);
        Assert.Equal("streamOptimized", d.CreateType);
        Assert.Equal("UTF-8", d.Encoding);
        Assert.Null(d.ParentFileNameHint);
        Assert.Equal(3, d.Extents.Count);
        Assert.Equal(new VmdkExtentLine(VmdkAccess.ReadOnly, 16777216, "SPARSE", "dest 0.vmdk", 0), d.Extents[0]);
        Assert.Equal(new VmdkExtentLine(VmdkAccess.ReadWrite, 2048, "FLAT", "raw disk.img", 100), d.Extents[1]);
        Assert.Equal(new VmdkExtentLine(VmdkAccess.ReadWrite, 1024, "ZERO", null, 0), d.Extents[2]);
        Assert.Equal("lsilogic", d.GetDdb("ddb.adapterType"));
        Assert.Equal("1044", d.GetDdb("ddb.geometry.cylinders"));
        Assert.Equal((16777216L + 2048 + 1024) * 512, d.TotalBytes);
    }

    [Theory]
    [InlineData("version=1\nCID=1\nRW 10 SPARSE \"a\"\n", "no createType")]
    [InlineData("version=1\ncreateType=\"x\"\n", "no extents")]
    [InlineData("version=1\nCID=zz\ncreateType=\"x\"\nRW 10 SPARSE \"a\"\n", "hexadecimal")]
    [InlineData("version=1\ncreateType=\"x\"\nRW ten SPARSE \"a\"\n", "sector count")]
    [InlineData("version=1\ncreateType=\"x\"\nRW 10 SPARSE\n", "names no file")]
    [InlineData("version=1\ncreateType=\"x\"\nRW 10 FLAT \"a\" -5\n", "start sector")]
    [InlineData("version=1\ncreateType=\"x\"\nthis is not a descriptor line\nRW 10 SPARSE \"a\"\n", "Unrecognised")]
    [InlineData("version=1\ncreateType=\"x\"\nRW 36028797018963968 SPARSE \"a\"\n", "largest")]
    public void RefusesWhatIsNotADescriptor(string text, string message)
    {
        var e = Assert.Throws<CorruptImageException>(() => Parse(text));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void TextAfterANulIsIgnoredAsQemuDoes()
    {
        // qemu reads the descriptor as a C string: whatever follows the first NUL (stale bytes after a rewrite) is not part of it.
        var d = Parse("version=1\ncreateType=\"x\"\nRW 10 SPARSE \"a\"\n\0\0garbage\nRW 99 FLAT \"b\" 0\n");
        Assert.Single(d.Extents);
        Assert.Equal(10 * 512L, d.TotalBytes);
    }

    [Fact]
    public void AnUnknownVersionIsUnsupported()
        => Assert.Throws<UnsupportedFeatureException>(() => Parse("version=4\ncreateType=\"x\"\nRW 1 SPARSE \"a\"\n"));

    [Fact]
    public void RewritingTheCidAndParentChangesOnlyThoseLines()
    {
        string text = "# Disk DescriptorFile\nversion=1\nCID=0000000a\nparentCID=ffffffff\ncreateType=\"monolithicSparse\"\n\n# Extent description\nRW 8 SPARSE \"a.vmdk\"\n\n#DDB\nddb.longContentID = \"0123456789abcdef012345670000000a\"\nddb.custom = \"kept\"\n";
        var d = Parse(text).WithCid(0x1234abcd);
        Assert.Equal(0x1234abcdu, d.Cid);
        Assert.EndsWith("1234abcd", d.GetDdb("ddb.longContentID"));
        var withParent = d.WithParent(0xdeadbeef, "base disk.vmdk");
        string t = withParent.ToText();
        Assert.Contains("parentCID=deadbeef\ncreateType=\"monolithicSparse\"\nparentFileNameHint=\"base disk.vmdk\"\n", t);
        Assert.Contains("ddb.custom = \"kept\"", t);
        Assert.Equal("base disk.vmdk", withParent.ParentFileNameHint);
        var removed = withParent.WithParent(0xffffffff, null);
        Assert.Null(removed.ParentFileNameHint);
        Assert.DoesNotContain("parentFileNameHint", removed.ToText());
    }

    [Fact]
    public void ProbeRecognisesDescriptorsAndNothingElse()
    {
        Assert.True(VmdkDescriptor.LooksLikeDescriptor("# Disk DescriptorFile\nversion=1\nCID=1\n"u8));
        Assert.True(VmdkDescriptor.LooksLikeDescriptor("\n# comment\r\n  version=3\r\n"u8));
        Assert.False(VmdkDescriptor.LooksLikeDescriptor("hello\nversion=1\n"u8));
        Assert.False(VmdkDescriptor.LooksLikeDescriptor("# x\0\nversion=1\n"u8));
        Assert.False(VmdkDescriptor.LooksLikeDescriptor(new byte[512]));
        Assert.Equal(100, VmdkFormat.Instance.Probe("# Disk DescriptorFile\nversion=1\n"u8, 100));
        Assert.Equal(100, VmdkFormat.Instance.Probe("COWD\u0001\0\0\0"u8, 2048));
        Assert.Equal(50, VmdkFormat.Instance.Probe("KDMV\u0009\0\0\0"u8, 512));
    }

    [Fact]
    public void ACustomDescriptorWithFlatAndZeroExtentsReadsLikeQemuReadsIt()
    {
        PeerTools.Require("qemu-img");
        var a = Pattern(1 << 20, 1);
        var b = Pattern(3 << 19, 2);
        File.WriteAllBytes(_dir.File("a part.bin"), a);
        var bFile = new byte[(1 << 20) + b.Length];
        b.CopyTo(bFile, 1 << 20);
        File.WriteAllBytes(_dir.File("b.bin"), bFile);
        string descriptor = _dir.File("custom.vmdk");
        File.WriteAllText(descriptor, "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"custom\"\n\n"
            + "RW 2048 FLAT \"a part.bin\" 0\nRW 1024 ZERO\nRDONLY 3072 FLAT \"b.bin\" 2048\n");
        var expected = new byte[a.Length + 512 * 1024 + b.Length];
        a.CopyTo(expected, 0);
        b.CopyTo(expected, a.Length + 512 * 1024);
        using (var image = Open(descriptor)) Assert.Equal(expected, ReadAll(image));
        // qemu-img 7.2 refuses the createType "custom", skips RDONLY and ZERO lines (and misreads extent lines
        // right after a blank line), so it can only check the flat extents with their start sectors: two RW
        // extents under a type it knows.
        string forQemu = _dir.File("flat-for-qemu.vmdk");
        File.WriteAllText(forQemu, "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"twoGbMaxExtentFlat\"\n"
            + "RW 2048 FLAT \"a part.bin\" 0\nRW 3072 FLAT \"b.bin\" 2048\n");
        string viaQemu = _dir.File("q.raw");
        QemuImg("convert", "-f", "vmdk", "-O", "raw", forQemu, viaQemu);
        using (var flat = Open(forQemu)) Assert.Equal(File.ReadAllBytes(viaQemu), ReadAll(flat));
        Assert.Equal([.. a, .. b], File.ReadAllBytes(viaQemu));
        using var writable = Open(descriptor, writable: true);
        writable.Write(10, new byte[] { 1 });
        Assert.Throws<NotSupportedException>(() => writable.Write(a.Length + 10, new byte[] { 1 }));
        Assert.Throws<NotSupportedException>(() => writable.Write(a.Length + 512 * 1024 + 10, new byte[] { 1 }));
    }

    [Fact]
    public void AMissingExtentFileIsNamed()
    {
        string descriptor = _dir.File("m.vmdk");
        File.WriteAllText(descriptor, "version=1\ncreateType=\"monolithicFlat\"\nRW 2048 FLAT \"gone-flat.vmdk\" 0\n");
        var e = Assert.Throws<ImageAccessException>(() => Open(descriptor));
        Assert.Contains("gone-flat.vmdk", e.ImagePath);
    }

    [Fact]
    public void VmfsAndVmfsThinDescriptorsOpenTheirFlatExtents()
    {
        var data = Pattern(1 << 20, 9);
        File.WriteAllBytes(_dir.File("v-flat.vmdk"), data);
        foreach (string type in new[] { "vmfs", "vmfsThin" })
        {
            string descriptor = _dir.File($"{type}.vmdk");
            File.WriteAllText(descriptor, $"# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"{type}\"\n\n# Extent description\nRW 2048 VMFS \"v-flat.vmdk\"\n\n#DDB\nddb.adapterType = \"lsilogic\"\nddb.thinProvisioned = \"1\"\n");
            using var image = Open(descriptor);
            Assert.Equal(data, ReadAll(image));
            Assert.Null(image.ClusterSize);
        }
    }

    [Fact]
    public void VersionThreeSparseExtentsWithoutCompressionOpenReadOnly()
    {
        string image = _dir.File("v3.vmdk");
        using (var created = Create(image, 2 << 20)) created.Write(0, Pattern(70_000, 3));
        var bytes = File.ReadAllBytes(image);
        bytes[4] = 3;
        File.WriteAllBytes(image, bytes);
        using (var ro = Open(image)) Assert.Equal(Pattern(70_000, 3), ReadAll(ro).AsSpan(0, 70_000).ToArray());
        var e = Assert.Throws<UnsupportedFeatureException>(() => Open(image, writable: true));
        Assert.Contains("read-only", e.Message);
    }
}
