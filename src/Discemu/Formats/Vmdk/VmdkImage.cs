using Discemu.Block;
using static Discemu.Formats.Vmdk.VmdkConstants;

namespace Discemu.Formats.Vmdk;

/// <summary>
/// An opened VMDK disk: a descriptor (a text file, or embedded in a sparse extent) and its extents,
/// end to end, with an optional parent (any format) found through <c>parentFileNameHint</c>.
/// </summary>
/// <remarks>
/// <para>Reads and status go extent by extent; unallocated grains defer to the parent (or read as
/// zeros). The first write after opening gives the disk a new CID, as VMware products and qemu do.</para>
/// <para>When the parent is a VMDK whose CID differs from this disk's <c>parentCID</c>, the parent
/// was modified after this disk was made and the chain is refused (as VMware and qemu refuse it);
/// <c>rebase -u</c> records the parent's current CID to accept it as it is.</para>
/// </remarks>
public sealed partial class VmdkImage : DiskImage, ICheckableImage, IBackingChangeable, IEmptyableImage
{
    private readonly object _lock = new();
    private readonly VmdkExtent[] _extents;
    private readonly long[] _starts;
    private readonly bool _writable;
    private readonly ImageOpener _opener;
    private readonly string? _descriptorFile;
    private readonly SparseExtent? _embeddedIn;
    private VmdkDescriptor _descriptor;
    private DiskImage? _backing;
    private bool _cidUpdated;

    private VmdkImage(string path, VmdkDescriptor descriptor, VmdkExtent[] extents, bool writable, ImageOpener opener, string? descriptorFile, SparseExtent? embeddedIn)
    {
        Path = path;
        _descriptor = descriptor;
        _extents = extents;
        _writable = writable;
        _opener = opener;
        _descriptorFile = descriptorFile;
        _embeddedIn = embeddedIn;
        _starts = new long[extents.Length + 1];
        for (int i = 0; i < extents.Length; i++) _starts[i + 1] = checked(_starts[i] + extents[i].Length);
    }

    /// <inheritdoc/>
    public override ImageFormat Format => VmdkFormat.Instance;

    /// <inheritdoc/>
    public override string Path { get; }

    /// <inheritdoc/>
    public override long Length => _starts[^1];

    /// <inheritdoc/>
    public override DeviceCapabilities Capabilities => _writable
        ? DeviceCapabilities.Write | DeviceCapabilities.FastZero | DeviceCapabilities.Discard | DeviceCapabilities.Status
        : DeviceCapabilities.Status;

    /// <inheritdoc/>
    public override DiskImage? Backing => _backing;

    /// <inheritdoc/>
    public override string? BackingFileName { get { lock (_lock) return _descriptor.ParentFileNameHint; } }

    /// <inheritdoc/>
    public override int? ClusterSize
    {
        get
        {
            int? size = null;
            foreach (var e in _extents)
            {
                if (e.GrainBytes is not { } g) return null;
                if (size is not null && size != g) return null;
                size = g;
            }
            return size;
        }
    }

    /// <inheritdoc/>
    public override bool IsDirty => _extents.Any(e => e is SparseExtent { Dirty: true });

    /// <inheritdoc/>
    public override long? ActualSize
    {
        get
        {
            long total = 0;
            foreach (var e in _extents)
            {
                if (e.AllocatedBytes is not { } n) return null;
                total += n;
            }
            if (_descriptorFile is not null) total += Util.HostFile.AllocatedBytes(_descriptorFile) ?? 0;
            return total;
        }
    }

    /// <summary>The content identifier.</summary>
    public uint Cid { get { lock (_lock) return _descriptor.Cid; } }

    /// <summary>The parent's content identifier this disk was made against (ffffffff: none).</summary>
    public uint ParentCid { get { lock (_lock) return _descriptor.ParentCid; } }

    /// <summary>The disk type from the descriptor (monolithicSparse, streamOptimized, ...).</summary>
    public string CreateType { get { lock (_lock) return _descriptor.CreateType; } }

    /// <summary>The descriptor text as it is now.</summary>
    internal string DescriptorText { get { lock (_lock) return _descriptor.ToText(); } }

    internal IReadOnlyList<VmdkExtent> Extents => _extents;

    /// <inheritdoc/>
    public override IReadOnlyList<KeyValuePair<string, object?>> FormatSpecific
    {
        get
        {
            VmdkDescriptor d;
            lock (_lock) d = _descriptor;
            var extents = new List<object?>();
            foreach (var e in _extents)
            {
                var facts = new List<KeyValuePair<string, object?>>();
                e.Describe(facts);
                facts.Add(new("virtual-size", e.Length));
                facts.Add(new("filename", DisplayName(e)));
                if (e.GrainBytes is { } g) facts.Add(new("cluster-size", g));
                facts.Add(new("format", e.Line.Type));
                extents.Add(facts);
            }
            var list = new List<KeyValuePair<string, object?>>
            {
                new("cid", (long)d.Cid),
                new("parent-cid", (long)d.ParentCid),
                new("create-type", d.CreateType),
                new("extents", extents),
            };
            if (d.GetDdb("ddb.adapterType") is { } adapter) list.Add(new("adapter-type", adapter));
            if (d.GetDdb("ddb.virtualHWVersion") is { } hw) list.Add(new("hardware-version", hw));
            return list;
        }
    }

    /// <summary>An extent's file as qemu-img shows it: the descriptor's path as given, joined with the extent's name.</summary>
    private string DisplayName(VmdkExtent e)
    {
        if (e.Path is null) return "";
        if (_descriptorFile is null || e.Line.FileName is not { } name) return Path;
        if (System.IO.Path.IsPathRooted(name)) return name;
        string? dir = System.IO.Path.GetDirectoryName(Path);
        return string.IsNullOrEmpty(dir) ? name : System.IO.Path.Combine(dir, name);
    }

    /// <summary>Opens a VMDK disk for <paramref name="request"/>.</summary>
    internal static VmdkImage Open(ImageOpenRequest request)
    {
        string path = request.Path;
        var head = new byte[CowdHeaderBytes];
        int have;
        using (var probe = FileDevice.Open(path, writable: false))
        {
            have = (int)Math.Min(probe.Length, head.Length);
            probe.Read(0, head.AsSpan(0, have));
        }
        VmdkImage image;
        if (SparseExtentHeader.HasMagic(head.AsSpan(0, have))) image = OpenSparseFile(request);
        else if (CowdHeader.HasMagic(head.AsSpan(0, have))) image = OpenCowdFile(request);
        else image = OpenDescriptorFile(request);
        try
        {
            image.OpenParent(request);
            return image;
        }
        catch
        {
            image.Dispose();
            throw;
        }
    }

    private static VmdkImage OpenSparseFile(ImageOpenRequest request)
    {
        var extent = SparseExtent.Open(null, request.Path, request.Writable);
        try
        {
            var descriptor = extent.EmbeddedDescriptor;
            if (descriptor is not null)
            {
                foreach (var line in descriptor.Extents)
                    if (line.Type != "SPARSE" || descriptor.Extents.Count != 1)
                        throw new UnsupportedFeatureException("A sparse extent's embedded descriptor lists other extents; open the descriptor file instead.", request.Path);
            }
            descriptor ??= Synthesize(extent.Header.Compressed ? "streamOptimized" : "monolithicSparse", extent.Line);
            return new VmdkImage(request.Path, descriptor, [extent], request.Writable, request.Opener, null, extent.EmbeddedDescriptor is null ? null : extent);
        }
        catch
        {
            extent.Dispose();
            throw;
        }
    }

    private static VmdkImage OpenCowdFile(ImageOpenRequest request)
    {
        if (request.Writable) throw new UnsupportedFeatureException("vmfsSparse (COWD) extents can only be read.", request.Path);
        var extent = CowdExtent.Open(null, request.Path);
        return new VmdkImage(request.Path, Synthesize("vmfsSparse", extent.Line), [extent], false, request.Opener, null, null);
    }

    /// <summary>A descriptor for an extent file opened on its own (no descriptor to rewrite).</summary>
    private static VmdkDescriptor Synthesize(string createType, VmdkExtentLine line)
        => VmdkDescriptor.FromText($"version=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"{createType}\"\n{line.Format()}\n");

    private static VmdkImage OpenDescriptorFile(ImageOpenRequest request)
    {
        string path = request.Path;
        byte[] text;
        using (var file = FileDevice.Open(path, writable: false))
        {
            if (file.Length > MaxDescriptorBytes) throw new CorruptImageException("The VMDK descriptor file is larger than 1 MiB.", path);
            text = new byte[file.Length];
            file.Read(0, text);
        }
        var descriptor = VmdkDescriptor.Parse(text, path);
        var extents = new List<VmdkExtent>();
        try
        {
            foreach (var line in descriptor.Extents) extents.Add(OpenExtent(line, path, request.Writable));
            return new VmdkImage(path, descriptor, [.. extents], request.Writable, request.Opener, path, null);
        }
        catch
        {
            foreach (var e in extents) e.Dispose();
            throw;
        }
    }

    private static VmdkExtent OpenExtent(VmdkExtentLine line, string descriptorPath, bool writable)
    {
        if (line.Access == VmdkAccess.NoAccess) throw new UnsupportedFeatureException("The VMDK has a NOACCESS extent.", descriptorPath);
        if (line.Type == "ZERO") return new ZeroExtent(line);
        string file;
        try { file = ResolveRelative(descriptorPath, line.FileName!); }
        catch (ArgumentException e) { throw new CorruptImageException($"The extent file name '{line.FileName}' is not a valid path.", descriptorPath, e); }
        bool extentWritable = writable && line.Access == VmdkAccess.ReadWrite;
        switch (line.Type)
        {
            case "FLAT":
            case "VMFS":
                return new FlatExtent(line, file, FileDevice.Open(file, extentWritable), extentWritable);
            case "SPARSE":
                return SparseExtent.Open(line, file, extentWritable);
            case "VMFSSPARSE":
                if (writable) throw new UnsupportedFeatureException("vmfsSparse (COWD) extents can only be read.", descriptorPath);
                return CowdExtent.Open(line, file);
            case "SESPARSE":
                if (writable) throw new UnsupportedFeatureException("seSparse extents can only be read.", descriptorPath);
                return SeSparseExtent.Open(line, file);
            default:
                throw new UnsupportedFeatureException($"VMDK extent type {line.Type} is not supported.", descriptorPath);
        }
    }

    /// <summary>Opens the parent named by parentFileNameHint and checks its CID.</summary>
    private void OpenParent(ImageOpenRequest request)
    {
        var d = _descriptor;
        if (d.ParentFileNameHint is not { } hint || !request.OpenBacking) return;
        var backing = request.Opener.OpenBacking(request, hint, null);
        if (backing is VmdkImage parent && d.ParentCid != NoParentCid && parent.Cid != d.ParentCid)
        {
            backing.Dispose();
            throw new CorruptImageException(
                $"The parent '{hint}' was modified after this disk was made: its CID is {parent.Cid:x8}, this disk expects {d.ParentCid:x8} "
                + "('rebase -u -b PARENT' accepts the parent as it is now).", Path);
        }
        _backing = backing;
    }

    /// <summary>The extent holding <paramref name="offset"/> (the last one for the end of the disk).</summary>
    private int ExtentAt(long offset)
    {
        int i = Array.BinarySearch(_starts, offset);
        if (i < 0) i = ~i - 1;
        while (i < _extents.Length - 1 && _starts[i + 1] <= offset) i++;
        return Math.Min(i, _extents.Length - 1);
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        // Like qemu-img's default cache mode, closing does not force the data to disk: Flush does.
        if (!disposing) return;
        foreach (var e in _extents) e.Dispose();
        _backing?.Dispose();
    }
}
