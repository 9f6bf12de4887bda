using System.Buffers.Binary;
using System.Text;
using Discemu.Formats.Qcow2;
using Discemu.Formats.Vdi;
using Discemu.Formats.Vhd;

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
        foreach (var seed in VirtualDiskSeeds()) yield return seed;
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
