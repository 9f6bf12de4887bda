using Discemu.Block;
using Discemu.FileSystems;
using Discemu.FileSystems.Iso9660;
using Discemu.Fuzz;
using Discemu.Operations;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Operations;

/// <summary>
/// Extraction never writes outside its destination, whatever the image's names and links say (hand-made
/// hostile images), refuses to overwrite without Overwrite, and keeps times and modes.
/// </summary>
public sealed class FileExtractorTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly string _outside;
    private readonly string _dest;

    public FileExtractorTests()
    {
        _outside = _dir.File("outside");
        Directory.CreateDirectory(_outside);
        _dest = _dir.File("dest");
    }

    public void Dispose() => _dir.Dispose();

    private static HandIso RockRidgeIso()
    {
        var iso = new HandIso();
        iso.Root.SelfSystemUse = HandIso.Cat(HandIso.Sp(), HandIso.Er(), HandIso.Px(0x41ED));
        return iso;
    }

    private static HandNode File(string id, string rrName, string content, uint mode = 0x81A4)
        => HandNode.File(id, System.Text.Encoding.UTF8.GetBytes(content), HandIso.Cat(HandIso.Px(mode), HandIso.Nm(rrName)));

    private static HandNode Link(string id, string rrName, string target)
        => HandNode.File(id, [], HandIso.Cat(HandIso.Px(0xA1FF), HandIso.Nm(rrName),
            HandIso.Sl(0, target.StartsWith('/') ? [(0x08, ""), .. Components(target.TrimStart('/'))] : Components(target))));

    private static (byte, string)[] Components(string path)
        => [.. path.Split('/').Select(c => c switch { ".." => ((byte)0x04, ""), "." => ((byte)0x02, ""), _ => ((byte)0, c) })];

    private static HandNode Dir(string id, string rrName, params HandNode[] children)
    {
        var d = HandNode.Dir(id, children);
        d.SystemUse = HandIso.Cat(HandIso.Px(0x41ED), HandIso.Nm(rrName));
        return d;
    }

    private (FileExtractResult Result, List<string> Warnings) Extract(HandIso iso, bool overwrite = false, string? path = null)
    {
        var warnings = new List<string>();
        using var fs = IsoFileSystemType.Instance.Open(new MemoryDevice(iso.Build()), new FileSystemOpenOptions());
        var entry = path is null ? fs.Root : fs.Lookup(path);
        var result = new FileExtractor(fs, new FileExtractOptions { Overwrite = overwrite, Warning = warnings.Add }).Extract(entry, _dest);
        return (result, warnings);
    }

    private void AssertOutsideUntouched()
    {
        Assert.Empty(Directory.EnumerateFileSystemEntries(_outside));
        Assert.Equal(["dest", "outside"], Directory.EnumerateFileSystemEntries(_dir.PathName).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void NamesWithSlashesDotsAndNulStayInside()
    {
        var iso = RockRidgeIso();
        iso.Root.Children.Add(File("A;1", "../escape.txt", "a"));
        iso.Root.Children.Add(File("B;1", "/etc/absolute", "b"));
        iso.Root.Children.Add(File("C;1", "nul\0byte", "c"));
        iso.Root.Children.Add(File("D;1", "back\\slash", "d"));
        var (result, warnings) = Extract(iso);
        Assert.Equal(4, result.Files);
        Assert.Equal([".._escape.txt", "_etc_absolute", "back_slash", "nul_byte"], Directory.EnumerateFileSystemEntries(_dest).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Empty(warnings);
        AssertOutsideUntouched();
    }

    [Fact]
    public void DotAndDotDotIdentifiersAreSkipped()
    {
        var iso = new HandIso();
        iso.Root.Children.Add(HandNode.File("..", "up"u8.ToArray()));
        iso.Root.Children.Add(HandNode.File(".", "here"u8.ToArray()));
        iso.Root.Children.Add(HandNode.File("OK.TXT;1", "ok"u8.ToArray()));
        var (result, warnings) = Extract(iso);
        Assert.Equal(1, result.Files);
        Assert.Equal(2, result.Skipped);
        Assert.Equal(2, warnings.Count);
        Assert.Equal(["OK.TXT"], Directory.EnumerateFileSystemEntries(_dest).Select(Path.GetFileName));
        AssertOutsideUntouched();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void SymlinkAndDirectoryOfTheSameNameNeverWriteThroughTheLink(bool linkFirst)
    {
        var iso = RockRidgeIso();
        var link = Link("EVIL;1", "evil", _outside);
        var dir = Dir("EVILDIR", "evil", File("PWNED.TXT;1", "pwned.txt", "gotcha"));
        if (linkFirst) iso.Root.Children.AddRange([link, dir]);
        else iso.Root.Children.AddRange([dir, link]);
        var (result, warnings) = Extract(iso);
        Assert.Equal(1, result.Skipped);
        Assert.Contains("already written", Assert.Single(warnings));
        AssertOutsideUntouched();
        if (linkFirst) Assert.Equal(_outside, new FileInfo(Path.Join(_dest, "evil")).LinkTarget);
        else Assert.Equal("gotcha", System.IO.File.ReadAllText(Path.Join(_dest, "evil", "pwned.txt")));
    }

    [Fact]
    public void LinkToParentFollowedByFilesUnderItsName()
    {
        var iso = RockRidgeIso();
        iso.Root.Children.Add(Link("UP;1", "up", ".."));
        iso.Root.Children.Add(Dir("UPDIR", "up", File("X;1", "x.txt", "x")));
        var (_, warnings) = Extract(iso);
        Assert.Single(warnings);
        Assert.Equal("..", new FileInfo(Path.Join(_dest, "up")).LinkTarget);
        Assert.False(System.IO.File.Exists(_dir.File("x.txt")));
        AssertOutsideUntouched();
    }

    [Fact]
    public void PlantedLinkInTheDestinationIsRefusedThenReplacedWithForce()
    {
        Directory.CreateDirectory(_dest);
        System.IO.File.CreateSymbolicLink(Path.Join(_dest, "out"), _outside);
        System.IO.File.CreateSymbolicLink(Path.Join(_dest, "file.txt"), Path.Join(_outside, "created-through-link"));
        var iso = RockRidgeIso();
        iso.Root.Children.Add(Dir("OUT", "out", File("F;1", "f.txt", "inside")));
        iso.Root.Children.Add(File("FILE;1", "file.txt", "content"));
        Assert.Throws<BadArgumentException>(() => Extract(iso));
        AssertOutsideUntouched();
        var (result, _) = Extract(iso, overwrite: true);
        Assert.Equal(2, result.Files);
        Assert.Null(new FileInfo(Path.Join(_dest, "out")).LinkTarget);
        Assert.Equal("inside", System.IO.File.ReadAllText(Path.Join(_dest, "out", "f.txt")));
        Assert.Null(new FileInfo(Path.Join(_dest, "file.txt")).LinkTarget);
        Assert.Equal("content", System.IO.File.ReadAllText(Path.Join(_dest, "file.txt")));
        AssertOutsideUntouched();
    }

    [Fact]
    public void ExistingFilesAreKeptUnlessOverwriting()
    {
        Directory.CreateDirectory(_dest);
        System.IO.File.WriteAllText(Path.Join(_dest, "a.txt"), "mine");
        var iso = RockRidgeIso();
        iso.Root.Children.Add(File("A;1", "a.txt", "theirs"));
        var e = Assert.Throws<BadArgumentException>(() => Extract(iso));
        Assert.Contains("--force", e.Message);
        Assert.Equal("mine", System.IO.File.ReadAllText(Path.Join(_dest, "a.txt")));
        Extract(iso, overwrite: true);
        Assert.Equal("theirs", System.IO.File.ReadAllText(Path.Join(_dest, "a.txt")));
    }

    [Fact]
    public void DeviceNodesAreSkippedAndModesAndTimesKept()
    {
        var iso = RockRidgeIso();
        iso.Root.Children.Add(HandNode.File("NULL;1", [], HandIso.Cat(HandIso.Px(0x21B6), HandIso.Nm("null"), HandIso.Entry("PN", new byte[16]))));
        iso.Root.Children.Add(File("RUN;1", "run.sh", "#!/bin/sh\n", mode: 0x81ED));
        var sub = Dir("SUB", "sub", File("R;1", "readonly.txt", "r", mode: 0x8124));
        sub.SystemUse = HandIso.Cat(HandIso.Px(0x416D), HandIso.Nm("sub")); // 0555: applied after its content is written
        iso.Root.Children.Add(sub);
        var (result, warnings) = Extract(iso);
        Assert.Equal(1, result.Skipped);
        Assert.Contains("device node", Assert.Single(warnings));
        Assert.False(Path.Exists(Path.Join(_dest, "null")));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal((UnixFileMode)0x1ED, System.IO.File.GetUnixFileMode(Path.Join(_dest, "run.sh")));
            Assert.Equal((UnixFileMode)0x16D, System.IO.File.GetUnixFileMode(Path.Join(_dest, "sub")));
            Assert.Equal((UnixFileMode)0x124, System.IO.File.GetUnixFileMode(Path.Join(_dest, "sub", "readonly.txt")));
        }
        // HandIso records 2021-03-04 05:06:07 GMT for every entry.
        Assert.Equal(new DateTime(2021, 3, 4, 5, 6, 7, DateTimeKind.Utc), System.IO.File.GetLastWriteTimeUtc(Path.Join(_dest, "sub", "readonly.txt")));
        Assert.Equal(new DateTime(2021, 3, 4, 5, 6, 7, DateTimeKind.Utc), Directory.GetLastWriteTimeUtc(Path.Join(_dest, "sub")));
        DirectoryTestExtensions.SetUnixFileModeIfPossible(Path.Join(_dest, "sub"));
    }

    [Fact]
    public void DirectoryReachedTwiceIsCorrupt()
    {
        var iso = new HandIso();
        var a = HandNode.Dir("A", HandNode.File("F;1", "f"u8.ToArray()));
        var b = HandNode.Dir("B");
        b.SameExtentAs = a;
        iso.Root.Children.AddRange([a, b]);
        Assert.Throws<CorruptImageException>(() => Extract(iso));
    }
}

internal static class DirectoryTestExtensions
{
    /// <summary>Makes a read-only test folder writable again so the temporary folder can be deleted.</summary>
    public static void SetUnixFileModeIfPossible(string path)
    {
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, (UnixFileMode)0x1ED);
    }
}
