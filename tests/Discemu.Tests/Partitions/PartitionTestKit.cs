using System.Globalization;
using System.Text.Json;
using Discemu.Block;
using Discemu.Partitions;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Partitions;

/// <summary>One partition as sfdisk --json reports it (sectors; type as sfdisk prints it).</summary>
internal sealed record PeerPartition(int Number, long Start, long Size, string Type, string? Name, string? Uuid, string? Attrs, bool Bootable);

/// <summary>A table as sfdisk --json reports it.</summary>
internal sealed record PeerTable(string Label, string Id, int SectorSize, long? FirstLba, long? LastLba, IReadOnlyList<PeerPartition> Partitions);

/// <summary>Runs the partitioning peers (sfdisk, sgdisk, fdisk) and compares their view with ours.</summary>
internal static class PartitionTestKit
{
    public const long MiB = 1L << 20;

    /// <summary>sfdisk --json of a disk file.</summary>
    public static PeerTable Sfdisk(string path)
    {
        using var doc = JsonDocument.Parse(PeerTools.RunOk("sfdisk", "--json", path));
        var t = doc.RootElement.GetProperty("partitiontable");
        var parts = new List<PeerPartition>();
        if (t.TryGetProperty("partitions", out var list))
        {
            foreach (var p in list.EnumerateArray())
            {
                string node = p.GetProperty("node").GetString()!;
                parts.Add(new PeerPartition(
                    int.Parse(node[path.Length..], CultureInfo.InvariantCulture),
                    p.GetProperty("start").GetInt64(), p.GetProperty("size").GetInt64(), p.GetProperty("type").GetString()!,
                    Str(p, "name"), Str(p, "uuid"), Str(p, "attrs"), p.TryGetProperty("bootable", out var b) && b.GetBoolean()));
            }
        }
        return new PeerTable(t.GetProperty("label").GetString()!, t.GetProperty("id").GetString()!, t.GetProperty("sectorsize").GetInt32(),
            t.TryGetProperty("firstlba", out var f) ? f.GetInt64() : null, t.TryGetProperty("lastlba", out var l) ? l.GetInt64() : null, parts);
    }

    private static string? Str(JsonElement e, string name) => e.TryGetProperty(name, out var v) ? v.GetString() : null;

    /// <summary>sgdisk -v must find no problems.</summary>
    public static void AssertSgdiskClean(string path)
    {
        var (code, stdout, stderr) = PeerTools.Run("sgdisk", ["-v", path]);
        Assert.True(code == 0 && stdout.Contains("No problems found", StringComparison.Ordinal), $"sgdisk -v {path} exited {code}:\n{stdout}{stderr}");
    }

    /// <summary>Asserts our table and sfdisk's view list the same partitions: number, start, size, type, name, GUID, attributes, boot flag.</summary>
    public static void AssertSameAsPeer(PartitionTable ours, PeerTable peer)
    {
        Assert.Equal(ours.Format.Name == "gpt" ? "gpt" : "dos", peer.Label);
        Assert.Equal(ours.SectorSize, peer.SectorSize);
        Assert.Equal(ours.DiskId, ours.Format.Name == "gpt" ? peer.Id : peer.Id.ToLowerInvariant());
        Assert.Equal(ours.Partitions.Select(p => p.Number), peer.Partitions.Select(p => p.Number));
        foreach (var (p, q) in ours.Partitions.Zip(peer.Partitions))
        {
            string at = $"partition {p.Number}";
            Assert.True(p.Start == q.Start * ours.SectorSize, $"{at}: start {p.Start} vs sfdisk {q.Start} sectors");
            Assert.True(p.Length == q.Size * ours.SectorSize, $"{at}: length {p.Length} vs sfdisk {q.Size} sectors");
            if (ours.Format.Name == "gpt")
            {
                Assert.Equal(p.Type.Guid!.Value, Guid.Parse(q.Type));
                Assert.Equal(p.Name is { Length: > 0 } ? p.Name : null, q.Name);
                Assert.Equal(p.UniqueId!.Value, Guid.Parse(q.Uuid!));
                // sfdisk prints only the named bits and the type-specific ones (48-63).
                Assert.Equal(Discemu.Partitions.Gpt.GptAttributes.Format(p.Attributes & 0xFFFF_0000_0000_0007UL) is { Length: > 0 } a ? a : null, q.Attrs);
            }
            else
            {
                Assert.Equal(p.Type.MbrCode!.Value, Convert.ToByte(q.Type, 16));
                Assert.Equal(p.Bootable, q.Bootable);
            }
        }
    }

    /// <summary>Runs sfdisk with a script on stdin.</summary>
    public static void SfdiskScript(string path, string script, params string[] extra)
    {
        string scriptFile = path + ".sfdisk";
        File.WriteAllText(scriptFile, script);
        try
        {
            var (code, stdout, stderr) = PeerTools.Run("sh", ["-c", $"sfdisk --no-reread --no-tell-kernel -q {string.Join(' ', extra)} \"$0\" < \"$1\"", path, scriptFile]);
            if (code != 0) Assert.Fail($"sfdisk {path} exited {code}: {stderr}{stdout}");
        }
        finally { File.Delete(scriptFile); }
    }

    /// <summary>A sparse file of <paramref name="size"/> bytes.</summary>
    public static string SparseFile(TempDir dir, string name, long size)
    {
        string path = dir.File(name);
        using var fs = new FileStream(path, FileMode.Create, FileAccess.Write);
        fs.SetLength(size);
        return path;
    }

    /// <summary>Copies what a memory device holds into a sparse file of the same size.</summary>
    public static string DumpToFile(MemoryDevice device, string path)
    {
        using var fs = new FileStream(path, FileMode.Create, FileAccess.Write);
        fs.SetLength(device.Length);
        var buffer = new byte[1 << 16];
        for (long pos = 0; pos < device.Length;)
        {
            var st = device.GetStatus(pos, device.Length - pos);
            if (!st.IsZero)
            {
                for (long off = pos; off < pos + st.Length; off += buffer.Length)
                {
                    int n = (int)Math.Min(buffer.Length, pos + st.Length - off);
                    device.Read(off, buffer.AsSpan(0, n));
                    fs.Position = off;
                    fs.Write(buffer, 0, n);
                }
            }
            pos += st.Length;
        }
        return path;
    }

    /// <summary>A memory device holding a file's bytes.</summary>
    public static MemoryDevice Load(string path) => new(File.ReadAllBytes(path));

    /// <summary>The partitions in a form records compare by value.</summary>
    public static string Describe(IEnumerable<Partition> parts)
        => string.Join("; ", parts.Select(p => $"{p.Number}:{p.Kind}:{p.Start}+{p.Length}:{p.Type}:{p.Name}:{p.Bootable}:{p.Attributes:x}:{p.UniqueId}"));
}

/// <summary>A device that fails (after writing a prefix of whole sectors of the failing write) once <see cref="WritesLeft"/> reaches zero: a simulated crash.</summary>
internal sealed class CrashingDevice(BlockDevice inner, int writesLeft, int seed) : BlockDevice
{
    private readonly Random _rng = new(seed);

    public int WritesLeft { get; private set; } = writesLeft;

    public override long Length => inner.Length;

    public override DeviceCapabilities Capabilities => inner.Capabilities & ~DeviceCapabilities.Resize;

    protected override void ReadCore(long offset, Span<byte> buffer) => inner.Read(offset, buffer);

    protected override void WriteCore(long offset, ReadOnlySpan<byte> data)
    {
        if (WritesLeft-- <= 0)
        {
            int sectors = data.Length / 512;
            int prefix = sectors <= 1 ? 0 : _rng.Next(sectors) * 512;
            if (prefix > 0) inner.Write(offset, data[..prefix]);
            throw new IOException("simulated crash");
        }
        inner.Write(offset, data);
    }

    protected override void FlushCore() => inner.Flush();
}
