using Discemu.Block;
using Discemu.FileSystems.Iso9660;
using Discemu.Fuzz;

namespace Discemu.Tests.FileSystems.Iso9660;

/// <summary>The small parsers on their own: dates, names, SUSP areas, Rock Ridge entries, the boot catalog, zisofs headers.</summary>
public sealed class IsoParserTests
{
    [Fact]
    public void ShortDates()
    {
        Assert.Equal(new DateTimeOffset(2021, 3, 4, 5, 6, 7, TimeSpan.FromHours(2)), IsoDateTime.ReadShort([121, 3, 4, 5, 6, 7, 8]));
        Assert.Equal(new DateTimeOffset(1999, 12, 31, 23, 59, 59, TimeSpan.FromMinutes(-45)), IsoDateTime.ReadShort([99, 12, 31, 23, 59, 59, unchecked((byte)-3)]));
        Assert.Null(IsoDateTime.ReadShort(new byte[7]));                 // not recorded
        Assert.Null(IsoDateTime.ReadShort([121, 2, 30, 0, 0, 0, 0]));    // February 30th
        Assert.Null(IsoDateTime.ReadShort([121, 13, 1, 0, 0, 0, 0]));
        Assert.Equal(TimeSpan.Zero, IsoDateTime.ReadShort([121, 1, 1, 0, 0, 0, 100])!.Value.Offset); // offset out of range: GMT
    }

    [Fact]
    public void LongDates()
    {
        Assert.Equal(new DateTimeOffset(2022, 9, 17, 6, 11, 15, 450, TimeSpan.FromHours(2)), IsoDateTime.ReadLong([.. "2022091706111545"u8, 8]));
        Assert.Null(IsoDateTime.ReadLong([.. "0000000000000000"u8, 0]));
        Assert.Null(IsoDateTime.ReadLong(new byte[17]));
        Assert.Null(IsoDateTime.ReadLong([.. "20220917061a1545"u8, 0]));
    }

    [Theory]
    [InlineData("README.TXT;1", true, "README.TXT")]
    [InlineData("README.;1", true, "README")]
    [InlineData("README.", true, "README")]
    [InlineData("A.B.C;12", true, "A.B.C")]
    [InlineData("NOVERSION", true, "NOVERSION")]
    [InlineData("x;y", true, "x;y")]
    [InlineData(";1", true, ";1")]
    [InlineData("..", true, "..")]
    [InlineData("name.;1", false, "name.")]
    public void Versions(string identifier, bool stripDot, string name) => Assert.Equal(name, IsoText.StripVersion(identifier, stripDot));

    [Fact]
    public void TextDecoding()
    {
        Assert.Equal("plain", IsoText.Bytes("plain"u8));
        Assert.Equal("ünï", IsoText.Bytes("ünï"u8));
        Assert.Equal("\u00ff\u00fe", IsoText.Bytes([0xFF, 0xFE])); // not UTF-8: Latin-1
        Assert.Equal("日本", IsoText.Ucs2([0x65, 0xE5, 0x67, 0x2C]));
        Assert.Equal("a", IsoText.Ucs2([0x00, 0x61, 0x00]));         // odd byte dropped
    }

    private static List<SuspEntry> Read(byte[] area, int skip = 0, BlockDevice? device = null)
        => Susp.ReadAll(area, skip, 2048, device?.Length ?? 0, device is null ? null : (o, n) => { var b = new byte[n]; device.Read(o, b); return b; }, null);

    [Fact]
    public void SuspStopsAtTerminatorPaddingAndMalformedEntries()
    {
        Assert.Equal(["NM"], Read(HandIso.Cat(HandIso.Nm("a"), HandIso.Entry("ST"), HandIso.Nm("after"))).Select(e => e.Signature));
        Assert.Equal(["NM"], Read(HandIso.Cat(HandIso.Nm("a"), [0, 0, 0, 0, 0], HandIso.Nm("after"))).Select(e => e.Signature));
        Assert.Equal(["NM"], Read(HandIso.Cat(HandIso.Nm("a"), [(byte)'N', (byte)'M', 200, 1])).Select(e => e.Signature));
        Assert.Equal(["PX"], Read(HandIso.Cat([9, 9, 9, 9], HandIso.Px(0)), skip: 4).Select(e => e.Signature));
        Assert.Equal(7, Susp.ReadSp(HandIso.Sp(7)));
        Assert.Null(Susp.ReadSp(HandIso.Entry("SP", 0xBE, 0xEE, 0)));
    }

    [Fact]
    public void ContinuationAreasAreFollowedAndBounded()
    {
        var disk = new byte[8192];
        HandIso.Nm(" world").CopyTo(disk, 2048 + 100);
        using var device = new MemoryDevice(disk);
        var rr = RockRidgeInfo.Parse(Read(HandIso.Cat(HandIso.Nm("hello", 1), HandIso.Ce(1, 100, 11)), device: device));
        Assert.Equal("hello world", rr.Name);
        Assert.Throws<CorruptImageException>(() => Read(HandIso.Ce(3, 2000, 100), device: device)); // past the end
        Assert.Throws<CorruptImageException>(() => Read(HandIso.Ce(0, 0, 1 << 20), device: device)); // too large
        HandIso.Ce(1, 0, 28).CopyTo(disk, 2048);
        using var looping = new MemoryDevice(disk);
        Assert.Throws<CorruptImageException>(() => Read(HandIso.Ce(1, 0, 28), device: looping));
    }

    [Fact]
    public void SymbolicLinkComponents()
    {
        string Target(params byte[][] entries) => RockRidgeInfo.Parse(Read(HandIso.Cat(entries))).SymlinkTarget!;
        Assert.Equal("/usr/bin", Target(HandIso.Sl(0, (0x08, ""), (0, "usr"), (0, "bin"))));
        Assert.Equal("../x/./y", Target(HandIso.Sl(0, (0x04, ""), (0, "x"), (0x02, ""), (0, "y"))));
        Assert.Equal("longcomponent/z", Target(HandIso.Sl(1, (0x01, "long")), HandIso.Sl(0, (0, "component"), (0, "z"))));
        Assert.Equal("a/b", Target(HandIso.Sl(1, (0, "a")), HandIso.Sl(0, (0, "b"))));
        Assert.Equal("a", Target(HandIso.Sl(0, (0, "a")), HandIso.Sl(0, (0, "ignored")))); // the first link ended
    }

    [Fact]
    public void NamesAndTimes()
    {
        var rr = RockRidgeInfo.Parse(Read(HandIso.Cat(HandIso.Nm("first", 1), HandIso.Nm("second"), HandIso.Nm("third"))));
        Assert.Equal("firstsecond", rr.Name);
        Assert.Equal(".", RockRidgeInfo.Parse(Read(HandIso.Nm("", 0x02))).Name);
        Assert.Equal("..", RockRidgeInfo.Parse(Read(HandIso.Nm("", 0x04))).Name);
        // Short form: modify and access only.
        var tf = RockRidgeInfo.Parse(Read(HandIso.Entry("TF", 0x06, 121, 1, 2, 3, 4, 5, 0, 122, 6, 7, 8, 9, 10, 0)));
        Assert.Equal(new DateTimeOffset(2021, 1, 2, 3, 4, 5, TimeSpan.Zero), tf.Modified);
        Assert.Equal(new DateTimeOffset(2022, 6, 7, 8, 9, 10, TimeSpan.Zero), tf.Accessed);
        Assert.Null(tf.Created);
        // Every flag in the long form: creation, modify, access, attributes, backup, expiration, effective.
        var all = new List<byte> { 0xFF };
        for (int i = 0; i < 7; i++) all.AddRange([.. System.Text.Encoding.ASCII.GetBytes($"20{10 + i}010100000000"), 0]);
        var longForm = RockRidgeInfo.Parse(Read(HandIso.Entry("TF", [.. all])));
        Assert.Equal(2010, longForm.Created!.Value.Year);
        Assert.Equal(2011, longForm.Modified!.Value.Year);
        Assert.Equal(2012, longForm.Accessed!.Value.Year);
        Assert.Equal(2013, longForm.Changed!.Value.Year);
        var truncated = RockRidgeInfo.Parse(Read(HandIso.Entry("TF", 0x06, 121, 1, 2, 3, 4, 5, 0)));
        Assert.NotNull(truncated.Modified);
        Assert.Null(truncated.Accessed);
    }

    [Fact]
    public void PosixAttributesOfBothRripVersions()
    {
        var px = HandIso.Px(0x81ED, 3, 1000, 100);
        var v110 = RockRidgeInfo.Parse(Read(px));
        Assert.Equal((0x81EDu, 3u, 1000u, 100u, (ulong?)null), (v110.Mode!.Value, v110.Links!.Value, v110.Uid!.Value, v110.Gid!.Value, v110.Inode));
        var withInode = HandIso.Entry("PX", [.. px[4..], 42, 0, 0, 0, 0, 0, 0, 42]);
        Assert.Equal(42UL, RockRidgeInfo.Parse(Read(withInode)).Inode);
    }

    [Theory]
    [InlineData("%/@", 1)]
    [InlineData("%/C", 2)]
    [InlineData("%/E", 3)]
    [InlineData("%/F", 0)]
    [InlineData("", 0)]
    public void JolietEscapeSequences(string escape, int level)
    {
        var sector = new byte[2048];
        System.Text.Encoding.ASCII.GetBytes(escape).CopyTo(sector, 88 + 5);
        Assert.Equal(level, IsoVolumeDescriptor.ReadJolietLevel(sector));
    }

    [Theory]
    [InlineData(0, "BIOS")]
    [InlineData(1, "PPC")]
    [InlineData(2, "Mac")]
    [InlineData(0xEF, "UEFI")]
    [InlineData(0x42, "0x42")]
    public void PlatformNames(byte platform, string name)
        => Assert.Equal(name, new BootEntry(1, platform, true, BootMedia.NoEmulation, 0, 0, 4, 20, null).PlatformName);

    [Fact]
    public void BootCatalogChecksumAndEntries()
    {
        var entries = ElTorito.Parse(IsoSeeds.Catalog(), null);
        Assert.Equal(2, entries.Count);
        Assert.Equal((ElTorito.PlatformX86, BootMedia.NoEmulation, (ushort)4, 31u), (entries[0].Platform, entries[0].Media, entries[0].SectorCount, entries[0].LoadRba));
        Assert.Equal((ElTorito.PlatformEfi, BootMedia.Floppy144, "UEFI"), (entries[1].Platform, entries[1].Media, entries[1].PlatformName));
        var bad = IsoSeeds.Catalog();
        bad[4] ^= 1;
        Assert.Contains("checksum", Assert.Throws<CorruptImageException>(() => ElTorito.Parse(bad, null)).Message);
        var badMedia = IsoSeeds.Catalog();
        badMedia[33] = 9;
        Assert.Throws<CorruptImageException>(() => ElTorito.Parse(badMedia, null));
        var missingExtension = IsoSeeds.Catalog();
        missingExtension[128] = 0;
        Assert.Throws<CorruptImageException>(() => ElTorito.Parse(missingExtension, null));
    }

    [Fact]
    public void ZisofsHeaderMustAgreeWithItsEntry()
    {
        byte[] file = IsoSeeds.Zisofs(new byte[100_000], 15);
        using var stored = new MemoryDevice(file);
        using (var ok = new ZisofsDevice(stored, new ZisofsInfo("pz", 4, 15, 100_000), null))
            Assert.Equal(100_000, ok.Length);
        Assert.Throws<CorruptImageException>(() => new ZisofsDevice(stored, new ZisofsInfo("pz", 4, 15, 99_999), null));
        Assert.Throws<CorruptImageException>(() => new ZisofsDevice(stored, new ZisofsInfo("pz", 4, 18, 100_000), null));
        Assert.Throws<UnsupportedFeatureException>(() => new ZisofsDevice(stored, new ZisofsInfo("Z2", 0, 0, 0), null));
        var badPointers = (byte[])file.Clone();
        badPointers[16] = 0xFF; badPointers[17] = 0xFF; badPointers[18] = 0xFF; // first pointer past the file
        using var bad = new MemoryDevice(badPointers);
        Assert.Throws<CorruptImageException>(() => new ZisofsDevice(bad, new ZisofsInfo("pz", 4, 15, 100_000), null));
        var garbage = IsoSeeds.Zisofs(Enumerable.Repeat((byte)7, 40_000).ToArray(), 15);
        garbage[^3] ^= 0xFF; // damage the zlib stream
        using var damaged = new MemoryDevice(garbage);
        using var z = new ZisofsDevice(damaged, new ZisofsInfo("pz", 4, 15, 40_000), null);
        Assert.Throws<CorruptImageException>(() => z.Read(39_000, new byte[1000]));
    }
}
