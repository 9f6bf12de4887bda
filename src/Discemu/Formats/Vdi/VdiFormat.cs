using System.Buffers.Binary;
using Discemu.Block;
using static Discemu.Formats.Vdi.VdiConstants;

namespace Discemu.Formats.Vdi;

/// <summary>VirtualBox Disk Image (VDI) version 1.1: dynamic, static and differencing images.</summary>
public sealed class VdiFormat : ImageFormat
{
    /// <summary>The single instance.</summary>
    public static VdiFormat Instance { get; } = new();

    private VdiFormat() { }

    /// <inheritdoc/>
    public override string Name => "vdi";

    /// <inheritdoc/>
    public override string Description => "VirtualBox Disk Image (VDI 1.1): dynamic, static, differencing";

    /// <inheritdoc/>
    public override IReadOnlyList<string> Extensions => ["vdi"];

    /// <inheritdoc/>
    public override bool SupportsBacking => true;

    /// <inheritdoc/>
    public override bool CanCreate => true;

    /// <inheritdoc/>
    public override int Probe(ReadOnlySpan<byte> header, long fileLength)
    {
        if (!VdiHeader.HasSignature(header)) return 0;
        return header.Length >= 72 && BinaryPrimitives.ReadUInt32LittleEndian(header[68..]) == Version11 ? 100 : 50;
    }

    /// <inheritdoc/>
    public override DiskImage Open(ImageOpenRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return VdiImage.Open(request, null);
    }

    /// <summary>
    /// Opens a differencing image over the parent the caller names (VDI records no parent path; by default the
    /// parent is found by its UUID among the .vdi files of the image's folder and the folder above).
    /// </summary>
    /// <exception cref="CorruptImageException">The image is damaged.</exception>
    /// <exception cref="ImageAccessException">A file cannot be opened.</exception>
    public DiskImage OpenWithParent(string path, string parentPath, bool writable = false, ImageOpener? opener = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(parentPath);
        var request = new ImageOpenRequest(path, writable, opener ?? ImageOpener.Default)
        {
            ChainPaths = new HashSet<string>([System.IO.Path.GetFullPath(path)], StringComparer.Ordinal),
        };
        return VdiImage.Open(request, System.IO.Path.GetFullPath(parentPath));
    }

    /// <inheritdoc/>
    public override IReadOnlyList<CreateOptionInfo> CreateOptions =>
    [
        new("static", "on|off", "Allocate every block at creation (a static image; default off: dynamic)."),
        new("preallocation", "off|falloc|full", "Static images: allocate the file's space up front (default off: sparse)."),
        new("backing_file", "string", "Parent of a differencing image (a .vdi in the same folder or the one above; same as -b)."),
        new("backing_fmt", "string", "Must be vdi when given."),
    ];

    /// <inheritdoc/>
    /// <exception cref="ImageAccessException">The file cannot be created.</exception>
    public override DiskImage Create(ImageCreateRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var o = request.Options;
        bool isStatic = o.GetBool("static", false);
        string prealloc = o.GetChoice("preallocation", "off", "off", "falloc", "full");
        string? backing = request.BackingFile ?? o.GetString("backing_file");
        string? backingFormat = request.BackingFormat ?? o.GetString("backing_fmt");
        long size = request.Size;
        if (o.Contains("size")) size = o.GetSize("size", size);
        o.ThrowOnUnused(Name);
        if (backing is { Length: 0 }) backing = null;
        if (backing is not null && isStatic) throw new BadArgumentException("A static VDI image cannot have a parent.");
        if (backingFormat is not null && backing is not null && backingFormat != "vdi")
            throw new BadArgumentException($"The parent of a VDI differencing image must be a VDI image, not {backingFormat}.");
        VdiHeader? parent = backing is null ? null : VdiImage.ParentHeader(request.Path, backing);
        if (size < 0 && parent is { } p) size = p.DiskSize;
        if (size < 0) throw new BadArgumentException("The image size must be given (or come from a backing file).");
        size = checked((size + SectorSize - 1) / SectorSize * SectorSize);
        long blocks = (size + DefaultBlockSize - 1) / DefaultBlockSize;
        if (blocks > MaxBlocks) throw new BadArgumentException($"Unsupported VDI image size (size is {size}, max supported is {MaxBlocks * (long)DefaultBlockSize}).");
        long mapBytes = (blocks * 4 + SectorSize - 1) / SectorSize * SectorSize;
        if (HeaderSector + mapBytes > uint.MaxValue - DataAlignment) throw new BadArgumentException($"The VDI image size {size} is too large.");
        var header = new VdiHeader
        {
            TextLine = Text,
            HeaderSize = FullHeaderSize,
            ImageType = isStatic ? TypeFixed : parent is null ? TypeNormal : TypeDiff,
            Comment = "",
            BlocksOffset = HeaderSector,
            DataOffset = (uint)((HeaderSector + mapBytes + DataAlignment - 1) / DataAlignment * DataAlignment),
            SectorBytes = SectorSize,
            DiskSize = size,
            BlockSize = DefaultBlockSize,
            BlocksInImage = (uint)blocks,
            BlocksAllocated = isStatic ? (uint)blocks : 0,
            ImageUuid = Guid.NewGuid(),
            ModifyUuid = Guid.NewGuid(),
            LinkUuid = parent?.ImageUuid ?? Guid.Empty,
            ParentModifyUuid = parent?.ModifyUuid ?? Guid.Empty,
        };
        var map = new byte[mapBytes];
        map.AsSpan().Fill(0xFF);
        if (isStatic) for (int i = 0; i < blocks; i++) BinaryPrimitives.WriteUInt32LittleEndian(map.AsSpan(i * 4), (uint)i);
        long dataBytes = isStatic ? blocks * DefaultBlockSize : 0;
        using (var file = FileDevice.Create(request.Path, header.DataOffset + dataBytes))
        {
            if (isStatic && prealloc == "falloc" && dataBytes > 0 && !Util.LinuxNative.Allocate(file.Handle, header.DataOffset, dataBytes)) prealloc = "full";
            if (isStatic && prealloc == "full")
            {
                var zeros = new byte[1 << 20];
                for (long pos = 0; pos < dataBytes; pos += zeros.Length) file.Write(header.DataOffset + pos, zeros.AsSpan(0, (int)Math.Min(zeros.Length, dataBytes - pos)));
            }
            file.Write(HeaderSector, map);
            // The header goes last: an interrupted create never leaves a file that looks like a VDI image.
            file.Write(0, header.ToBytes());
            file.Flush();
        }
        return VdiImage.Open(new ImageOpenRequest(request.Path, true, request.Opener)
        {
            ChainPaths = new HashSet<string>([System.IO.Path.GetFullPath(request.Path)], StringComparer.Ordinal),
        }, null);
    }
}
