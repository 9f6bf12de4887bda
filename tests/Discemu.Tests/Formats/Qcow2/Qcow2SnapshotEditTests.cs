using Discemu.Formats;
using Discemu.Tests.Cli;
using Discemu.Tests.Infrastructure;
using static Discemu.Tests.Formats.Qcow2.Qcow2TestKit;

namespace Discemu.Tests.Formats.Qcow2;

/// <summary>Creating, applying and deleting internal snapshots, checked against a model, our checker and qemu-img.</summary>
public sealed class Qcow2SnapshotEditTests
{
    private const long Size = 4 << 20;

    private static void Fill(DiskImage image, byte[] model, Random random)
    {
        int count = random.Next(1, 5);
        for (int i = 0; i < count; i++)
        {
            int length = random.Next(1, 200_000);
            long offset = random.NextInt64(0, Size - length);
            var span = model.AsSpan((int)offset, length);
            if (random.Next(4) == 0)
            {
                span.Clear();
                image.WriteZeroes(offset, length, mayUnmap: random.Next(2) == 0);
            }
            else
            {
                random.NextBytes(span);
                image.Write(offset, span);
            }
        }
    }

    private static void AssertOwnCheckClean(string path)
    {
        using var image = Open(path);
        var result = ((ICheckableImage)image).Check(CheckRepair.None);
        Assert.True(result.Corruptions == 0 && result.Leaks == 0, $"check: {result.Corruptions} corruptions, {result.Leaks} leaks");
    }

    [Theory]
    [InlineData("")]
    [InlineData("compat=0.10,cluster_size=4096")]
    [InlineData("extended_l2=on,cluster_size=65536")]
    [InlineData("refcount_bits=2,cluster_size=16384")]
    public void RandomSequencesMatchTheModelAndPassBothCheckers(string options)
    {
        PeerTools.Require("qemu-img");
        using var dir = new TempDir();
        string path = dir.File("a.qcow2");
        using (Create(path, Size, options)) { }
        var random = new Random(options.Length * 7919 + 17);
        var model = new byte[Size];
        var snapshots = new Dictionary<string, byte[]>();
        int created = 0;
        // Two-bit refcounts count at most 3 references: a fourth is refused (as qemu does) and changes nothing.
        bool Narrow(Action edit)
        {
            try { edit(); return true; }
            catch (UnsupportedFeatureException) when (options.Contains("refcount_bits=2", StringComparison.Ordinal)) { return false; }
        }
        for (int step = 0; step < 24; step++)
        {
            using (var image = Open(path, writable: true))
            {
                var editable = (IEditableSnapshotImage)image;
                int op = random.Next(10);
                if (op < 4) Fill(image, model, random);
                else if (op < 7 || snapshots.Count == 0)
                {
                    string name = "s" + created++;
                    if (Narrow(() => editable.CreateSnapshot(name))) snapshots[name] = (byte[])model.Clone();
                }
                else
                {
                    string name = snapshots.Keys.ElementAt(random.Next(snapshots.Count));
                    if (op < 9)
                    {
                        if (Narrow(() => editable.ApplySnapshot(name))) snapshots[name].CopyTo(model, 0);
                    }
                    else
                    {
                        editable.DeleteSnapshot(name);
                        snapshots.Remove(name);
                    }
                }
                AssertSameBytes(model, ReadAll(image), $"disk after step {step}");
            }
            AssertCheckClean(path);
        }
        AssertOwnCheckClean(path);
        Assert.True(created > 2, "the sequence created too few snapshots to test anything");
        using (var image = Open(path))
        {
            var snaps = (ISnapshotImage)image;
            Assert.Equal(snapshots.Keys.Order(), snaps.Snapshots.Select(s => s.Name).Order());
            foreach (var (name, content) in snapshots)
            {
                using var view = snaps.OpenSnapshot(name);
                AssertSameBytes(content, ReadAll(view), $"snapshot {name}");
            }
        }
        // qemu-img reverts to our snapshots the same way (where the refcounts have room for it to do so).
        foreach (var (name, content) in snapshots)
        {
            if (options.Contains("refcount_bits=2", StringComparison.Ordinal)) break;
            QemuImg("snapshot", "-a", name, path);
            AssertSameBytes(content, QemuRaw(dir, path), $"qemu-img snapshot -a {name}");
        }
        AssertCheckClean(path);
    }

    [Fact]
    public void SnapshotsQemuMadeAreAppliedAndDeletedLikeQemuDoes()
    {
        PeerTools.Require("qemu-img");
        using var dir = new TempDir();
        string ours = dir.File("ours.qcow2"), theirs = dir.File("theirs.qcow2");
        QemuImg("create", "-q", "-f", "qcow2", ours, "8M");
        QemuIo(ours, "write -P 1 0 1M", "write -c -P 2 2M 64k", "write -z 3M 128k");
        QemuImg("snapshot", "-c", "first", ours);
        QemuIo(ours, "write -P 3 512k 1M", "write -P 4 2M 4k");
        QemuImg("snapshot", "-c", "second", ours);
        QemuIo(ours, "write -P 5 0 8M");
        QemuImg("resize", "-q", ours, "16M");
        File.Copy(ours, theirs);

        Assert.Equal(0, CliHarness.Run("snapshot", "-a", "first", ours).Code);
        QemuImg("snapshot", "-a", "first", theirs);
        AssertSameBytes(QemuRaw(dir, theirs), QemuRaw(dir, ours), "after applying 'first'");
        using (var reverted = Open(ours)) Assert.Equal(8L << 20, reverted.Length); // the size the snapshot recorded

        Assert.Equal(0, CliHarness.Run("snapshot", "-d", "first", ours).Code);
        QemuImg("snapshot", "-d", "first", theirs);
        AssertCheckClean(ours);
        Assert.Equal(0, CliHarness.Run("snapshot", "-a", "second", ours).Code);
        QemuImg("snapshot", "-a", "second", theirs);
        AssertSameBytes(QemuRaw(dir, theirs), QemuRaw(dir, ours), "after applying 'second'");
        Assert.Equal(0, CliHarness.Run("snapshot", "-d", "second", ours).Code);
        AssertCheckClean(ours);
        Assert.Empty(PeerTools.RunOk("qemu-img", "snapshot", "-l", ours));
        AssertOwnCheckClean(ours);
    }

    [Fact]
    public void CreatedSnapshotIsListedByQemuImgLikeItsOwn()
    {
        PeerTools.Require("qemu-img");
        using var dir = new TempDir();
        string path = dir.File("a.qcow2");
        QemuImg("create", "-q", "-f", "qcow2", path, "1M");
        Assert.Equal(0, CliHarness.Run("snapshot", "-c", "mine", path).Code);
        QemuImg("snapshot", "-c", "theirs", path);
        Assert.Equal(0, CliHarness.Run("snapshot", "-c", "mine", path).Code); // names may repeat; ids may not
        var lines = QemuImg("snapshot", "-l", path).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["1 mine", "2 theirs", "3 mine"], lines.Skip(2).Select(l => string.Join(' ', l.Split(' ', StringSplitOptions.RemoveEmptyEntries).Take(2))));
        Assert.Equal(QemuImg("snapshot", "-l", path), CliHarness.Run("snapshot", "-l", path).Out);
        var info = QemuImg("info", "--output=json", path);
        Assert.Contains("\"vm-state-size\": 0", info, StringComparison.Ordinal);
    }

    [Fact]
    public void BadRequestsGetOneLineErrors()
    {
        using var dir = new TempDir();
        string path = dir.File("a.qcow2");
        using (Create(path, 1 << 20, "refcount_bits=1")) { }
        var missing = CliHarness.Run("snapshot", "-a", "nope", path);
        Assert.Equal(1, missing.Code);
        Assert.Contains("nope", missing.Err, StringComparison.Ordinal);
        var mixed = CliHarness.Run("snapshot", "-l", "-c", "x", path);
        Assert.NotEqual(0, mixed.Code);
        Assert.Contains("Cannot mix", mixed.Err, StringComparison.Ordinal);
        using (var image = Open(path, writable: true))
        {
            image.Write(0, Enumerable.Repeat((byte)1, 4096).ToArray());
        }
        var narrow = CliHarness.Run("snapshot", "-c", "x", path);
        Assert.NotEqual(0, narrow.Code);
        Assert.Single(narrow.Err.Trim().Split('\n'));
        using (var image = Open(path)) Assert.Empty(((ISnapshotImage)image).Snapshots);
        string raw = dir.File("r.raw");
        File.WriteAllBytes(raw, new byte[4096]);
        var noSnapshots = CliHarness.Run("snapshot", "-c", "x", raw);
        Assert.NotEqual(0, noSnapshots.Code);
        Assert.Contains("no internal snapshots", noSnapshots.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void ConvertCopiesASnapshotLikeQemuImg()
    {
        PeerTools.Require("qemu-img");
        using var dir = new TempDir();
        string path = dir.File("a.qcow2");
        QemuImg("create", "-q", "-f", "qcow2", path, "2M");
        QemuIo(path, "write -P 1 0 1M");
        Assert.Equal(0, CliHarness.Run("snapshot", "-c", "before", path).Code);
        QemuIo(path, "write -P 2 512k 1M");
        foreach (var how in new[] { new[] { "-l", "before" }, ["-l", "snapshot.id=1"], ["-l", "snapshot.name=before"] })
        {
            string ours = dir.File("ours.raw"), theirs = dir.File("theirs.raw");
            File.Delete(ours);
            File.Delete(theirs);
            Assert.Equal(0, CliHarness.Run(["convert", .. how, "-O", "raw", path, ours]).Code);
            QemuImg(["convert", .. how, "-O", "raw", path, theirs]);
            AssertSameBytes(File.ReadAllBytes(theirs), File.ReadAllBytes(ours), string.Join(' ', how));
        }
        var bad = CliHarness.Run("convert", "-l", "nope", "-O", "raw", path, dir.File("x.raw"));
        Assert.Equal(1, bad.Code);
        Assert.Contains("nope", bad.Err, StringComparison.Ordinal);
    }
}
