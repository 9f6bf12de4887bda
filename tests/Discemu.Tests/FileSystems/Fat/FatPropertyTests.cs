using Discemu.Block;
using Discemu.FileSystems;
using Discemu.FileSystems.Fat;
using Discemu.Fuzz;
using Discemu.Tests.Infrastructure;
using FsCheck;
using FsCheck.Fluent;

namespace Discemu.Tests.FileSystems.Fat;

/// <summary>
/// Random sequences of put (step by step, or in one bulk create with times) / rm / mkdir / mv on a small FAT12 and FAT32 volume, checked against an in-memory model
/// (names with their case, contents) after every sequence, and by fsck.fat -n. Refused operations (name taken,
/// directory not empty, move into itself) must change nothing; a full disk or directory must change nothing either.
/// </summary>
public sealed class FatPropertyTests
{
    private static readonly string[] Names =
    [
        "a", "B", "readme.txt", "README.TXT", "Mixed Case Name.Text", "a long name with spaces and dots.tar.gz", "ünï.txt",
        "日本語", "x+y=z", "dir", "Dir Two", ".hidden", "e", "lower", "UPPER.BIN", "name.with.many.dots",
    ];

    private static Arbitrary<(int Kind, int A, int B, int C)[]> Ops { get; } =
        Gen.ArrayOf(Gen.Zip(Gen.Zip(Gen.Choose(0, 11), Gen.Choose(0, 1000)), Gen.Zip(Gen.Choose(0, 1000), Gen.Choose(0, 5000)),
            (ka, bc) => (ka.Item1, ka.Item2, bc.Item1, bc.Item2))).ToArbitrary();

    [FsCheck.Xunit.Property(MaxTest = 25)]
    public Property Fat12SequencesMatchTheModel() => Prop.ForAll(Ops, ops => Run(FatType.Fat12, ops));

    [FsCheck.Xunit.Property(MaxTest = 10)]
    public Property Fat32SequencesMatchTheModel() => Prop.ForAll(Ops, ops => Run(FatType.Fat32, ops));

    /// <summary>The same in write-back mode (what put uses): metadata held in memory must read back the same and land consistent.</summary>
    [FsCheck.Xunit.Property(MaxTest = 15)]
    public Property WriteBackSequencesMatchTheModel() => Prop.ForAll(Ops, ops => Run(FatType.Fat12, ops, writeBack: true));

    private static void Run(FatType type, (int Kind, int A, int B, int C)[] ops, bool writeBack = false)
    {
        using var tmp = new TempDir();
        var image = type == FatType.Fat12 ? HandFat.Empty(type, 1600, rootEntries: 32) : HandFat.Empty(type, 67_000);
        string path = tmp.File("p.img");
        File.WriteAllBytes(path, image);
        // Model: path (case kept) → content, null for directories. Lookups compare ignoring case, like FAT.
        var model = new Dictionary<string, byte[]?>(StringComparer.Ordinal) { ["/"] = null };
        using (var device = FileDevice.Open(path, writable: true))
        using (var fs = FatFileSystemType.Instance.Open(device, new FileSystemOpenOptions { Writable = true }))
        {
            var w = (IWritableFileSystem)fs;
            w.WriteBack = writeBack;
            int step = 0;
            foreach (var (kind, a, b, c) in ops)
            {
                step++;
                var dirs = model.Where(kv => kv.Value is null).Select(kv => kv.Key).Order(StringComparer.Ordinal).ToList();
                var all = model.Keys.Where(k => k != "/").Order(StringComparer.Ordinal).ToList();
                string parent = dirs[a % dirs.Count];
                string target = Join(parent, Names[b % Names.Length]);
                bool exists = Find(model, target) is not null;
                switch (kind)
                {
                    case <= 2: // put a file
                        {
                            var data = Enumerable.Range(0, c).Select(i => (byte)(i * 13 + c)).ToArray();
                            Expect(exists, () =>
                            {
                                w.CreateFile(target);
                                try { w.Write(target, 0, data); }
                                catch (DiskFullException) { w.Delete(target); throw; }
                            }, () => model[target] = data);
                            break;
                        }
                    case 3 or 4: // mkdir
                        Expect(exists, () => w.CreateDirectory(target), () => model[target] = null);
                        break;
                    case 5 or 6: // rm
                        {
                            if (all.Count == 0) break;
                            string victim = all[c % all.Count];
                            bool refuse = model[victim] is null && model.Keys.Any(k => k.StartsWith(victim + "/", StringComparison.Ordinal));
                            Expect(refuse, () => w.Delete(victim), () => model.Remove(victim));
                            break;
                        }
                    case 10 or 11: // put in one operation: content and times, with nothing left behind when refused or full
                        {
                            var data = Enumerable.Range(0, c).Select(i => (byte)(i * 7 + b)).ToArray();
                            var modified = new DateTimeOffset(1990 + a % 60, 1 + b % 12, 1 + c % 28, a % 24, b % 60, 2 * (c % 30), TimeSpan.Zero);
                            Expect(exists, () => w.CreateFile(target, data, new EntryTimes(modified, modified, modified)), () =>
                            {
                                model[target] = data;
                                var made = fs.Lookup(target);
                                Assert.Equal<DateTimeOffset?>(modified, made.Modified);
                                Assert.Equal(c, made.Size);
                            });
                            break;
                        }
                    default: // mv
                        {
                            if (all.Count == 0) break;
                            string from = all[c % all.Count];
                            bool intoSelf = model[from] is null && (parent == from || parent.StartsWith(from + "/", StringComparison.Ordinal));
                            bool sameEntry = string.Equals(Find(model, target), from, StringComparison.Ordinal);
                            Expect(exists && !sameEntry || intoSelf, () => w.Move(from, target), () =>
                            {
                                foreach (var key in model.Keys.Where(k => k == from || k.StartsWith(from + "/", StringComparison.Ordinal)).ToList())
                                {
                                    var v = model[key];
                                    model.Remove(key);
                                    model[target + key[from.Length..]] = v;
                                }
                            });
                            break;
                        }
                }
                foreach (var key in model.Keys)
                    Assert.True(fs.TryLookup(key) is { } found && found.IsDirectory == (model[key] is null), $"after step {step} ({kind}, {a}, {b}, {c}): {key} is not found as modelled");
            }
            var walked = FatTestKit.Walk(fs);
            var expected = model.Where(kv => kv.Key != "/").ToDictionary(kv => kv.Key, kv => kv.Value);
            Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), walked.Keys);
            foreach (var (p, v) in expected)
                if (v is not null) Assert.True(v.AsSpan().SequenceEqual(walked[p].Data), $"content of {p}");
            w.Flush();
        }
        if (PeerTools.Find("fsck.fat") is not null || PeerTools.InCi) FatTestKit.AssertFsckClean(path);
    }

    /// <summary>Runs the operation; a refused one must throw BadArgumentException, a full disk DiskFullException, both changing nothing.</summary>
    private static void Expect(bool refused, Action op, Action apply)
    {
        try
        {
            op();
        }
        catch (BadArgumentException) when (refused) { return; }
        catch (DiskFullException) when (!refused) { return; }
        Assert.False(refused, "the operation should have been refused");
        apply();
    }

    private static string? Find(Dictionary<string, byte[]?> model, string path)
        => model.Keys.FirstOrDefault(k => string.Equals(k, path, StringComparison.OrdinalIgnoreCase));

    private static string Join(string dir, string name) => dir == "/" ? "/" + name : dir + "/" + name;
}
