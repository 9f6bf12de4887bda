using System.Buffers.Binary;
using System.Text;
using Discemu.Block;
using Discemu.Formats.Qcow2;
using Discemu.Partitions;
using Discemu.Partitions.Gpt;
using Discemu.Partitions.Mbr;

namespace Discemu.Fuzz;

/// <summary>Small, valid-looking starting inputs for each fuzz target (the fuzzer mutates them).</summary>
internal static class FuzzSeeds
{
    /// <summary>Every seed as (target, file name, bytes).</summary>
    public static IEnumerable<(string Target, string Name, byte[] Data)> All()
    {
        foreach (var (name, data) in Qcow2Headers())
        {
            yield return ("qcow2-header", name, data);
            yield return ("probe", name, data);
            yield return ("image", name, PadTo(data, 3 * 65536));
        }
        yield return ("image", "zeros", new byte[4096]);
        yield return ("image", "pattern", Enumerable.Range(0, 70_000).Select(i => (byte)(i * 31)).ToArray());
        yield return ("image", "empty", []);
        yield return ("probe", "empty", []);
        yield return ("probe", "zeros", new byte[512]);
        string[] options =
        [
            "cluster_size=64k,compat=1.1", "backing_file=a,,b.img,backing_fmt=qcow2", "size=1.5G", "lazy_refcounts",
            "=x", "a=1,,", "1E", "8E", "0.5k", "", ",,,,", "refcount_bits=64,extended_l2=on", "preallocation=full",
            "79228162514264337593543950335E", "compression_type=zstd,cluster_size=2M",
        ];
        for (int i = 0; i < options.Length; i++) yield return ("options", $"opt{i:00}", Encoding.UTF8.GetBytes(options[i]));
        foreach (var (name, data) in PartitionDisks()) yield return (name.StartsWith("gpt", StringComparison.Ordinal) ? "gpt" : "mbr", name, data);
    }

    /// <summary>Small whole disks with partition tables (4 KiB alignment, fixed GUIDs so the corpus is reproducible).</summary>
    public static IEnumerable<(string Name, byte[] Data)> PartitionDisks()
    {
        var linux = PartitionType.FromGuid(PartitionTypes.LinuxFilesystem);
        byte[] Gpt(long size, int sectorSize, int entries, Action<PartitionTable>? fill, Action<byte[]>? damage = null)
        {
            using var disk = new MemoryDevice(size);
            var t = GptFormat.Instance.Create(disk, new PartitionTableCreateOptions { SectorSize = sectorSize, Alignment = 4096, EntryCount = entries, DiskGuid = new Guid("0520EB01-690A-41F0-8DC3-C5A596E4BE5D") });
            fill?.Invoke(t);
            var bytes = new byte[size];
            disk.Read(0, bytes);
            damage?.Invoke(bytes);
            return bytes;
        }
        void Three(PartitionTable t)
        {
            t.Add(new PartitionSpec { Type = PartitionType.FromGuid(PartitionTypes.EfiSystem), Length = 8192, Name = "esp", UniqueId = new Guid("11111111-2222-3333-4444-555555555555") });
            t.Add(new PartitionSpec { Type = linux, Length = 16384, Name = "root", Bootable = true, Attributes = 1UL << 60, UniqueId = new Guid("21111111-2222-3333-4444-555555555555") });
            t.Add(new PartitionSpec { Type = PartitionType.FromGuid(PartitionTypes.LinuxSwap), Number = 4, UniqueId = new Guid("31111111-2222-3333-4444-555555555555") });
        }
        yield return ("gpt-512", Gpt(128 << 10, 512, 128, Three));
        yield return ("gpt-4k", Gpt(128 << 10, 4096, 128, Three));
        yield return ("gpt-small-array", Gpt(64 << 10, 512, 4, Three));
        yield return ("gpt-primary-damaged", Gpt(128 << 10, 512, 128, Three, b => b[512 + 60] ^= 0xFF));
        yield return ("gpt-hybrid", Gpt(128 << 10, 512, 128, Three, b =>
        {
            new MbrRecord(0, default, 0x0C, default, 64, 16).WriteAt(b, 1);
        }));

        byte[] Mbr(long size, Action<PartitionTable> fill)
        {
            using var disk = new MemoryDevice(size);
            var t = MbrFormat.Instance.Create(disk, new PartitionTableCreateOptions { DiskSignature = 0x12345678 });
            t.Alignment = 4096;
            fill(t);
            var bytes = new byte[size];
            disk.Read(0, bytes);
            return bytes;
        }
        yield return ("mbr-primaries", Mbr(64 << 10, t =>
        {
            t.Add(new PartitionSpec { Type = PartitionType.FromMbrCode(0x0C), Length = 8192, Bootable = true });
            t.Add(new PartitionSpec { Type = PartitionType.FromMbrCode(0x83), Number = 3 });
        }));
        yield return ("mbr-logicals", Mbr(96 << 10, t =>
        {
            t.Add(new PartitionSpec { Type = PartitionType.FromMbrCode(0x07), Length = 8192 });
            t.Add(new PartitionSpec { Type = PartitionType.FromMbrCode(0x05) });
            for (int i = 0; i < 4; i++) t.Add(new PartitionSpec { Type = PartitionType.FromMbrCode((byte)(0x82 + i % 2)), Length = 8192, Logical = true });
            t.Remove(6);
        }));
        yield return ("mbr-empty", Mbr(16 << 10, _ => { }));
    }

    private static byte[] PadTo(byte[] data, int length)
    {
        var b = new byte[Math.Max(length, data.Length)];
        data.CopyTo(b, 0);
        return b;
    }

    /// <summary>Headers of several shapes, followed by extensions where the version has them.</summary>
    private static IEnumerable<(string, byte[])> Qcow2Headers()
    {
        var v3 = new Qcow2Header
        {
            Version = 3, ClusterBits = 16, Size = 1L << 30, L1Size = 2, L1TableOffset = 0x30000,
            RefcountTableOffset = 0x10000, RefcountTableClusters = 1, RefcountOrder = 4,
            HeaderLength = Qcow2Constants.V3HeaderLength,
        };
        yield return ("v3", Build(v3, extensions: true, backing: null));
        yield return ("v3-zstd", Build(v3 with { CompressionType = Qcow2Constants.CompressionZstd, IncompatibleFeatures = Qcow2Constants.IncompatCompressionType }, true, null));
        yield return ("v3-extl2", Build(v3 with { IncompatibleFeatures = Qcow2Constants.IncompatExtendedL2, ClusterBits = 12 }, true, "base.qcow2"));
        yield return ("v3-short", Build(v3 with { HeaderLength = Qcow2Constants.V3MinHeaderLength }, false, null));
        yield return ("v3-rc64-snap", Build(v3 with { RefcountOrder = 6, SnapshotCount = 1, SnapshotsOffset = 0x40000 }, true, null));
        var v2 = v3 with { Version = 2, HeaderLength = Qcow2Constants.V2HeaderLength, RefcountOrder = 4 };
        yield return ("v2", Build(v2, false, null));
        yield return ("v2-backing", Build(v2, false, "/images/base.img"));
    }

    private static byte[] Build(Qcow2Header header, bool extensions, string? backing)
    {
        var cluster = new byte[4096];
        int pos = header.HeaderLength;
        if (backing is not null)
        {
            header = header with { BackingFileOffset = 2048, BackingFileSize = (uint)Encoding.UTF8.GetByteCount(backing) };
            Encoding.UTF8.GetBytes(backing).CopyTo(cluster, 2048);
        }
        header.Write(cluster);
        if (extensions)
        {
            pos += Qcow2HeaderExtension.WriteAll(
            [
                new Qcow2HeaderExtension(Qcow2Constants.ExtBackingFormat, "qcow2"u8.ToArray()),
                new Qcow2HeaderExtension(Qcow2Constants.ExtFeatureNameTable, FeatureName(0, 0, "dirty bit")),
                new Qcow2HeaderExtension(0x12345678, [1, 2, 3]),
            ], cluster.AsSpan(pos));
        }
        return cluster;
    }

    private static byte[] FeatureName(byte type, byte bit, string name)
    {
        var b = new byte[48];
        b[0] = type;
        b[1] = bit;
        Encoding.ASCII.GetBytes(name).CopyTo(b, 2);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(46), 0);
        return b;
    }
}
