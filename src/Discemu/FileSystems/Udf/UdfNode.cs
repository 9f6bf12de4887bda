using System.Buffers.Binary;
using static Discemu.FileSystems.Udf.UdfConstants;

namespace Discemu.FileSystems.Udf;

/// <summary>A file entry or extended file entry (ECMA-167 4/14.9, 4/14.17): the fields Discemu uses.</summary>
internal sealed class UdfNode
{
    public required UdfIcbAddress Address { get; init; }
    public required bool Extended { get; init; }
    public required byte FileType { get; init; }
    public required ushort IcbFlags { get; init; }
    public required ushort Strategy { get; init; }
    public required ushort MaxEntries { get; init; }
    public required uint Uid { get; init; }
    public required uint Gid { get; init; }
    public required uint Permissions { get; init; }
    public required ushort Links { get; init; }
    public required ulong Size { get; init; }
    public required DateTimeOffset? Accessed { get; init; }
    public required DateTimeOffset? Modified { get; init; }
    public required DateTimeOffset? Created { get; init; }
    public required DateTimeOffset? Changed { get; init; }
    public required ulong UniqueId { get; init; }
    /// <summary>The allocation descriptors, or the data itself when <see cref="AdType"/> is embedded.</summary>
    public required byte[] Descriptors { get; init; }

    public int AdType => IcbFlags & IcbAllocationMask;

    /// <summary>Parses a file entry (tag 261) or extended file entry (tag 266) in <paramref name="block"/>.</summary>
    /// <exception cref="CorruptImageException">The lengths of its extended attributes and descriptors do not fit in the block.</exception>
    public static UdfNode Parse(ReadOnlySpan<byte> block, ushort tagId, UdfIcbAddress address, string? path)
    {
        bool ext = tagId == TagExtendedFileEntry;
        int fixedSize = ext ? 216 : 176;
        if (block.Length < fixedSize) throw new CorruptImageException($"The file entry at {address} is truncated.", path);
        uint eaLength = BinaryPrimitives.ReadUInt32LittleEndian(block[(fixedSize - 8)..]);
        uint adLength = BinaryPrimitives.ReadUInt32LittleEndian(block[(fixedSize - 4)..]);
        if (eaLength > block.Length - fixedSize || adLength > block.Length - fixedSize - eaLength)
            throw new CorruptImageException($"The file entry at {address} claims {eaLength} bytes of extended attributes and {adLength} of allocation descriptors, more than its block holds.", path);
        ulong size = BinaryPrimitives.ReadUInt64LittleEndian(block[56..]);
        if (size > long.MaxValue / 2) throw new CorruptImageException($"The file entry at {address} claims an absurd size ({size} bytes).", path);
        int times = ext ? 80 : 72;
        return new UdfNode
        {
            Address = address,
            Extended = ext,
            Strategy = BinaryPrimitives.ReadUInt16LittleEndian(block[20..]),
            MaxEntries = BinaryPrimitives.ReadUInt16LittleEndian(block[24..]),
            FileType = block[27],
            IcbFlags = BinaryPrimitives.ReadUInt16LittleEndian(block[34..]),
            Uid = BinaryPrimitives.ReadUInt32LittleEndian(block[36..]),
            Gid = BinaryPrimitives.ReadUInt32LittleEndian(block[40..]),
            Permissions = BinaryPrimitives.ReadUInt32LittleEndian(block[44..]),
            Links = BinaryPrimitives.ReadUInt16LittleEndian(block[48..]),
            Size = size,
            Accessed = UdfTimestamp.Read(block.Slice(times, UdfTimestamp.Size)),
            Modified = UdfTimestamp.Read(block.Slice(times + 12, UdfTimestamp.Size)),
            Created = ext ? UdfTimestamp.Read(block.Slice(104, UdfTimestamp.Size)) : null,
            Changed = UdfTimestamp.Read(block.Slice(ext ? 116 : 96, UdfTimestamp.Size)),
            UniqueId = BinaryPrimitives.ReadUInt64LittleEndian(block[(ext ? 200 : 160)..]),
            Descriptors = block.Slice(fixedSize + (int)eaLength, (int)adLength).ToArray(),
        };
    }

    /// <summary>The POSIX mode: the file type bits, permissions (ECMA-167 4/14.9.5) and the set-id and sticky bits of the ICB flags.</summary>
    public uint Mode
    {
        get
        {
            uint mode = (Permissions & 7) | ((Permissions >> 5) & 7) << 3 | ((Permissions >> 10) & 7) << 6;
            if ((IcbFlags & IcbSetUid) != 0) mode |= 0x800;
            if ((IcbFlags & IcbSetGid) != 0) mode |= 0x400;
            if ((IcbFlags & IcbSticky) != 0) mode |= 0x200;
            return mode | FileType switch
            {
                FileTypeDirectory or FileTypeStreamDirectory => 0x4000u,
                FileTypeSymlink => 0xA000u,
                FileTypeBlockDevice => 0x6000u,
                FileTypeCharDevice or FileTypeTerminal => 0x2000u,
                FileTypeFifo => 0x1000u,
                FileTypeSocket => 0xC000u,
                _ => 0x8000u,
            };
        }
    }
}
