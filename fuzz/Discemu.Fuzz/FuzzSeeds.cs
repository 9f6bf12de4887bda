using System.Buffers.Binary;
using System.Text;
using Discemu.Formats.Qcow2;
using Discemu.Formats.Vmdk;

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
        foreach (var seed in VmdkSeeds()) yield return seed;
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

    /// <summary>VMDK seeds: descriptors as VMware tools, ovftool and qemu-img write them, sparse headers, a marker stream, and two small images.</summary>
    private static IEnumerable<(string, string, byte[])> VmdkSeeds()
    {
        string[] descriptors =
        [
            "# Disk DescriptorFile\nversion=1\nCID=e231f82\nparentCID=ffffffff\ncreateType=\"monolithicSparse\"\n\n# Extent description\nRW 204800 SPARSE \"a.vmdk\"\n\n# The Disk Data Base\n#DDB\n\nddb.virtualHWVersion = \"4\"\nddb.adapterType = \"ide\"\n",
            "# Disk DescriptorFile\r\nversion=1\r\nCID=2bdc5c77\r\nparentCID=ffffffff\r\ncreateType=streamOptimized\r\nRDONLY 16777216 SPARSE \"dest-0.vmdk\"\r\nddb.longContentID = \"0f34f5b76bb84ed44cd6b9f02bdc5c77\"\r\n",
            "version=1\nCID=cf5478b5\nparentCID=ffffffff\ncreateType=\"twoGbMaxExtentSparse\"\nRW 4194304 SPARSE \"t-s001.vmdk\"\nRW 4194304 SPARSE \"t-s002.vmdk\"\nRW 2097152 SPARSE \"t-s003.vmdk\"\n",
            "version=1\nCID=fffffffe\ncreateType=\"custom\"\nRW 2048 FLAT \"a part.bin\" 0 # comment\nRW 1024 ZERO\nNOACCESS 3072 FLAT \"b.bin\" 2048\nRW 100 VMFS \"c-flat.vmdk\"\n",
            "version=1\nCID=5755e12c\nparentCID=a6f1a16\ncreateType=\"monolithicSparse\"\nparentFileNameHint=\"base.vmdk\"\nRW 20480 SPARSE \"child.vmdk\"\n",
            "version=3\nencoding=\"UTF-8\"\nCID=12345678\nparentCID=87654321\nisNativeSnapshot=\"no\"\ncreateType=\"seSparse\"\nparentFileNameHint=\"x.vmdk\"\nRW 16384 SESPARSE \"x-sesparse.vmdk\"\nchangeTrackPath=\"x-ctk.vmdk\"\nCID=1\n",
        ];
        for (int i = 0; i < descriptors.Length; i++)
        {
            var bytes = Encoding.UTF8.GetBytes(descriptors[i]);
            yield return ("vmdk-descriptor", $"desc{i}", bytes);
            yield return ("probe", $"vmdk-desc{i}", bytes);
        }
        var monolithic = new VmdkSparseLayout(2048, 20, ZeroedGrain: false).Header;
        var zeroed = new VmdkSparseLayout(1 << 20, 0, ZeroedGrain: true).Header;
        var stream = monolithic with { Version = 3, Flags = 0x30001, RgdOffset = 0, GdOffset = ulong.MaxValue, CompressAlgorithm = 1 };
        foreach (var (name, header) in new[] { ("monolithic", monolithic), ("zeroed", zeroed), ("stream", stream) })
        {
            var b = new byte[512];
            header.Write(b);
            yield return ("vmdk-sparse-header", name, b);
        }
        yield return ("vmdk-stream-markers", "stream", StreamBody(0, out _));
        yield return ("image", "vmdk-monolithic", VmdkImageSeed(stream: false));
        yield return ("image", "vmdk-stream", VmdkImageSeed(stream: true));
        yield return ("probe", "vmdk-header", VmdkImageSeed(stream: false)[..512]);
    }

    /// <summary>
    /// A stream-optimized body starting at sector <paramref name="startSector"/>: one compressed grain
    /// (LBA 0), its grain table behind a marker, the directory behind its marker, the footer (the header
    /// of a 1 MiB disk with the directory's sector) and the end-of-stream marker.
    /// </summary>
    private static byte[] StreamBody(long startSector, out SparseExtentHeader footer)
    {
        var data = Enumerable.Range(0, 65536).Select(i => (byte)(i / 300)).ToArray();
        var compressed = new byte[VmdkCompression.Bound(data.Length)];
        int length = VmdkCompression.Deflate(data, compressed);
        int grainBytes = (12 + length + 511) / 512 * 512;
        var body = new byte[grainBytes + 512 + 2048 + 512 + 512 + 1536];
        VmdkMarker.WriteGrainHead(body, 0, (uint)length);
        compressed.AsSpan(0, length).CopyTo(body.AsSpan(12));
        int pos = grainBytes;
        VmdkMarker.WriteMetadata(body.AsSpan(pos), 4, 1);
        BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(pos + 512), (uint)startSector);
        long gtSector = startSector + pos / 512 + 1;
        pos += 512 + 2048;
        VmdkMarker.WriteMetadata(body.AsSpan(pos), 1, 2);
        BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(pos + 512), (uint)gtSector);
        long gdSector = startSector + pos / 512 + 1;
        pos += 1024;
        VmdkMarker.WriteMetadata(body.AsSpan(pos), 1, 3);
        footer = new SparseExtentHeader
        {
            Version = 3, Flags = 0x30001, Capacity = 2048, GrainSectors = 128, DescriptorOffset = 1, DescriptorSectors = 1,
            GtesPerGt = 512, GdOffset = (ulong)gdSector, Overhead = 2, CompressAlgorithm = 1,
        };
        footer.Write(body.AsSpan(pos + 512));
        return body;
    }

    /// <summary>A 1 MiB VMDK: monolithicSparse (qemu-img's layout, one grain written) or streamOptimized (VMware's layout, GD at end).</summary>
    private static byte[] VmdkImageSeed(bool stream)
    {
        string createType = stream ? "streamOptimized" : "monolithicSparse";
        var descriptor = Encoding.UTF8.GetBytes($"# Disk DescriptorFile\nversion=1\nCID=0000002a\nparentCID=ffffffff\ncreateType=\"{createType}\"\nRW 2048 SPARSE \"seed.vmdk\"\nddb.adapterType = \"ide\"\n");
        if (stream)
        {
            var body = StreamBody(2, out var footer);
            var image = new byte[1024 + body.Length];
            (footer with { GdOffset = ulong.MaxValue }).Write(image);
            descriptor.AsSpan(0, Math.Min(descriptor.Length, 512)).CopyTo(image.AsSpan(512));
            body.CopyTo(image, 1024);
            return image;
        }
        var layout = new VmdkSparseLayout(2048, 2, ZeroedGrain: false);
        long overhead = layout.OverheadSectors * 512;
        var file = new byte[overhead + 65536];
        layout.Header.Write(file);
        descriptor.CopyTo(file, 512);
        foreach (long gdSector in new[] { layout.RgdSector, layout.GdSector })
        {
            long gt = gdSector + layout.GdSectors;
            BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan((int)(gdSector * 512)), (uint)gt);
            BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan((int)(gt * 512)), (uint)(overhead / 512));
        }
        for (int i = 0; i < 65536; i++) file[overhead + i] = (byte)(i * 7);
        return file;
    }
}
