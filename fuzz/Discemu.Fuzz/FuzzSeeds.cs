using System.Buffers.Binary;
using System.Text;
using Discemu.Formats.Dmg;
using Discemu.Formats.Vdi;
using Discemu.Formats.Vhd;
using Discemu.Formats.Qcow2;
using Discemu.Partitions.Mbr;
using Discemu.Partitions.Gpt;
using Discemu.Partitions;
using Discemu.Block;
using Discemu.Formats.Vhdx;
using Discemu.Formats.Vmdk;

namespace Discemu.Fuzz;

/// <summary>Small, valid-looking starting inputs for each fuzz target (the fuzzer mutates them).</summary>
internal static class FuzzSeeds
{
    /// <summary>Every seed as (target, file name, bytes).</summary>
    public static IEnumerable<(string Target, string Name, byte[] Data)> All()
    {
        foreach (var seed in VirtualDiskSeeds()) yield return seed;
        foreach (var (name, data) in Qcow2Headers())
        {
            yield return ("qcow2-header", name, data);
            yield return ("probe", name, data);
            yield return ("image", name, PadTo(data, 3 * 65536));
        }
        foreach (var (name, data) in VhdxStructures())
        {
            yield return ("vhdx-metadata", name, data);
            yield return ("probe", "vhdx-" + name, data);
        }
        foreach (var seed in IsoSeeds.All()) yield return seed;
        foreach (var seed in HandUdf.Seeds()) yield return seed;
        foreach (var type in new[] { Discemu.FileSystems.Fat.FatType.Fat12, Discemu.FileSystems.Fat.FatType.Fat16, Discemu.FileSystems.Fat.FatType.Fat32 })
            yield return ("fat", "fat" + (int)type, HandFat.Sample(type));
        foreach (var (name, data) in VhdxLogs()) yield return ("vhdx-log", name, data);
        yield return ("image", "vhdx-empty", VhdxImageSeed());
        yield return ("image", "zeros", new byte[4096]);
        yield return ("nbd-messages", "read-request", [0x25, 0x60, 0x95, 0x13, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0x10, 0]);
        yield return ("nbd-messages", "go-option", [.. "IHAVEOPT"u8.ToArray(), 0, 0, 0, 7, 0, 0, 0, 10, 0, 0, 0, 4, .. "disk"u8.ToArray(), 0, 1, 0, 3]);
        yield return ("nbd-messages", "info-payload", [0, 0, 0, 4, .. "disk"u8.ToArray(), 0, 2, 0, 1, 0, 3]);
        yield return ("nbd-messages", "meta-payload", [0, 0, 0, 4, .. "disk"u8.ToArray(), 0, 0, 0, 1, 0, 0, 0, 15, .. "base:allocation"u8.ToArray()]);
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
        foreach (var seed in DmgSeeds()) yield return seed;
        foreach (var seed in VmdkSeeds()) yield return seed;
        foreach (var (name, text) in CueSheets())
        {
            yield return ("cue-sheet", name, Encoding.UTF8.GetBytes(text));
            yield return ("probe", "cue-" + name, Encoding.UTF8.GetBytes(text));
        }
        foreach (var (target, name, data) in EwfSeeds()) yield return (target, name, data);
        foreach (var (name, data) in PartitionDisks()) yield return (name.StartsWith("gpt", StringComparison.Ordinal) ? "gpt" : "mbr", name, data);
        foreach (var floppy in new[] { "160K", "320K" }) yield return ("fat-check", "fat12-" + floppy, FatFloppySeed(floppy));
    }

    /// <summary>An empty labelled FAT12 floppy made by the formatter (invariant, so the seed is stable).</summary>
    private static byte[] FatFloppySeed(string name)
    {
        var geometry = FileSystems.Fat.FatFloppyGeometry.Find(name);
        using var device = new MemoryDevice(geometry.Length);
        FileSystems.Fat.FatFormatter.Format(device, new FileSystems.Fat.FatFormatOptions { Floppy = geometry, Label = "FUZZ", Invariant = true });
        var bytes = new byte[geometry.Length];
        device.Read(0, bytes);
        return bytes;
    }

    // Streams made by the test kit's encoders (tests/Discemu.Tests/Formats/Dmg) from DmgSampleText.
    private const string AdcSample =
        "826162630C029B642074686520717569636B2062726F776E20666F78206A756D70733B56001A8720616761696E2C2020" +
        "468930313233343536373839240A802F3000";

    private const string LzvnSample =
        "C803616263F2E009642074686520717569636B2062726F776E20666F78206A756DC81B70733BF006E52061676169C847" +
        "6E2C20F7E730313233343536C80B373839F868012FF70600000000000000";

    private const string LzfseLzvnSample =
        "6276786E780000004E000000C803616263F2E009642074686520717569636B2062726F776E20666F78206A756DC81B70" +
        "733BF006E52061676169C8476E2C20F7E730313233343536C80B373839F868012FF7060000000000000062767824";

    private const string LzfseV1Sample =
        "6276783178000000300000003400000005000000210000000F000000FCFFFFFFCC010F022D024D02FCFFFFFF13000F00" +
        "35000000100000000C0000000000000000000C0000000C0000000000000000000000000000000C000000000000000000" +
        "000000000000100000000000000000000C000C00000000000C0000000C00000000000000340000003300000000000000" +
        "330000000000000033000000000000000000330000000000000000000000000000000000000000000000000000000000" +
        "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" +
        "000000000000000000000000000000000000270000000000000000000000000000000000000000000000000000000000" +
        "00000000000000000000000000000000000000000000000000000000000000000000A000000000000000000000000000" +
        "000000000000000000001300000000001300130013001300130013001300130013001300130000001300000000000000" +
        "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" +
        "00000000000000000000000000000000000000003B002700270013001300130013001300270013001300000013002700" +
        "270013001300130013001300270000001300130000000000000000000000000000000000000000000000000000000000" +
        "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" +
        "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" +
        "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" +
        "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" +
        "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" +
        "00000000E47C96D2FF3D3C2AE1183917C0BC1F052163DAA10ECF9CA949FB526FE1570A000000000000000040C81EBF18" +
        "540F62767824";

    private const string LzfseV2Sample =
        "62767832780000003400100200050030CC3DD862930F0030AC000000133C50031C720470C411007004001C021C1DC111" +
        "47C073C06F00FC06C06F00F01B000000000000000000000000FF0000000000000000F088000000B7707B7B7B7B7B7B7B" +
        "7B7B7BCB2D0000000000000000003FC23FF00FDCDEDEDEDEFE03B7B7DCFE03FFC0EDEDEDEDED3FC0ED2D000000000000" +
        "000000000000000000000000000000000000000000000000000000000000E47C96D2FF3D3C2AE1183917C0BC1F052163" +
        "DAA10ECF9CA949FB526FE1570A000000000000000040C81EBF18540F62767824";

    /// <summary>The 120 bytes every codec sample decodes to.</summary>
    internal static byte[] DmgSampleText =>
        "abcabcabcd the quick brown fox jumps; the quick brown fox jumps again, abcabcabcd 0123456789 0123456789 ////////////////"u8.ToArray();

    /// <summary>Codec target input: the output length (16-bit little-endian), then the compressed stream.</summary>
    private static byte[] CodecInput(int outputLength, byte[] stream) => [(byte)outputLength, (byte)(outputLength >> 8), .. stream];

    private static IEnumerable<(string Target, string Name, byte[] Data)> DmgSeeds()
    {
        int n = DmgSampleText.Length;
        byte[] stored = [.. "bvx-"u8, (byte)n, 0, 0, 0, .. DmgSampleText, .. "bvx$"u8];
        yield return ("adc", "sample", CodecInput(n, Convert.FromHexString(AdcSample)));
        yield return ("adc", "literal", CodecInput(4, [0x83, 1, 2, 3, 4]));
        yield return ("lzvn", "sample", CodecInput(n, Convert.FromHexString(LzvnSample)));
        yield return ("lzfse", "stored", CodecInput(n, stored));
        yield return ("lzfse", "lzvn", CodecInput(n, Convert.FromHexString(LzfseLzvnSample)));
        yield return ("lzfse", "v1", CodecInput(n, Convert.FromHexString(LzfseV1Sample)));
        yield return ("lzfse", "v2", CodecInput(n, Convert.FromHexString(LzfseV2Sample)));
        foreach (var (name, image) in DmgImages())
        {
            yield return ("dmg", name, image);
            yield return ("probe", "dmg-" + name, image);
        }
        yield return ("dmg-plist", "blkx", Encoding.UTF8.GetBytes(DmgPlistText([BlockTable(0, [new(DmgChunkType.Zlib, 0, 0, 8, 0, 100)])])));
        yield return ("dmg-plist", "empty", "<plist version=\"1.0\"><dict><key>resource-fork</key><dict/></dict></plist>"u8.ToArray());
    }

    private static byte[] BlockTable(long start, IReadOnlyList<DmgChunkEntry> entries)
        => new DmgBlockTable
        {
            StartSector = start,
            SectorCount = entries.Count == 0 ? 0 : entries.Max(e => e.StartSector + e.SectorCount),
            Checksum = new DmgChecksum(DmgConstants.ChecksumNone, 0, new byte[DmgConstants.ChecksumBytes]),
            Entries = entries,
        }.Write();

    private static string DmgPlistText(IEnumerable<byte[]> tables)
    {
        var sb = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n");
        sb.Append("<plist version=\"1.0\"><dict><key>resource-fork</key><dict><key>blkx</key><array>");
        int id = -1;
        foreach (var t in tables)
            sb.Append($"<dict><key>Attributes</key><string>0x0050</string><key>Data</key><data>{Convert.ToBase64String(t)}</data><key>ID</key><string>{id++}</string><key>Name</key><string>part {id}</string></dict>");
        sb.Append("</array></dict></dict></plist>\n");
        return sb.ToString();
    }

    /// <summary>Small UDIF images: zlib, raw, zero, ignore, ADC and LZFSE chunks over two partitions, with an XML plist.</summary>
    private static IEnumerable<(string, byte[])> DmgImages()
    {
        var text = DmgSampleText;
        var sector = new byte[512];
        for (int i = 0; i < 512; i++) sector[i] = text[i % text.Length];
        byte[] zlib;
        using (var ms = new MemoryStream())
        {
            using (var z = new System.IO.Compression.ZLibStream(ms, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true))
                for (int i = 0; i < 8; i++) z.Write(sector);
            zlib = ms.ToArray();
        }
        // Codec samples decode to 120 bytes: pad them to a sector with an LZFSE stored block.
        byte[] lzfse = [.. Convert.FromHexString(LzfseV2Sample)[..^4], .. "bvx-"u8, 0x88, 0x01, 0, 0, .. new byte[392], .. "bvx$"u8];
        var fork = new MemoryStream();
        long At(byte[] b) { long p = fork.Position; fork.Write(b); return p; }
        long zAt = At(zlib), rAt = At(sector), fAt = At(lzfse);
        var first = BlockTable(0, [new(DmgChunkType.Zlib, 0, 0, 8, zAt, zlib.Length), new(DmgChunkType.Raw, 0, 8, 1, rAt, 512), new(DmgChunkType.Zero, 0, 9, 3, 0, 0)]);
        var second = BlockTable(12, [new(DmgChunkType.Ignore, 0, 0, 2, 0, 0), new(DmgChunkType.Lzfse, 0, 2, 1, fAt, lzfse.Length), new(DmgChunkType.Comment, 0, 3, 0, 0, 0)]);
        yield return ("two-partitions", DmgFile(fork.ToArray(), Encoding.UTF8.GetBytes(DmgPlistText([first, second])), 15));
        yield return ("no-metadata", DmgFile(sector, [], 1));
    }

    private static byte[] DmgFile(byte[] dataFork, byte[] xml, long sectors)
    {
        var koly = new byte[DmgConstants.KolySize];
        new DmgTrailer
        {
            Version = DmgConstants.KolyVersion,
            Flags = DmgConstants.FlagFlattened,
            DataForkLength = dataFork.Length,
            PlistOffset = xml.Length == 0 ? 0 : dataFork.Length,
            PlistLength = xml.Length,
            DataChecksum = DmgChecksum.FromCrc32(System.IO.Hashing.Crc32.HashToUInt32(dataFork)),
            MasterChecksum = new DmgChecksum(DmgConstants.ChecksumNone, 0, new byte[DmgConstants.ChecksumBytes]),
            ImageVariant = 1,
            SectorCount = sectors,
        }.Write(koly);
        return [.. dataFork, .. xml, .. koly];
    }

    /// <summary>Small E01 sets written by EwfWriter, Ex01 sets from the EWF2 builder, and header texts.</summary>
    private static IEnumerable<(string, string, byte[])> EwfSeeds()
    {
        var media = new byte[6 * 4096];
        for (int i = 0; i < 8192; i++) media[i] = (byte)(i * 7 + (i >> 9));
        string dir = Path.Combine(Path.GetTempPath(), "discemu-seeds-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        var seeds = new List<(string, string, byte[])>();
        try
        {
            foreach (var compression in new[] { Discemu.Formats.Ewf.EwfCompression.None, Discemu.Formats.Ewf.EwfCompression.Fast })
            {
                string path = Path.Combine(dir, $"{compression}.E01");
                using (var w = Discemu.Formats.Ewf.EwfWriter.Create(path, new Discemu.Formats.Ewf.EwfWriterOptions
                {
                    MediaSize = media.Length, SectorsPerChunk = 8, Compression = compression,
                    CaseNumber = "C1", ExaminerName = "E", Notes = "n", AcquisitionDate = DateTimeOffset.UnixEpoch,
                }))
                {
                    w.Append(media);
                    w.AddError(4096, 1024);
                    w.Complete();
                }
                seeds.Add(("ewf", $"e01-{compression}", File.ReadAllBytes(path)));
                seeds.Add(("probe", $"e01-{compression}", File.ReadAllBytes(path)[..512]));
            }
            foreach (bool compress in new[] { true, false })
            {
                string path = Path.Combine(dir, $"x{compress}.Ex01");
                Ewf2Builder.Write(path, media, new Ewf2Builder.Options { SectorsPerChunk = 8, Compress = compress, Errors = [(3, 2)] });
                seeds.Add(("ewf2", $"ex01-{(compress ? "zlib" : "raw")}", File.ReadAllBytes(path)));
            }
        }
        finally { Directory.Delete(dir, recursive: true); }
        foreach (var s in seeds) yield return s;
        var info = new Discemu.Formats.Ewf.EwfCaseInfo { CaseNumber = "case 7", ExaminerName = "Jane Doe", Description = "desc", Notes = "notes", EvidenceNumber = "ev" };
        yield return ("ewf-header", "header2", Discemu.Formats.Ewf.EwfHeaderText.BuildHeader2(info, DateTimeOffset.UnixEpoch));
        yield return ("ewf-header", "header", Discemu.Formats.Ewf.EwfHeaderText.BuildHeader(info, DateTimeOffset.UnixEpoch));
        yield return ("ewf-header", "xheader", Encoding.UTF8.GetBytes("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<xheader>\n\t<case_number>1</case_number>\n\t<acquiry_date>Sat Jan 20 18:32:08 2007 CET</acquiry_date>\n</xheader>\n"));
        yield return ("ewf-header", "ewf2-case", [0xff, 0xfe, .. Encoding.Unicode.GetBytes("1\nmain\nnm\tcn\tex\ttt\nA\u0003B\t42\tme\t1700000000\n\n")]);
        yield return ("ewf-header", "linen", Encoding.ASCII.GetBytes("3\nmain\na\tc\tn\te\tt\tm\tu\n\t\t\t\t\t1142163845\t1142163845\n\nsrce\n"));
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

    /// <summary>A VHDX header, region table, metadata (with and without a parent locator) and a locator alone.</summary>
    private static IEnumerable<(string, byte[])> VhdxStructures()
    {
        var header = new VhdxHeader { SequenceNumber = 3, FileWriteGuid = Guid.NewGuid(), DataWriteGuid = Guid.NewGuid(), LogGuid = Guid.NewGuid(), Version = 1, LogLength = 1 << 20, LogOffset = 1 << 20 };
        var h = new byte[4096];
        header.Write(h);
        yield return ("header", h);
        yield return ("regions", VhdxRegionTable.Create([new VhdxRegion(VhdxConstants.BatRegion, 3 << 20, 1 << 20, true), new VhdxRegion(VhdxConstants.MetadataRegion, 2 << 20, 1 << 20, true)]).ToBytes());
        yield return ("metadata", VhdxMetadata.Create(1 << 20, false, 1L << 30, Guid.NewGuid(), 512, 4096, null).ToBytes(1 << 20));
        var locator = new VhdxParentLocator(VhdxConstants.VhdxParentLocatorType, [new("parent_linkage", Guid.NewGuid().ToString("B")), new("relative_path", @"..\base.vhdx")]);
        yield return ("metadata-parent", VhdxMetadata.Create(32 << 20, false, 4L << 30, Guid.NewGuid(), 4096, 4096, locator).ToBytes(1 << 20));
        yield return ("locator", locator.ToBytes());
    }

    /// <summary>Log regions: one entry, a sequence of three, a wrapped entry.</summary>
    private static IEnumerable<(string, byte[])> VhdxLogs()
    {
        var guid = Guid.NewGuid();
        (long, byte[])[] Pages(int n, int seed) => [.. Enumerable.Range(0, n).Select(i => ((long)(1 << 20) + i * 8192L, Enumerable.Range(0, 4096).Select(j => (byte)(j * seed + i)).ToArray()))];
        var one = new byte[64 << 10];
        VhdxLog.BuildEntry(guid, 1, 0, Pages(2, 3), 0, 4 << 20).CopyTo(one, 0);
        yield return ("one-entry", one);
        var three = new byte[128 << 10];
        long pos = 8192;
        for (int i = 0; i < 3; i++)
        {
            var e = VhdxLog.BuildEntry(guid, 10UL + (ulong)i, 8192, Pages(i + 1, 5 + i), 1 << 20, 4 << 20);
            e.CopyTo(three, pos);
            pos += e.Length;
        }
        yield return ("three-entries", three);
        var wrapped = new byte[32 << 10];
        var w = VhdxLog.BuildEntry(guid, 4, 24 << 10, Pages(3, 7), 0, 4 << 20);
        for (int s = 0; s < w.Length / 4096; s++) w.AsSpan(s * 4096, 4096).CopyTo(wrapped.AsSpan((24 * 1024 + s * 4096) % wrapped.Length));
        yield return ("wrapped", wrapped);
    }

    /// <summary>The first 4 MiB of a small dynamic VHDX laid out by hand (header section, log, metadata, BAT).</summary>
    private static byte[] VhdxImageSeed()
    {
        var file = new byte[5 << 20];
        BinaryPrimitives.WriteUInt64LittleEndian(file, VhdxConstants.FileSignature);
        var header = new VhdxHeader { SequenceNumber = 1, FileWriteGuid = Guid.NewGuid(), DataWriteGuid = Guid.NewGuid(), Version = 1, LogLength = 1 << 20, LogOffset = 1 << 20 };
        header.Write(file.AsSpan(64 << 10));
        (header with { SequenceNumber = 2 }).Write(file.AsSpan(128 << 10));
        var regions = VhdxRegionTable.Create([new VhdxRegion(VhdxConstants.BatRegion, 3 << 20, 1 << 20, true), new VhdxRegion(VhdxConstants.MetadataRegion, 2 << 20, 1 << 20, true)]).ToBytes();
        regions.CopyTo(file, 192 << 10);
        regions.CopyTo(file, 256 << 10);
        VhdxMetadata.Create(1 << 20, false, 8 << 20, Guid.NewGuid(), 512, 512, null).ToBytes(1 << 20).CopyTo(file, 2 << 20);
        BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(3 << 20), VhdxLayout.Entry(VhdxConstants.PayloadFullyPresent, 4 << 20));
        BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan((3 << 20) + 8), VhdxLayout.Entry(VhdxConstants.PayloadZero, 0));
        for (int i = 0; i < 4096; i++) file[(4 << 20) + i] = (byte)(i * 7 + 1);
        return file;
    }

    /// <summary>VMDK seeds: descriptors as VMware tools, ovftool and qemu-img write them, sparse headers, a marker stream, and two small images.</summary>
    /// <summary>CUE sheets: one BIN, several FILEs with PREGAP/POSTGAP/INDEX 00, every mode, WAVE and MOTOROLA files.</summary>
    private static IEnumerable<(string Name, string Text)> CueSheets()
    {
        yield return ("single", "FILE \"disc.bin\" BINARY\r\n  TRACK 01 MODE1/2352\r\n    INDEX 01 00:00:00\r\n  TRACK 02 AUDIO\r\n    INDEX 00 00:02:00\r\n    INDEX 01 00:04:00\r\n");
        yield return ("multi",
            "REM GENRE Test\nCATALOG 0000000000000\nPERFORMER \"Someone\"\nTITLE \"Disc\"\n" +
            "FILE \"data.bin\" BINARY\n  TRACK 01 MODE2/2352\n    FLAGS DCP\n    INDEX 01 00:00:00\n  POSTGAP 00:02:00\n" +
            "FILE \"a.bin\" MOTOROLA\n  TRACK 02 AUDIO\n    ISRC USXXX0000001\n    PREGAP 00:02:00\n    INDEX 01 00:00:00\n    INDEX 02 00:01:10\n" +
            "FILE \"b.wav\" WAVE\n  TRACK 03 AUDIO\n    TITLE \"three\"\n    INDEX 00 00:00:00\n    INDEX 01 00:00:33\n");
        yield return ("mixed-sizes", "FILE a BINARY\nTRACK 01 MODE1/2048\nINDEX 01 00:00:00\nTRACK 02 MODE2/2336\nINDEX 01 00:10:00\nTRACK 03 AUDIO\nINDEX 00 00:20:00\nINDEX 01 00:22:00\n");
        yield return ("late-start", "FILE \"x y.bin\" BINARY\nTRACK 05 AUDIO\nINDEX 01 01:00:00\nTRACK 99 AUDIO\nINDEX 01 99:59:74\n");
    }

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

    /// <summary>VHD footers and dynamic headers, VDI headers, and small whole images of both formats.</summary>
    private static IEnumerable<(string Target, string Name, byte[] Data)> VirtualDiskSeeds()
    {
        var footer = new VhdFooter
        {
            Features = VhdConstants.FeatureReserved, FormatVersion = VhdConstants.Version1, DataOffset = 512, TimeStamp = 1,
            CreatorApplication = VhdConstants.CreatorQemu, CreatorVersion = 0x00050003, CreatorHostOs = VhdConstants.HostWindows,
            OriginalSize = 4 << 20, CurrentSize = 4 << 20, Geometry = VhdGeometry.ForSectors(8192), DiskType = VhdConstants.DiskTypeDynamic,
            UniqueId = new Guid("0b0a0908-0706-0504-0302-010001020304"),
        };
        var fixedFooter = footer with { DataOffset = VhdConstants.NoOffset, DiskType = VhdConstants.DiskTypeFixed, CreatorApplication = VhdConstants.CreatorQemuExact };
        var diffFooter = footer with { DiskType = VhdConstants.DiskTypeDifferencing, Geometry = VhdGeometry.Maximum };
        yield return ("vhd-footer", "dynamic", footer.ToBytes());
        yield return ("vhd-footer", "fixed", fixedFooter.ToBytes());
        yield return ("vhd-footer", "differencing", diffFooter.ToBytes());
        var locators = new VhdParentLocator[VhdConstants.LocatorCount];
        locators[0] = new VhdParentLocator(VhdConstants.PlatformW2ru, 512, 28, 1024 + 1536);
        locators[1] = new VhdParentLocator(VhdConstants.PlatformMacX, 512, 26, 1024 + 2048);
        var header = new VhdDynamicHeader
        {
            NextOffset = VhdConstants.NoOffset, TableOffset = 1536, HeaderVersion = VhdConstants.Version1, MaxTableEntries = 2,
            BlockSize = VhdConstants.DefaultBlockSize, ParentName = "parent.vhd", Locators = locators,
        };
        var withLocators = new byte[4096];
        header.ToBytes().CopyTo(withLocators, 0);
        Encoding.Unicode.GetBytes(@".\parent.vhd").CopyTo(withLocators, 1024);
        Encoding.UTF8.GetBytes("file:///images/parent.vhd").CopyTo(withLocators, 2048);
        yield return ("vhd", "differencing", withLocators);
        yield return ("vhd", "dynamic", (header with { ParentName = "", Locators = new VhdParentLocator[VhdConstants.LocatorCount] }).ToBytes());

        // A whole dynamic VHD: footer copy, header, BAT (block 0 allocated at 0x800), its bitmap and data, footer.
        var image = new byte[0x800 + 512 + (2 << 20) + 512];
        footer.ToBytes().CopyTo(image, 0);
        (header with { ParentName = "", Locators = new VhdParentLocator[VhdConstants.LocatorCount] }).ToBytes().CopyTo(image, 512);
        image.AsSpan(1536, 512).Fill(0xFF);
        BinaryPrimitives.WriteUInt32BigEndian(image.AsSpan(1536), 0x800 / 512);
        image.AsSpan(0x800, 64).Fill(0xF0);
        image.AsSpan(0x800 + 512, 4096).Fill(0x5A);
        footer.ToBytes().CopyTo(image, image.Length - 512);
        yield return ("image", "vhd-dynamic", image);
        var fixedImage = new byte[8192 + 512];
        fixedImage.AsSpan(0, 8192).Fill(0x11);
        (fixedFooter with { CurrentSize = 8192, OriginalSize = 8192, Geometry = VhdGeometry.ForSectors(16) }).ToBytes().CopyTo(fixedImage, 8192);
        yield return ("image", "vhd-fixed", fixedImage);
        yield return ("probe", "vhd-fixed", fixedImage);

        var vdi = new VdiHeader
        {
            TextLine = VdiConstants.Text, HeaderSize = VdiConstants.FullHeaderSize, ImageType = VdiConstants.TypeNormal, Comment = "seed",
            BlocksOffset = 512, DataOffset = 1024, SectorBytes = 512, DiskSize = 3 << 20, BlockSize = 1 << 20, BlocksInImage = 3,
            BlocksAllocated = 1, ImageUuid = new Guid("11111111-2222-3333-4444-555555555555"), ModifyUuid = new Guid("66666666-7777-8888-9999-000000000000"),
        };
        yield return ("vdi", "dynamic", vdi.ToBytes());
        yield return ("vdi", "static", (vdi with { ImageType = VdiConstants.TypeFixed, BlocksAllocated = 3 }).ToBytes());
        yield return ("vdi", "differencing", (vdi with { ImageType = VdiConstants.TypeDiff, LinkUuid = new Guid("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"), HeaderSize = VdiConstants.MinHeaderSize }).ToBytes());
        var vdiImage = new byte[1024 + (1 << 20)];
        vdi.ToBytes().CopyTo(vdiImage, 0);
        vdiImage.AsSpan(512, 12).Fill(0xFF);
        BinaryPrimitives.WriteUInt32LittleEndian(vdiImage.AsSpan(516), 0);
        BinaryPrimitives.WriteUInt32LittleEndian(vdiImage.AsSpan(520), 0xFFFFFFFE);
        vdiImage.AsSpan(1024, 5000).Fill(0x77);
        yield return ("image", "vdi-dynamic", vdiImage);
        yield return ("probe", "vdi", vdiImage[..512]);
    }
}
