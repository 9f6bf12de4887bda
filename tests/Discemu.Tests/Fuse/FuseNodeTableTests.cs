using Discemu.FileSystems;
using Discemu.Fuse;

namespace Discemu.Tests.Fuse;

/// <summary>Node ids and paths without a kernel: lookup counts, FORGET, renames of subtrees, replaced and removed entries; dirent encoding.</summary>
public sealed class FuseNodeTableTests
{
    private static SyntheticEntry Dir(string name) => new() { Name = name, Kind = FileSystemEntryKind.Directory };

    private static SyntheticEntry File(string name) => new() { Name = name, Kind = FileSystemEntryKind.File, Size = 3 };

    [Fact]
    public void LookupsCountAndForgetDropsAtZero()
    {
        var table = new FuseNodeTable(Dir(""));
        var a = table.AddLookup("/a", File("a"));
        Assert.Same(a, table.AddLookup("/a", File("a")));
        Assert.Equal(2UL, a.Lookups);
        Assert.NotEqual(FuseConstants.RootId, a.Id);
        table.Forget(a.Id, 1);
        Assert.Same(a, table.Get(a.Id));
        table.Forget(a.Id, 1);
        Assert.Null(table.Get(a.Id));
        Assert.Null(table.Find("/a"));
        var again = table.AddLookup("/a", File("a"));
        Assert.NotEqual(a.Id, again.Id); // ids are never reused while mounted
        table.Forget(FuseConstants.RootId, 100);
        Assert.NotNull(table.Get(FuseConstants.RootId));
    }

    [Fact]
    public void RenameMovesTheSubtreeAndDetachesTheReplacedEntry()
    {
        var table = new FuseNodeTable(Dir(""));
        var d = table.AddLookup("/d", Dir("d"));
        var inner = table.AddLookup("/d/x/inner", File("inner"));
        var sibling = table.AddLookup("/dd", File("dd")); // shares the prefix "/d" but is not below it
        var victim = table.AddLookup("/e", Dir("e"));
        table.Moved("/d", "/e");
        Assert.Equal("/e", d.Path);
        Assert.Equal("/e/x/inner", inner.Path);
        Assert.Equal("/dd", sibling.Path);
        Assert.Null(victim.Path);
        Assert.Same(d, table.Find("/e"));
        Assert.Null(table.Find("/d"));
        table.Removed("/e/x/inner");
        Assert.Null(inner.Path);
        Assert.Same(inner, table.Get(inner.Id)); // still known until the kernel forgets it
    }

    [Fact]
    public void DirentsAreEightByteAligned()
    {
        var buffer = new byte[64];
        int size = FuseWire.WriteDirent(buffer, 5, 1, 8, "abc"u8);
        Assert.Equal(32, size); // 24-byte header + 3, rounded up to 8
        Assert.Equal(3u, BitConverter.ToUInt32(buffer, 16));
        Assert.Equal(0, FuseWire.WriteDirent(buffer.AsSpan(0, 31), 5, 1, 8, "abc"u8));
        Assert.False(FuseWire.IsShowable("a/b"));
        Assert.False(FuseWire.IsShowable(".."));
        Assert.True(FuseWire.IsShowable("Ünïcödé"));
        Assert.Equal(0x41EDu, FuseWire.ModeOf(Dir("d")));
        Assert.Equal(0x81A4u, FuseWire.ModeOf(File("f")));
        Assert.Equal(0x8124u, FuseWire.ModeOf(new SyntheticEntry { Name = "r", Kind = FileSystemEntryKind.File, Attributes = FileAttributes.ReadOnly }));
    }
}
