using Discemu.Block;
using Discemu.FileSystems;
using Discemu.FileSystems.Iso9660;
using Discemu.Fuzz;
using Discemu.Tests.Infrastructure;
using static Discemu.Tests.FileSystems.Iso9660.IsoTestKit;

namespace Discemu.Tests.FileSystems.Iso9660;

/// <summary>
/// Hand-made images (<see cref="HandIso"/>) for what the peers do not write on demand: multi-extent files of a
/// few KiB, every Rock Ridge entry shape, loops, bad extents, absurd sizes.
/// </summary>
public sealed class IsoHandMadeTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static FileSystem OpenBytes(byte[] image, string? names = null)
        => IsoFileSystemType.Instance.Open(new MemoryDevice(image), new FileSystemOpenOptions { Names = names });

    [Fact]
    public void MultiExtentFileIsItsPartsJoined_And7ZipAgrees()
    {
        var iso = IsoSeeds.MultiExtent();
        var bytes = iso.Build();
        using var fs = OpenBytes(bytes);
        var big = Assert.Single(fs.ListDirectory(fs.Root));
        Assert.Equal("BIG.BIN", big.Name);
        Assert.Equal(4096 + 2048 + 100, big.Size);
        using var content = fs.OpenFile(big);
        var data = ReadAll(content);
        Assert.Equal([.. Enumerable.Repeat((byte)1, 4096), .. Enumerable.Repeat((byte)2, 2048), .. Enumerable.Repeat((byte)3, 100)], data);
        // The peers read the same hand-made image the same way.
        string path = _dir.File("multi.iso");
        File.WriteAllBytes(path, bytes);
        string outDir = _dir.File("7z");
        PeerTools.RunOk("7zz", "x", "-y", $"-o{outDir}", path);
        Assert.Equal(data, File.ReadAllBytes(Path.Join(outDir, "BIG.BIN")));
        Assert.Equal(3, PeerTools.RunOk("isoinfo", "-l", "-i", path).Split('\n').Count(l => l.EndsWith("BIG.BIN;1 ", StringComparison.Ordinal))); // one record per extent
    }

    [Fact]
    public void MultiExtentOver4GiBFromXorriso()
    {
        // Slow (xorriso writes 4.2 GB): run with DISCEMU_BIG_TESTS=1. The small hand-made case above always runs.
        if (Environment.GetEnvironmentVariable("DISCEMU_BIG_TESTS") != "1") Assert.Skip("Set DISCEMU_BIG_TESTS=1 to build a 4.2 GB image with xorriso.");
        string src = _dir.File("big");
        Directory.CreateDirectory(src);
        long size = (4L << 30) + 123_456;
        using (var f = new FileStream(Path.Join(src, "huge.bin"), FileMode.Create))
        {
            f.SetLength(size);
            f.Position = size - 5; f.Write("tail!"u8);
            f.Position = (4L << 30) - 3; f.Write("span"u8);
        }
        string iso = _dir.File("big.iso");
        PeerTools.RunOk("xorriso", "-as", "mkisofs", "-iso-level", "3", "-R", "-o", iso, src);
        var (image, fs) = Open(iso);
        using (image)
        using (fs)
        {
            var huge = fs.Lookup("/huge.bin");
            Assert.Equal(size, huge.Size);
            using var content = fs.OpenFile(huge);
            var tail = new byte[5];
            content.Read(size - 5, tail);
            Assert.Equal("tail!"u8.ToArray(), tail);
            var span = new byte[4];
            content.Read((4L << 30) - 3, span); // across the boundary of the first extent
            Assert.Equal("span"u8.ToArray(), span);
        }
    }

    [Fact]
    public void RockRidgeEntriesOfEveryShape()
    {
        using var fs = OpenBytes(IsoSeeds.RockRidge().Build());
        var names = fs.ListDirectory(fs.Root).Select(e => e.Name).ToList();
        Assert.Equal(["a long name that continues in a CE area", "link", "null", "rr_moved", "deep"], names);
        var link = fs.Lookup("/link");
        Assert.Equal(FileSystemEntryKind.Symlink, link.Kind);
        Assert.Equal("/usr/share/../.", link.SymlinkTarget);
        var device = fs.Lookup("/null");
        Assert.Equal(FileSystemEntryKind.Other, device.Kind);
        Assert.Equal(0x21B6u, device.Mode);
        Assert.Equal(0x0103UL, device.DeviceNumber); // glibc's makedev(1, 3)
        var longName = fs.Lookup("/a long name that continues in a CE area");
        Assert.Equal(new DateTimeOffset(2022, 1, 2, 3, 4, 5, TimeSpan.Zero), longName.Modified);
        Assert.Equal(longName.Modified, longName.Accessed);
        Assert.Equal(longName.Modified, longName.Changed);
        Assert.Null(longName.Created);
        Assert.Equal(0x81A4u, longName.Mode);
        // CL/RE: the relocated directory is listed where its placeholder is, and hidden in rr_moved.
        Assert.Empty(fs.ListDirectory(fs.Lookup("/rr_moved")));
        var deep = fs.Lookup("/deep");
        Assert.True(deep.IsDirectory);
        Assert.Equal(["bottom.txt"], fs.ListDirectory(deep).Select(e => e.Name));
        using var bottom = fs.OpenFile(fs.Lookup("/deep/bottom.txt"));
        Assert.Equal("bottom\n"u8.ToArray(), ReadAll(bottom));
        // With ISO names the relocation is not applied: the tree is what ISO 9660 records.
        using var plain = OpenBytes(IsoSeeds.RockRidge().Build(), names: "iso");
        Assert.Equal(["LONG.TXT", "LINK", "NULL", "RR_MOVED", "DEEP"], plain.ListDirectory(plain.Root).Select(e => e.Name));
        Assert.Equal(["DEEP"], plain.ListDirectory(plain.Lookup("/RR_MOVED")).Select(e => e.Name));
        Assert.Equal(FileSystemEntryKind.File, plain.Lookup("/DEEP").Kind);
    }

    [Fact]
    public void ZisofsSeedDecompresses()
    {
        using var fs = OpenBytes(IsoSeeds.ZisofsImage().Build());
        var z = fs.Lookup("/z.bin");
        Assert.Equal(70_000, z.Size);
        using var content = fs.OpenFile(z);
        Assert.Equal(Enumerable.Range(0, 70_000).Select(i => (byte)(i / 1000)).ToArray(), ReadAll(content));
    }

    [Fact]
    public void BootSeedHasTwoImages()
    {
        var image = IsoSeeds.Boot().Build();
        using var fs = OpenBytes(image);
        Assert.Equal(["1-Boot-NoEmul.img 2048", $"2-Boot-1.44M.img {image.Length - 31 * 2048}"],
            fs.ListDirectory(fs.Lookup("/[BOOT]")).Select(e => $"{e.Name} {e.Size}")); // the floppy is cut at the end of the image
    }

    [Fact]
    public void DirectoryPointingAtItsAncestorIsALoop()
    {
        var iso = new HandIso();
        var sub = HandNode.Dir("SUB");
        var loop = HandNode.Dir("LOOP");
        loop.SameExtentAs = iso.Root;
        sub.Children.Add(loop);
        iso.Root.Children.Add(sub);
        using var fs = OpenBytes(iso.Build());
        var looping = fs.Lookup("/SUB/LOOP");
        var e = Assert.Throws<CorruptImageException>(() => fs.ListDirectory(looping));
        Assert.Contains("loops", e.Message);
    }

    [Fact]
    public void DirectoryOverlappingItsParentIsALoop()
    {
        var iso = new HandIso();
        var sub = HandNode.Dir("SUB");
        iso.Root.Children.Add(sub);
        iso.Build();
        sub.ExtentOverride = iso.Root.Block;
        sub.LengthOverride = 4096; // starts where the root starts, longer
        using var fs = OpenBytes(iso.Build());
        Assert.Throws<CorruptImageException>(() => fs.ListDirectory(fs.Lookup("/SUB")));
    }

    [Fact]
    public void BadExtentsAndSizesAreCorrupt()
    {
        var iso = IsoSeeds.Plain();
        var outside = HandNode.File("OUT.BIN;1", "x"u8.ToArray());
        outside.ExtentOverride = 0x00FFFFFF;
        var huge = HandNode.Dir("HUGE");
        huge.LengthOverride = 0xFFFFF800;
        var pastEnd = HandNode.File("PAST.BIN;1", "y"u8.ToArray());
        pastEnd.LengthOverride = 0x7FFFFFFF;
        iso.Root.Children.AddRange([outside, huge, pastEnd]);
        using var fs = OpenBytes(iso.Build());
        Assert.Equal(["README.TXT", "DIR", "OUT.BIN", "HUGE", "PAST.BIN"], fs.ListDirectory(fs.Root).Select(e => e.Name)); // listing still works
        Assert.Throws<CorruptImageException>(() => fs.OpenFile(fs.Lookup("/OUT.BIN")));
        Assert.Throws<CorruptImageException>(() => fs.OpenFile(fs.Lookup("/PAST.BIN")));
        Assert.Throws<CorruptImageException>(() => fs.ListDirectory(fs.Lookup("/HUGE")));
    }

    [Fact]
    public void MultiExtentWithoutItsLastPartIsCorrupt()
    {
        var iso = new HandIso();
        iso.Root.Children.Add(new HandNode { Identifier = "A;1"u8.ToArray(), Content = [1, 2, 3], ExtraFlags = 0x80 });
        using var fs = OpenBytes(iso.Build());
        Assert.Throws<CorruptImageException>(() => fs.ListDirectory(fs.Root));
    }

    [Fact]
    public void ContinuationAreaLoopIsBounded()
    {
        var iso = new HandIso();
        iso.Root.SelfSystemUse = HandIso.Cat(HandIso.Sp(), HandIso.Er());
        var ce = new byte[2048];
        HandIso.Ce(HandIso.ExtraStart, 0, 28).CopyTo(ce, 0); // a CE area pointing at itself
        iso.Extra.Add(ce);
        iso.Root.Children.Add(HandNode.File("A;1", [], HandIso.Cat(HandIso.Nm("a"), HandIso.Ce(HandIso.ExtraStart, 0, 28))));
        using var fs = OpenBytes(iso.Build());
        var e = Assert.Throws<CorruptImageException>(() => fs.ListDirectory(fs.Root));
        Assert.Contains("continuation", e.Message);
    }

    [Fact]
    public void HostileNamesAreListedAsStoredAndCannotBeLookedUp()
    {
        var iso = new HandIso();
        iso.Root.SelfSystemUse = HandIso.Cat(HandIso.Sp(), HandIso.Er());
        iso.Root.Children.Add(HandNode.File("A;1", "a"u8.ToArray(), HandIso.Nm("../escape")));
        iso.Root.Children.Add(HandNode.File("B;1", "b"u8.ToArray(), HandIso.Nm("..")));
        iso.Root.Children.Add(HandNode.File("C;1", "c"u8.ToArray(), HandIso.Nm("nul\0byte")));
        iso.Root.Children.Add(HandNode.File("..", "d"u8.ToArray()));
        using var fs = OpenBytes(iso.Build());
        // NM ".." is not a name: the ISO name stands; the ISO identifier ".." is kept as stored.
        Assert.Equal(["../escape", "B", "nul\0byte", ".."], fs.ListDirectory(fs.Root).Select(e => e.Name));
        Assert.Null(fs.TryLookup("/../escape")); // ".." stays at the root; "escape" does not exist
        Assert.Equal("B", fs.Lookup("/B").Name);
    }

    [Fact]
    public void LookupRules()
    {
        using var fs = OpenBytes(IsoSeeds.Plain().Build());
        Assert.Same(fs.Root, fs.Lookup("/"));
        Assert.Same(fs.Root, fs.Lookup(""));
        Assert.Same(fs.Root, fs.Lookup("/DIR/.."));
        Assert.Equal("INNER", fs.Lookup("dir/./inner").Name); // ISO names: case-insensitive
        Assert.Equal("INNER", fs.Lookup("/DIR/INNER.;1").Name); // isoinfo's spelling
        Assert.Equal("SUB", fs.Lookup("/DIR/SUB/").Name);
        Assert.Null(fs.TryLookup("/DIR/NOPE"));
        Assert.Throws<BadArgumentException>(() => fs.Lookup("/NOPE"));
        Assert.Throws<BadArgumentException>(() => fs.Lookup("/README.TXT/x"));
        Assert.Throws<ArgumentException>(() => fs.OpenFile(fs.Lookup("/DIR")));
        Assert.Throws<ArgumentException>(() => fs.ListDirectory(fs.Lookup("/README.TXT")));
        using var other = OpenBytes(IsoSeeds.Plain().Build());
        Assert.Throws<ArgumentException>(() => fs.ListDirectory(other.Root));
    }

    [Fact]
    public void RequestedNamesMustExist()
    {
        byte[] plain = IsoSeeds.Plain().Build();
        Assert.Throws<BadArgumentException>(() => OpenBytes(plain, "rr"));
        Assert.Throws<BadArgumentException>(() => OpenBytes(plain, "joliet"));
        Assert.Throws<BadArgumentException>(() => OpenBytes(plain, "klingon"));
        using var fs = OpenBytes(plain, "iso");
        Assert.Equal(StringComparison.OrdinalIgnoreCase, fs.NameComparison);
    }

    [Fact]
    public void FileContentReadsAreConcurrencySafe()
    {
        var iso = new HandIso();
        var data = new byte[200_000];
        new Random(1).NextBytes(data);
        iso.Root.Children.Add(new HandNode { Identifier = "R;1"u8.ToArray(), Parts = [data[..65536], data[65536..]] });
        using var fs = OpenBytes(iso.Build());
        using var content = fs.OpenFile(fs.Lookup("/R"));
        Parallel.For(0, 64, i =>
        {
            var rng = new Random(i);
            for (int k = 0; k < 50; k++)
            {
                int at = rng.Next(data.Length), n = rng.Next(data.Length - at + 1);
                var buffer = new byte[n];
                content.Read(at, buffer);
                Assert.True(buffer.AsSpan().SequenceEqual(data.AsSpan(at, n)));
            }
        });
    }
}
