using System.Text.Json;
using Discemu.Formats;
using Discemu.Formats.Vhdx;
using Discemu.Tests.Infrastructure;
using static Discemu.Tests.Cli.CliHarness;
using static Discemu.Tests.Formats.Vhdx.VhdxTestKit;

namespace Discemu.Tests.Formats.Vhdx;

/// <summary>VHDX through every command: info, create, convert, compare, check, map, measure, resize, rebase, commit.</summary>
public sealed class VhdxCommandTests
{
    [Fact]
    public void InfoShowsTheFormatSpecificFacts()
    {
        using var dir = new TempDir();
        string path = dir.File("a.vhdx");
        Assert.Equal(0, Run("create", "-q", "-f", "vhdx", "-o", "block_size=2M,log_size=2M,logical_sector_size=4096", path, "64M").Code);
        var (code, stdout, _) = Run("info", "--output", "json", path);
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.Equal("vhdx", root.GetProperty("format").GetString());
        Assert.Equal(64L << 20, root.GetProperty("virtual-size").GetInt64());
        var text = root.ToString();
        foreach (var fact in new[] { "\"block-size\"", "\"logical-sector-size\"", "\"log\"", "\"dynamic\"", "4096", "\"clean\"" })
            Assert.Contains(fact, text);
    }

    [Fact]
    public void CreateRefusesBadOptionsWithOneLine()
    {
        using var dir = new TempDir();
        foreach (var o in new[] { "block_size=3M", "log_size=1500k", "logical_sector_size=1024", "subformat=sparse", "nosuch=1", "preallocation=full" })
            AssertOneLineError(Run("create", "-q", "-f", "vhdx", "-o", o, dir.File("x.vhdx"), "64M"));
        AssertOneLineError(Run("create", "-q", "-f", "vhdx", "-o", "logical_sector_size=4096", dir.File("y.vhdx"), "1000000"));
    }

    [Fact]
    public void MeasureCoversWhatConvertWrites()
    {
        using var dir = new TempDir();
        string src = MixedRaw(dir, "src.raw", 40L << 20, 2);
        foreach (var o in new[] { "block_size=1M", "subformat=fixed,block_size=2M", "" })
        {
            var (code, stdout, _) = Run("measure", "--output", "json", "-O", "vhdx", "-o", o.Length == 0 ? "block_size=0" : o, src);
            Assert.Equal(0, code);
            using var doc = JsonDocument.Parse(stdout);
            long required = doc.RootElement.GetProperty("required").GetInt64();
            long full = doc.RootElement.GetProperty("fully-allocated").GetInt64();
            string out1 = dir.File("m.vhdx");
            Assert.Equal(0, Run("convert", "-q", "-O", "vhdx", "-o", o.Length == 0 ? "block_size=0" : o, src, out1).Code);
            long actual = new FileInfo(out1).Length;
            Assert.True(actual <= required, $"{o}: the file is {actual} bytes, measure said {required}");
            Assert.True(required <= full);
            File.Delete(out1);
        }
    }

    [Fact]
    public void MapReportsDataZeroAndHoles()
    {
        using var dir = new TempDir();
        string path = dir.File("m.vhdx");
        using (var img = Create(path, 8 << 20, "block_size=1M,block_state_zero=off"))
        {
            img.Write(1 << 20, Pattern(1 << 20, 1));
            img.WriteZeroes(3 << 20, 1 << 20, mayUnmap: false);
        }
        var (code, stdout, _) = Run("map", "--output", "json", path);
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(stdout);
        var ranges = doc.RootElement.EnumerateArray().Select(e => (Start: e.GetProperty("start").GetInt64(), Length: e.GetProperty("length").GetInt64(),
            Data: e.GetProperty("data").GetBoolean(), Zero: e.GetProperty("zero").GetBoolean(), Present: e.GetProperty("present").GetBoolean())).ToList();
        Assert.Contains(ranges, r => r.Start == 1 << 20 && r.Length == 1 << 20 && r.Data && r.Present);
        Assert.Contains(ranges, r => r.Start == 3 << 20 && r.Zero && r.Present && !r.Data);
        Assert.Contains(ranges, r => r.Start == 0 && !r.Present && r.Zero);
    }

    [Fact]
    public void ResizeGrowsPastTheBatRegionAndShrinks()
    {
        PeerTools.Require("qemu-img");
        using var dir = new TempDir();
        string path = dir.File("r.vhdx");
        using (var img = Create(path, 16 << 20, "block_size=1M")) img.Write(0, Pattern(1 << 20, 1));
        // 1 MiB of BAT holds 131072 entries: 200 GiB of 1 MiB blocks needs the BAT moved.
        Assert.Equal(0, Run("resize", "-q", path, "200G").Code);
        using (var img = Open(path, writable: true))
        {
            Assert.Equal(200L << 30, img.Length);
            img.Write((200L << 30) - 4096, Enumerable.Repeat((byte)0x6b, 4096).ToArray());
        }
        AssertQemuCheckClean(path);
        PeerTools.RunOk("qemu-io", "-f", "vhdx", "-r", "-c", $"read -P 0x6b {(200L << 30) - 4096} 4096", "-c", "read -P 0 1048576 1048576", path);
        var first = new byte[1 << 20];
        using (var img = Open(path)) img.Read(0, first);
        Assert.Equal(Pattern(1 << 20, 1), first);
        Assert.Equal(0, Run("resize", "-q", "--shrink", path, "4M").Code);
        AssertQemuCheckClean(path);
        Assert.Contains("virtual size: 4 MiB", QemuImg("info", "-f", "vhdx", path));
        Assert.True(new FileInfo(path).Length < 16L << 20, $"the file kept {new FileInfo(path).Length} bytes after the shrink");
        using (var img = Open(path)) { img.Read(0, first); Assert.Equal(Pattern(1 << 20, 1), first); }
    }

    [Fact]
    public void AMissingParentIsNamedAndWrongLinkageIsReported()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("sub"));
        using (var p = Create(dir.File("sub/base.vhdx"), 8 << 20, "block_size=1M")) p.Write(0, Pattern(4096, 1));
        using (Create(dir.File("child.vhdx"), 8 << 20, "", "sub/base.vhdx", "vhdx")) { }
        using (var c = (VhdxImage)Open(dir.File("child.vhdx")))
        {
            Assert.Equal("sub/base.vhdx", c.BackingFileName);
            Assert.Contains(c.FormatSpecific, kv => kv.Key == "parent-linkage-matches" && (bool)kv.Value!);
        }
        // The parent's data changes (a new DataWriteGuid): the child still opens, and says its linkage is stale.
        using (var p = Open(dir.File("sub/base.vhdx"), writable: true)) p.Write(0, Pattern(4096, 2));
        using (var c = (VhdxImage)Open(dir.File("child.vhdx")))
            Assert.Contains(c.FormatSpecific, kv => kv.Key == "parent-linkage-matches" && !(bool)kv.Value!);
        File.Move(dir.File("sub/base.vhdx"), dir.File("sub/moved.vhdx"));
        var e = Assert.Throws<ImageAccessException>(() => Open(dir.File("child.vhdx")));
        Assert.Contains(Path.Combine("sub", "base.vhdx"), e.Message);
        string line = AssertOneLineError(Run("convert", "-O", "raw", dir.File("child.vhdx"), dir.File("out.raw")));
        Assert.Contains("base.vhdx", line);
    }

    [Fact]
    public void RebaseAndCommitWorkOnDifferencingImages()
    {
        PeerTools.Require("qemu-img");
        using var dir = new TempDir();
        const long size = 12L << 20;
        string src = MixedRaw(dir, "src.raw", size, 9);
        string baseImage = dir.File("base.vhdx");
        Assert.Equal(0, Run("convert", "-q", "-O", "vhdx", "-o", "block_size=1M", src, baseImage).Code);
        string top = dir.File("top.vhdx");
        Assert.Equal(0, Run("create", "-q", "-f", "vhdx", "-b", "base.vhdx", "-F", "vhdx", top).Code);
        var expected = File.ReadAllBytes(src);
        using (var t = Open(top, writable: true))
        {
            var data = Pattern(700_000, 3);
            t.Write(2_000_123, data);
            data.CopyTo(expected, 2_000_123);
            t.WriteZeroes(5 << 20, 1 << 20);
            expected.AsSpan(5 << 20, 1 << 20).Clear();
        }
        File.WriteAllBytes(dir.File("expected.raw"), expected);
        Assert.Equal(0, Run("compare", "-q", top, dir.File("expected.raw")).Code);
        Assert.Equal(0, Run("check", top).Code);

        // Safe rebase onto nothing: the image becomes standalone (dynamic), content unchanged; qemu-img now reads it.
        string flat = dir.File("flat.vhdx");
        File.Copy(top, flat);
        Assert.Equal(0, Run("rebase", "-q", "-b", "", flat).Code);
        using (var f = (VhdxImage)Open(flat)) { Assert.Null(f.BackingFileName); Assert.Equal("dynamic", f.Subformat); }
        AssertQemuCheckClean(flat);
        AssertQemuCompare(flat, dir.File("expected.raw"));

        // Safe rebase onto a copy of the base (a different file): content unchanged, new locator.
        File.Copy(baseImage, dir.File("base2.vhdx"));
        Assert.Equal(0, Run("rebase", "-q", "-b", "base2.vhdx", "-F", "vhdx", top).Code);
        using (var t = Open(top)) { Assert.Equal("base2.vhdx", t.BackingFileName); AssertSameBytes(expected, ReadAll(t), "after rebase"); }

        // Commit into the base: the base holds the top's content, the emptied top still reads the same.
        Assert.Equal(0, Run("commit", "-q", top).Code);
        AssertQemuCheckClean(dir.File("base2.vhdx"));
        AssertQemuCompare(dir.File("base2.vhdx"), dir.File("expected.raw"));
        using (var t = (VhdxImage)Open(top))
        {
            AssertSameBytes(expected, ReadAll(t), "top after commit");
            Assert.Contains(t.FormatSpecific, kv => kv.Key == "parent-linkage-matches" && (bool)kv.Value!);
            for (long pos = 0; pos < size;)
            {
                var st = t.GetStatus(pos, size - pos);
                Assert.True(st.Depth > 0 || !st.IsAllocated, $"the emptied top still defines {pos}+{st.Length}");
                pos += st.Length;
            }
        }
    }
}
