using System.Buffers.Binary;
using System.Text;
using static Discemu.Formats.Vdi.VdiConstants;

namespace Discemu.Formats.Vdi;

/// <summary>
/// The VDI pre-header (text line, signature, version) and version 1.1 header, little-endian, as laid out in
/// the first sector. <see cref="Read"/> validates every field it uses.
/// </summary>
internal readonly record struct VdiHeader
{
    public string TextLine { get; init; }
    public int HeaderSize { get; init; }
    public uint ImageType { get; init; }
    public uint Flags { get; init; }
    public string Comment { get; init; }
    public uint BlocksOffset { get; init; }
    public uint DataOffset { get; init; }
    public uint Cylinders { get; init; }
    public uint Heads { get; init; }
    public uint Sectors { get; init; }
    public uint SectorBytes { get; init; }
    public long DiskSize { get; init; }
    public int BlockSize { get; init; }
    public uint BlockExtra { get; init; }
    public uint BlocksInImage { get; init; }
    public uint BlocksAllocated { get; init; }
    public Guid ImageUuid { get; init; }
    public Guid ModifyUuid { get; init; }
    public Guid LinkUuid { get; init; }
    public Guid ParentModifyUuid { get; init; }

    /// <summary>Bytes one block takes in the file (its extra data, then its data).</summary>
    public long SlotSize => BlockSize + (long)BlockExtra;

    /// <summary>True when the bytes carry the VDI signature at offset 64.</summary>
    public static bool HasSignature(ReadOnlySpan<byte> data)
        => data.Length >= SignatureOffset + 4 && BinaryPrimitives.ReadUInt32LittleEndian(data[SignatureOffset..]) == Signature;

    // Field offsets in the first sector.
    private const int OffHeaderSize = 72, OffType = 76, OffFlags = 80, OffComment = 84, OffBlocks = 340, OffData = 344,
        OffCylinders = 348, OffHeads = 352, OffSectors = 356, OffSectorSize = 360, OffDiskSize = 368, OffBlockSize = 376,
        OffBlockExtra = 380, OffBlocksInImage = 384, OffBlocksAllocated = 388, OffUuidImage = 392, OffUuidModify = 408,
        OffUuidLink = 424, OffUuidParentModify = 440;

    /// <summary>Offsets of the fields rewritten after creation.</summary>
    public const int TypeOffset = OffType, DiskSizeOffset = OffDiskSize, BlocksInImageOffset = OffBlocksInImage,
        BlocksAllocatedOffset = OffBlocksAllocated, LinkUuidOffset = OffUuidLink, ParentModifyUuidOffset = OffUuidParentModify;

    /// <summary>Parses and validates the first sector.</summary>
    /// <exception cref="CorruptImageException">Not a VDI, or a field out of range.</exception>
    /// <exception cref="UnsupportedFeatureException">Another header version, an undo image, or a sector size other than 512.</exception>
    public static VdiHeader Read(ReadOnlySpan<byte> data, string? path)
    {
        if (data.Length < HeaderSector || !HasSignature(data)) throw new CorruptImageException("Not a VDI image (no signature 0xbeda107f at offset 64).", path);
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(data[68..]);
        if (version != Version11) throw new UnsupportedFeatureException($"VDI header version {version >> 16}.{version & 0xFFFF} is not supported (only 1.1).", path);
        uint headerSize = U32(data, OffHeaderSize);
        if (headerSize < MinHeaderSize || headerSize > HeaderSector - HeaderOffset)
            throw new CorruptImageException($"The VDI header size {headerSize} is out of range ({MinHeaderSize} to {HeaderSector - HeaderOffset}).", path);
        uint type = U32(data, OffType);
        if (type == TypeUndo) throw new UnsupportedFeatureException("VDI undo images are not supported.", path);
        if (type is not (TypeNormal or TypeFixed or TypeDiff)) throw new CorruptImageException($"Unknown VDI image type {type}.", path);
        uint sectorSize = U32(data, OffSectorSize);
        if (sectorSize != SectorSize) throw new UnsupportedFeatureException($"VDI images with {sectorSize}-byte sectors are not supported (only 512).", path);
        uint blockSize = U32(data, OffBlockSize);
        if (blockSize < SectorSize || blockSize > MaxBlockSize || (blockSize & (blockSize - 1)) != 0)
            throw new CorruptImageException($"The VDI block size {blockSize} is not a power of two from 512 bytes to 256 MiB.", path);
        uint extra = U32(data, OffBlockExtra);
        if (extra % SectorSize != 0 || extra > MaxBlockSize) throw new CorruptImageException($"The VDI block extra data size {extra} is invalid.", path);
        uint blocks = U32(data, OffBlocksInImage);
        if (blocks > MaxBlocks) throw new CorruptImageException($"The VDI image claims {blocks} blocks, more than the format allows.", path);
        uint blocksOffset = U32(data, OffBlocks), dataOffset = U32(data, OffData);
        if (blocksOffset % SectorSize != 0 || blocksOffset < HeaderSector)
            throw new UnsupportedFeatureException($"The VDI block map offset {blocksOffset} is not a whole sector after the header.", path);
        if (dataOffset % SectorSize != 0) throw new UnsupportedFeatureException($"The VDI data offset {dataOffset} is not a whole sector.", path);
        if ((long)blocksOffset + blocks * 4L > dataOffset)
            throw new CorruptImageException($"The VDI block map ({blocks} entries at {blocksOffset}) runs into the data area at {dataOffset}.", path);
        ulong diskSize = BinaryPrimitives.ReadUInt64LittleEndian(data[OffDiskSize..]);
        if (diskSize > (ulong)blocks * blockSize)
            throw new CorruptImageException($"The VDI disk size {diskSize} is larger than its {blocks} blocks of {blockSize} bytes.", path);
        return new VdiHeader
        {
            TextLine = DecodeText(data[..TextLength]),
            HeaderSize = (int)headerSize,
            ImageType = type,
            Flags = U32(data, OffFlags),
            Comment = DecodeText(data.Slice(OffComment, CommentLength)),
            BlocksOffset = blocksOffset,
            DataOffset = dataOffset,
            Cylinders = U32(data, OffCylinders),
            Heads = U32(data, OffHeads),
            Sectors = U32(data, OffSectors),
            SectorBytes = sectorSize,
            DiskSize = (long)diskSize,
            BlockSize = (int)blockSize,
            BlockExtra = extra,
            BlocksInImage = blocks,
            BlocksAllocated = U32(data, OffBlocksAllocated),
            ImageUuid = new Guid(data.Slice(OffUuidImage, 16)),
            ModifyUuid = new Guid(data.Slice(OffUuidModify, 16)),
            LinkUuid = new Guid(data.Slice(OffUuidLink, 16)),
            ParentModifyUuid = new Guid(data.Slice(OffUuidParentModify, 16)),
        };
    }

    private static uint U32(ReadOnlySpan<byte> data, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(data[offset..]);

    private static string DecodeText(ReadOnlySpan<byte> raw)
    {
        int nul = raw.IndexOf((byte)0);
        return Encoding.UTF8.GetString(nul < 0 ? raw : raw[..nul]);
    }

    /// <summary>Serialises the first sector (512 bytes).</summary>
    public void Write(Span<byte> dest)
    {
        var d = dest[..HeaderSector];
        d.Clear();
        var text = Encoding.UTF8.GetBytes(TextLine ?? "");
        text.AsSpan(0, Math.Min(text.Length, TextLength - 1)).CopyTo(d);
        BinaryPrimitives.WriteUInt32LittleEndian(d[SignatureOffset..], Signature);
        BinaryPrimitives.WriteUInt32LittleEndian(d[68..], Version11);
        BinaryPrimitives.WriteUInt32LittleEndian(d[OffHeaderSize..], (uint)HeaderSize);
        BinaryPrimitives.WriteUInt32LittleEndian(d[OffType..], ImageType);
        BinaryPrimitives.WriteUInt32LittleEndian(d[OffFlags..], Flags);
        var comment = Encoding.UTF8.GetBytes(Comment ?? "");
        comment.AsSpan(0, Math.Min(comment.Length, CommentLength - 1)).CopyTo(d[OffComment..]);
        BinaryPrimitives.WriteUInt32LittleEndian(d[OffBlocks..], BlocksOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(d[OffData..], DataOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(d[OffCylinders..], Cylinders);
        BinaryPrimitives.WriteUInt32LittleEndian(d[OffHeads..], Heads);
        BinaryPrimitives.WriteUInt32LittleEndian(d[OffSectors..], Sectors);
        BinaryPrimitives.WriteUInt32LittleEndian(d[OffSectorSize..], SectorBytes);
        BinaryPrimitives.WriteUInt64LittleEndian(d[OffDiskSize..], (ulong)DiskSize);
        BinaryPrimitives.WriteUInt32LittleEndian(d[OffBlockSize..], (uint)BlockSize);
        BinaryPrimitives.WriteUInt32LittleEndian(d[OffBlockExtra..], BlockExtra);
        BinaryPrimitives.WriteUInt32LittleEndian(d[OffBlocksInImage..], BlocksInImage);
        BinaryPrimitives.WriteUInt32LittleEndian(d[OffBlocksAllocated..], BlocksAllocated);
        ImageUuid.TryWriteBytes(d.Slice(OffUuidImage, 16));
        ModifyUuid.TryWriteBytes(d.Slice(OffUuidModify, 16));
        LinkUuid.TryWriteBytes(d.Slice(OffUuidLink, 16));
        ParentModifyUuid.TryWriteBytes(d.Slice(OffUuidParentModify, 16));
    }

    /// <summary>The first sector as bytes.</summary>
    public byte[] ToBytes()
    {
        var b = new byte[HeaderSector];
        Write(b);
        return b;
    }

    /// <summary>The image type as text.</summary>
    public string TypeName => ImageType switch { TypeNormal => "dynamic", TypeFixed => "static", TypeDiff => "differencing", _ => ImageType.ToString() };
}
