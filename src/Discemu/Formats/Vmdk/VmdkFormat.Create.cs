using Discemu.Block;
using static Discemu.Formats.Vmdk.VmdkConstants;

namespace Discemu.Formats.Vmdk;

public sealed partial class VmdkFormat
{
    /// <inheritdoc/>
    public override bool CanCreate => true;

    /// <inheritdoc/>
    public override IReadOnlyList<CreateOptionInfo> CreateOptions =>
    [
        new("subformat", string.Join("|", VmdkCreateParameters.SubformatNames), "Disk type (default monolithicSparse)."),
        new("adapter_type", string.Join("|", VmdkCreateParameters.AdapterTypes), "Virtual adapter type (default ide); sets the geometry's heads (16 for IDE, 255 otherwise)."),
        new("hwversion", "string", "ddb.virtualHWVersion (default 4)."),
        new("compat6", "on|off", "VMware hardware version 6 (ddb.virtualHWVersion 6; not with hwversion)."),
        new("toolsversion", "string", "ddb.toolsVersion (default 2147483647)."),
        new("zeroed_grain", "on|off", "Version 2 sparse extents whose zeroed grains take no space (sparse subformats)."),
        new("preallocation", "off|falloc|full", "Allocate the flat extent files up front (sparse subformats accept it and allocate nothing, as qemu-img does)."),
        new("backing_file", "string", "Parent image (any format; same as -b)."),
        new("backing_fmt", "string", "Parent format; VMDK cannot store it, so it is only used to open the parent (same as -F)."),
        new("size", "size", "Virtual size."),
    ];

    /// <inheritdoc/>
    /// <exception cref="ImageAccessException">A file cannot be written, or the backing file cannot be opened.</exception>
    public override DiskImage Create(ImageCreateRequest request) => Create(request, SplitExtentBytes);

    /// <summary>Creates an image whose twoGbMaxExtent extents hold <paramref name="extentBytes"/> each (tests use small extents).</summary>
    internal DiskImage Create(ImageCreateRequest request, long extentBytes)
    {
        ArgumentNullException.ThrowIfNull(request);
        var p = VmdkCreateParameters.Parse(request.Options, request.BackingFile, request.BackingFormat);
        request.Options.ThrowOnUnused(Name);
        long size = p.Size ?? request.Size;
        uint parentCid = NoParentCid;
        if (p.BackingFile is not null)
        {
            string resolved = DiskImage.ResolveRelative(request.Path, p.BackingFile);
            using var backing = request.Opener.Open(resolved, new ImageOpenOptions { Format = p.BackingFormat, OpenBacking = false });
            if (size <= 0 && p.Size is null) size = backing.Length;
            parentCid = backing is VmdkImage vmdk ? vmdk.Cid : VmdkDescriptor.NewCid();
        }
        size = p.CheckSize(size);
        uint cid = VmdkDescriptor.NewCid();
        var (prefix, postfix) = SplitName(request.Path);
        string dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(request.Path)) ?? ".";
        long sectors = size / Sector;
        var ddb = p.DiskDatabase;

        switch (p.Subformat)
        {
            case VmdkSubformat.StreamOptimized:
            {
                var line = new VmdkExtentLine(VmdkAccess.ReadWrite, Math.Max(sectors, 0), "SPARSE", System.IO.Path.GetFileName(request.Path), 0);
                string text = VmdkDescriptorBuilder.Build(p.CreateType, cid, parentCid, p.BackingFile, [line], size, ddb);
                return VmdkStreamWriter.Create(request.Path, size, text);
            }
            case VmdkSubformat.MonolithicSparse:
            {
                var line = new VmdkExtentLine(VmdkAccess.ReadWrite, sectors, "SPARSE", System.IO.Path.GetFileName(request.Path), 0);
                string text = VmdkDescriptorBuilder.Build(p.CreateType, cid, parentCid, p.BackingFile, [line], size, ddb);
                var layout = new VmdkSparseLayout(sectors, EmbeddedDescriptorSectors, p.ZeroedGrain);
                layout.Write(request.Path, VmdkImage.DescriptorBytes(text, EmbeddedDescriptorSectors * Sector, request.Path));
                break;
            }
            default:
            {
                var lines = new List<VmdkExtentLine>();
                bool split = p.Subformat is VmdkSubformat.TwoGbMaxExtentSparse or VmdkSubformat.TwoGbMaxExtentFlat;
                long extentSectors = split ? extentBytes / Sector : Math.Max(sectors, 1);
                long remaining = sectors;
                int index = 1;
                do
                {
                    long n = Math.Min(remaining, extentSectors);
                    string name = p.Subformat switch
                    {
                        VmdkSubformat.MonolithicFlat => $"{prefix}-flat{postfix}",
                        VmdkSubformat.TwoGbMaxExtentFlat => $"{prefix}-f{index:000}{postfix}",
                        _ => $"{prefix}-s{index:000}{postfix}",
                    };
                    string file = System.IO.Path.Combine(dir, name);
                    if (p.Flat) CreateFlatFile(file, n * Sector, p.Preallocation);
                    else new VmdkSparseLayout(n, 0, p.ZeroedGrain).Write(file, null);
                    lines.Add(new VmdkExtentLine(VmdkAccess.ReadWrite, n, p.Flat ? "FLAT" : "SPARSE", name, 0));
                    remaining -= n;
                    index++;
                }
                while (remaining > 0);
                WriteDescriptorFile(request.Path, VmdkDescriptorBuilder.Build(p.CreateType, cid, parentCid, p.BackingFile, lines, size, ddb));
                break;
            }
        }
        return VmdkImage.Open(new ImageOpenRequest(request.Path, true, request.Opener)
        {
            ChainPaths = new HashSet<string>([System.IO.Path.GetFullPath(request.Path)], StringComparer.Ordinal),
        });
    }

    /// <summary>Splits a path at its extension as qemu-img names extent files: "disk.vmdk" gives ("disk", ".vmdk").</summary>
    private static (string Prefix, string Postfix) SplitName(string path)
    {
        string name = System.IO.Path.GetFileName(path);
        int dot = name.LastIndexOf('.');
        return dot <= 0 ? (name, "") : (name[..dot], name[dot..]);
    }

    private static void CreateFlatFile(string path, long length, string preallocation)
    {
        using var file = FileDevice.Create(path, length);
        if (length == 0 || preallocation == "off") return;
        if (preallocation == "falloc")
        {
            if (!Util.LinuxNative.Allocate(file.Handle, 0, length)) WriteZeros(file, length);
            return;
        }
        WriteZeros(file, length);
        file.Flush();
    }

    private static void WriteZeros(FileDevice file, long length)
    {
        var zeros = new byte[1 << 20];
        for (long pos = 0; pos < length; pos += zeros.Length)
            file.Write(pos, zeros.AsSpan(0, (int)Math.Min(zeros.Length, length - pos)));
    }

    private static void WriteDescriptorFile(string path, string text)
    {
        try
        {
            File.WriteAllText(path, text);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ImageAccessException(e.Message, path, e);
        }
    }
}
