using System.Buffers.Binary;
using System.Text;
using Discemu.Formats.Qcow2;

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
        string[] mapfiles =
        [
            "# Mapfile. Created by GNU ddrescue version 1.27\n# current_pos  current_status  current_pass\n0x00120000     ?               1\n"
                + "#      pos        size  status\n0x00000000  0x00117000  +\n0x00117000  0x00000200  -\n0x00117200  0x00001000  /\n"
                + "0x00118200  0x00007E00  *\n0x00120000  0x00048000  ?\n",
            "1024 *\n0 700 +\n700 0144 -\n0x320 300 *# comment\n1100 400 +\n",
            "0 + 1\n4096 512 +\n",
            "0 ? 1\n",
        ];
        for (int i = 0; i < mapfiles.Length; i++) yield return ("ddrescue-mapfile", $"map{i}", Encoding.UTF8.GetBytes(mapfiles[i]));
        yield return ("probe", "zeros", new byte[512]);
        string[] options =
        [
            "cluster_size=64k,compat=1.1", "backing_file=a,,b.img,backing_fmt=qcow2", "size=1.5G", "lazy_refcounts",
            "=x", "a=1,,", "1E", "8E", "0.5k", "", ",,,,", "refcount_bits=64,extended_l2=on", "preallocation=full",
            "79228162514264337593543950335E", "compression_type=zstd,cluster_size=2M",
        ];
        for (int i = 0; i < options.Length; i++) yield return ("options", $"opt{i:00}", Encoding.UTF8.GetBytes(options[i]));
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
