using System.Buffers.Binary;
using Discemu.Block;
using static Discemu.Formats.Vdi.VdiConstants;

namespace Discemu.Formats.Vdi;

/// <summary>
/// An opened VirtualBox Disk Image (header 1.1): a block map sends each block of the virtual disk to a slot
/// in the data area (or marks it free or zero). Static images have every block allocated; differencing
/// images read free blocks from a parent found by its UUID.
/// </summary>
/// <remarks>
/// <para>One lock guards the metadata (block map, slot allocation); data I/O runs outside it. Writers of the
/// same block wait for each other.</para>
/// <para>Crash safety: a new block's slot is counted in the header first, then its data is written, then
/// the block map points at it. A process killed in between leaves at most an unreferenced slot (which
/// <c>qemu-img check</c> reports as an allocated-blocks mismatch and Discemu fills with the next new block).</para>
/// </remarks>
public sealed partial class VdiImage : DiskImage, ICheckableImage, IBackingChangeable, IEmptyableImage
{
    private readonly object _lock = new();
    private readonly bool _writable;
    private readonly int _blockBits;
    private VdiHeader _header;
    private uint[] _map;
    private long _size;

    private VdiImage(string path, FileDevice file, bool writable, VdiHeader header, uint[] map)
    {
        Path = path;
        File = file;
        _writable = writable;
        _header = header;
        _map = map;
        _size = header.DiskSize;
        _blockBits = System.Numerics.BitOperations.Log2((uint)header.BlockSize);
    }

    /// <summary>The host file.</summary>
    internal FileDevice File { get; }

    internal VdiHeader Header { get { lock (_lock) return _header; } }

    /// <inheritdoc/>
    public override ImageFormat Format => VdiFormat.Instance;

    /// <inheritdoc/>
    public override string Path { get; }

    /// <inheritdoc/>
    public override long Length => Volatile.Read(ref _size);

    /// <inheritdoc/>
    public override DeviceCapabilities Capabilities => _writable
        ? DeviceCapabilities.Write | DeviceCapabilities.FastZero | DeviceCapabilities.Discard | DeviceCapabilities.Resize | DeviceCapabilities.Status
        : DeviceCapabilities.Status;

    /// <inheritdoc/>
    public override int? ClusterSize => _header.BlockSize;

    /// <inheritdoc/>
    public override long? ActualSize => File.AllocatedBytes;

    /// <summary>True for a differencing image.</summary>
    private bool IsDifferencing => _header.ImageType == TypeDiff;

    /// <inheritdoc/>
    public override IReadOnlyList<KeyValuePair<string, object?>> FormatSpecific
    {
        get
        {
            var h = Header;
            var list = new List<KeyValuePair<string, object?>>
            {
                new("image-type", h.TypeName),
                new("block-size", h.BlockSize),
                new("blocks", (long)h.BlocksInImage),
                new("blocks-allocated", (long)h.BlocksAllocated),
                new("uuid", h.ImageUuid.ToString()),
                new("modification-uuid", h.ModifyUuid.ToString()),
            };
            if (h.ImageType == TypeDiff)
            {
                list.Add(new("parent-uuid", h.LinkUuid.ToString()));
                list.Add(new("parent-modification-uuid", h.ParentModifyUuid.ToString()));
            }
            if (h.Comment.Length > 0) list.Add(new("comment", h.Comment));
            return list;
        }
    }

    /// <summary>Opens an image for <paramref name="request"/>; <paramref name="parentPath"/> overrides the search for a differencing image's parent.</summary>
    internal static VdiImage Open(ImageOpenRequest request, string? parentPath)
    {
        var file = FileDevice.Open(request.Path, request.Writable);
        VdiImage? image = null;
        try
        {
            image = Load(request, file);
            if (image.IsDifferencing) image.FindParent(request, parentPath);
            return image;
        }
        catch
        {
            if (image is not null) image.Dispose();
            else file.Dispose();
            throw;
        }
    }

    private static VdiImage Load(ImageOpenRequest request, FileDevice file)
    {
        string path = request.Path;
        long fileLength = file.Length;
        if (fileLength < HeaderSector) throw new CorruptImageException($"The file ({fileLength} bytes) is too short to be a VDI image.", path);
        var first = new byte[HeaderSector];
        file.Read(0, first);
        var header = VdiHeader.Read(first, path);
        long mapBytes = header.BlocksInImage * 4L;
        if (header.BlocksOffset > fileLength - mapBytes)
            throw new CorruptImageException($"The VDI block map ({header.BlocksInImage} entries at {header.BlocksOffset}) lies outside the file.", path);
        var raw = new byte[mapBytes];
        file.Read(header.BlocksOffset, raw);
        var map = new uint[header.BlocksInImage];
        for (int i = 0; i < map.Length; i++) map[i] = BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(i * 4));
        var image = new VdiImage(path, file, request.Writable, header, map);
        image.InitializeAllocator();
        return image;
    }

    /// <summary>Where block data of slot <paramref name="slot"/> starts in the file.</summary>
    private long SlotOffset(uint slot) => _header.DataOffset + slot * _header.SlotSize + _header.BlockExtra;

    /// <summary>Checks a block map entry that names a slot.</summary>
    private uint CheckSlot(long block, uint entry)
    {
        if (entry >= _header.BlocksInImage)
            throw new CorruptImageException($"Block {block} of the VDI block map points at slot {entry}, beyond the image's {_header.BlocksInImage} blocks.", Path);
        return entry;
    }

    /// <summary>Reads host bytes; past the end of the file they read as zeros.</summary>
    private void ReadHost(long offset, Span<byte> buffer)
    {
        long length = File.Length;
        if (offset >= length) { buffer.Clear(); return; }
        int n = (int)Math.Min(buffer.Length, length - offset);
        File.Read(offset, buffer[..n]);
        buffer[n..].Clear();
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (!disposing) return;
        File.Dispose();
        _backing?.Dispose();
    }
}
