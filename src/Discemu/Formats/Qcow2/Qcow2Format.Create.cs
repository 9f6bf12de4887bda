using System.Text;
using Discemu.Block;
using static Discemu.Formats.Qcow2.Qcow2Constants;

namespace Discemu.Formats.Qcow2;

public sealed partial class Qcow2Format
{
    /// <inheritdoc/>
    public override bool CanCreate => true;

    /// <inheritdoc/>
    public override IReadOnlyList<CreateOptionInfo> CreateOptions =>
    [
        new("compat", "0.10|v2|1.1|v3", "QCOW2 version: 0.10 (v2) or 1.1 (v3, default)."),
        new("cluster_size", "size", "Cluster size, a power of two from 512 to 2M (default 64k)."),
        new("refcount_bits", "1|2|4|8|16|32|64", "Width of a refcount entry (default 16; v2 needs 16)."),
        new("lazy_refcounts", "on|off", "Postpone refcount updates (v3 only; default off)."),
        new("compression_type", "zlib|zstd", "Compression of compressed clusters (zstd needs v3; default zlib)."),
        new("extended_l2", "on|off", "Subcluster allocation (v3, clusters of 16k or more; default off)."),
        new("preallocation", "off|metadata|falloc|full", "Allocate metadata, host space or zeroed data up front (default off)."),
        new("backing_file", "string", "Backing file name to store (same as -b)."),
        new("backing_fmt", "string", "Backing file format to store (same as -F)."),
    ];

    /// <inheritdoc/>
    /// <exception cref="UnsupportedFeatureException">An external data file or encryption is requested.</exception>
    /// <exception cref="ImageAccessException">The file (or the backing file, when the size comes from it) cannot be opened.</exception>
    public override DiskImage Create(ImageCreateRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var o = request.Options;
        foreach (var key in o.Keys.ToList())
        {
            if (key is "data_file" or "data_file_raw")
                throw new UnsupportedFeatureException("QCOW2 external data files are not supported yet.", request.Path);
            if (key == "encryption" || key.StartsWith("encrypt", StringComparison.Ordinal))
                throw new UnsupportedFeatureException("Encrypted QCOW2 images are not supported yet.", request.Path);
        }
        string compat = o.GetChoice("compat", "1.1", "0.10", "v2", "1.1", "v3");
        int version = compat is "0.10" or "v2" ? 2 : 3;
        long clusterSize = o.GetSize("cluster_size", 65536);
        int refcountBits = o.GetInt("refcount_bits", 16);
        bool lazy = o.GetBool("lazy_refcounts", false);
        string compression = o.GetChoice("compression_type", "zlib", "zlib", "zstd");
        bool extendedL2 = o.GetBool("extended_l2", false);
        string prealloc = o.GetChoice("preallocation", "off", "off", "metadata", "falloc", "full");
        string? backingFile = request.BackingFile ?? o.GetString("backing_file");
        string? backingFormat = request.BackingFormat ?? o.GetString("backing_fmt");
        long size = request.Size;
        if (o.Contains("size")) size = o.GetSize("size", size);
        o.ThrowOnUnused(Name);

        if (clusterSize < 512 || clusterSize > (1 << MaxClusterBits) || (clusterSize & (clusterSize - 1)) != 0)
            throw new BadArgumentException($"Cluster size must be a power of two between 512 and 2M, got {clusterSize}.");
        int clusterBits = System.Numerics.BitOperations.Log2((ulong)clusterSize);
        if (refcountBits is < 1 or > 64 || (refcountBits & (refcountBits - 1)) != 0)
            throw new BadArgumentException($"refcount_bits must be a power of two from 1 to 64, got {refcountBits}.");
        int refcountOrder = System.Numerics.BitOperations.Log2((uint)refcountBits);
        if (version == 2)
        {
            if (refcountBits != 16) throw new BadArgumentException("Different refcount widths than 16 bits require compat=1.1 or above.");
            if (lazy) throw new BadArgumentException("Lazy refcounts only supported with compat=1.1 and above.");
            if (compression != "zlib") throw new BadArgumentException("Compression type other than zlib requires compat=1.1 or above.");
            if (extendedL2) throw new BadArgumentException("Extended L2 entries are only supported with compat=1.1 and above.");
        }
        if (extendedL2 && clusterBits < 14) throw new BadArgumentException("Extended L2 entries are only supported with cluster sizes of at least 16 KiB.");
        if (backingFile is not null && prealloc != "off")
            throw new BadArgumentException("Backing file and preallocation cannot be used at the same time.");
        if (backingFile is { Length: 0 }) backingFile = null;
        if (backingFile is not null && Encoding.UTF8.GetByteCount(backingFile) > MaxBackingFileNameLength)
            throw new BadArgumentException("The backing file name is longer than 1023 bytes.");

        if (backingFile is not null && (size < 0 || (size == 0 && !o.Contains("size"))) || backingFile is not null && backingFormat is null)
        {
            string resolved = DiskImage.ResolveRelative(request.Path, backingFile!);
            using var backing = request.Opener.Open(resolved, new ImageOpenOptions { Format = backingFormat, OpenBacking = false });
            if (size < 0 || size == 0) size = backing.Length;
            backingFormat ??= backing.Format.Name;
        }
        if (size < 0) throw new BadArgumentException("The image size must be given (or come from a backing file).");
        if (size % 512 != 0) throw new BadArgumentException("Image size must be a multiple of 512 bytes.");
        var layout = new Qcow2Layout(clusterBits, extendedL2, refcountOrder, version);
        if (layout.L1EntriesFor(size) > MaxL1Entries)
            throw new BadArgumentException($"The size {size} is too large for cluster size {clusterSize}.");

        WriteEmptyImage(request.Path, layout, version, lazy, compression == "zstd" ? CompressionZstd : CompressionZlib, backingFile, backingFormat);
        var image = Qcow2Image.Open(new ImageOpenRequest(request.Path, true, request.Opener)
        {
            ChainPaths = new HashSet<string>([System.IO.Path.GetFullPath(request.Path)], StringComparer.Ordinal),
        });
        try
        {
            image.FinishCreate(size, prealloc);
            return image;
        }
        catch
        {
            image.Dispose();
            throw;
        }
    }

    /// <summary>Writes a valid image of size zero: header (with extensions and backing name), refcount table and one refcount block.</summary>
    private static void WriteEmptyImage(string path, Qcow2Layout layout, int version, bool lazy, byte compressionType, string? backingFile, string? backingFormat)
    {
        int cs = layout.ClusterSize;
        var header = new Qcow2Header
        {
            Version = version,
            ClusterBits = layout.ClusterBits,
            RefcountTableOffset = cs,
            RefcountTableClusters = 1,
            RefcountOrder = layout.RefcountOrder,
            HeaderLength = version >= 3 ? V3HeaderLength : V2HeaderLength,
            CompressionType = compressionType,
            IncompatibleFeatures = (compressionType != CompressionZlib ? IncompatCompressionType : 0) | (layout.ExtendedL2 ? IncompatExtendedL2 : 0),
            CompatibleFeatures = lazy ? CompatLazyRefcounts : 0,
        };
        var extensions = new List<Qcow2HeaderExtension>();
        if (backingFile is not null && backingFormat is not null)
            extensions.Add(new Qcow2HeaderExtension(ExtBackingFormat, Encoding.UTF8.GetBytes(backingFormat)));
        if (version >= 3) extensions.Add(new Qcow2HeaderExtension(ExtFeatureNameTable, FeatureNameTable()));
        var first = new byte[cs];
        header.Write(first);
        int end = header.HeaderLength + Qcow2HeaderExtension.WriteAll(extensions, first.AsSpan(header.HeaderLength));
        if (backingFile is not null)
        {
            var name = Encoding.UTF8.GetBytes(backingFile);
            if (end + name.Length > cs) throw new BadArgumentException("The backing file name does not fit in the first cluster.");
            name.CopyTo(first, end);
            header = header with { BackingFileOffset = (ulong)end, BackingFileSize = (uint)name.Length };
            var fixedPart = new byte[header.HeaderLength];
            header.Write(fixedPart);
            fixedPart.CopyTo(first, 0);
        }
        var table = new byte[cs];
        Qcow2Layout.EncodeWords([(ulong)(2 * cs)], table);
        var block = new byte[cs];
        for (int i = 0; i < 3; i++) layout.SetRefcount(block, i, 1);
        using var file = FileDevice.Create(path, 3L * cs);
        // The header goes last: a process killed before it leaves a file that is not yet an image,
        // never a header pointing at a refcount table that was not written.
        file.Write(cs, table);
        file.Write(2L * cs, block);
        file.Write(0, first);
        file.Flush();
    }

    /// <summary>The feature name table qemu-compatible tools write into v3 images (names from the specification).</summary>
    private static byte[] FeatureNameTable()
    {
        (byte Type, byte Bit, string Name)[] features =
        [
            (0, 0, "dirty bit"), (0, 1, "corrupt bit"), (0, 2, "external data file"), (0, 3, "compression type"),
            (0, 4, "extended L2 entries"), (1, 0, "lazy refcounts"), (2, 0, "bitmaps"), (2, 1, "raw external data"),
        ];
        var data = new byte[features.Length * 48];
        for (int i = 0; i < features.Length; i++)
        {
            data[i * 48] = features[i].Type;
            data[i * 48 + 1] = features[i].Bit;
            Encoding.ASCII.GetBytes(features[i].Name).CopyTo(data, i * 48 + 2);
        }
        return data;
    }
}
