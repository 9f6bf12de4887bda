using System.Buffers.Binary;
using static Discemu.Formats.Vhdx.VhdxConstants;

namespace Discemu.Formats.Vhdx;

/// <summary>One metadata item: its id, flags and bytes (unknown items are kept as they are).</summary>
internal sealed record VhdxMetadataItem(Guid Id, uint Flags, byte[] Data)
{
    public bool IsUser => (Flags & MetadataIsUser) != 0;
    public bool IsRequired => (Flags & MetadataIsRequired) != 0;
}

/// <summary>
/// The metadata region (MS-VHDX 2.6): a 64 KiB table followed by the items. Parses and validates the
/// known system items (file parameters, virtual disk size and id, sector sizes, parent locator) and
/// lays the table out again when an item changes.
/// </summary>
internal sealed class VhdxMetadata
{
    /// <summary>Largest stretch of the metadata region Discemu reads (table plus items).</summary>
    public const long MaxUsedLength = 16 * MiB;

    private VhdxMetadata(List<VhdxMetadataItem> items) => Items = items;

    /// <summary>Every item in table order.</summary>
    public List<VhdxMetadataItem> Items { get; }

    public uint BlockSize { get; private set; }
    public bool LeaveBlockAllocated { get; private set; }
    public bool HasParent { get; private set; }
    public long VirtualSize { get; private set; }
    public Guid VirtualDiskId { get; private set; }
    public int LogicalSectorSize { get; private set; }
    public int PhysicalSectorSize { get; private set; }
    public VhdxParentLocator? ParentLocator { get; private set; }

    /// <summary>Builds the metadata of a new image.</summary>
    public static VhdxMetadata Create(uint blockSize, bool leaveAllocated, long virtualSize, Guid diskId, int logical, int physical, VhdxParentLocator? parent)
    {
        var m = new VhdxMetadata([]);
        m.Items.Add(new(FileParametersItem, MetadataIsRequired, []));
        m.Items.Add(new(VirtualDiskSizeItem, MetadataIsVirtualDisk | MetadataIsRequired, []));
        m.Items.Add(new(VirtualDiskIdItem, MetadataIsVirtualDisk | MetadataIsRequired, []));
        m.Items.Add(new(LogicalSectorSizeItem, MetadataIsVirtualDisk | MetadataIsRequired, []));
        m.Items.Add(new(PhysicalSectorSizeItem, MetadataIsVirtualDisk | MetadataIsRequired, []));
        m.BlockSize = blockSize;
        m.LeaveBlockAllocated = leaveAllocated;
        m.VirtualSize = virtualSize;
        m.VirtualDiskId = diskId;
        m.LogicalSectorSize = logical;
        m.PhysicalSectorSize = physical;
        m.SetParent(parent);
        m.SyncItems();
        return m;
    }

    /// <summary>The bytes of the table that must be read first (64 KiB at the region's start).</summary>
    /// <returns>How many bytes of the region hold the table and every item.</returns>
    /// <exception cref="CorruptImageException">The table is invalid.</exception>
    public static long UsedLength(ReadOnlySpan<byte> table, long regionLength, string? path)
    {
        var entries = ReadEntries(table, regionLength, path);
        long end = MetadataTableSize;
        foreach (var (_, offset, length, _) in entries) end = Math.Max(end, (long)offset + length);
        return end;
    }

    private static List<(Guid Id, uint Offset, uint Length, uint Flags)> ReadEntries(ReadOnlySpan<byte> table, long regionLength, string? path)
    {
        if (table.Length < MetadataTableSize) throw new CorruptImageException("The metadata table is truncated.", path);
        if (BinaryPrimitives.ReadUInt64LittleEndian(table) != MetadataSignature)
            throw new CorruptImageException("The metadata table's signature is not 'metadata'.", path);
        int count = BinaryPrimitives.ReadUInt16LittleEndian(table[10..]);
        if (count > MaxMetadataEntries) throw new CorruptImageException($"The metadata table claims {count} entries (at most {MaxMetadataEntries}).", path);
        var entries = new List<(Guid, uint, uint, uint)>(count);
        int user = 0;
        for (int i = 0; i < count; i++)
        {
            var e = table.Slice(32 + i * 32, 32);
            var id = new Guid(e[..16]);
            uint offset = BinaryPrimitives.ReadUInt32LittleEndian(e[16..]);
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(e[20..]);
            uint flags = BinaryPrimitives.ReadUInt32LittleEndian(e[24..]);
            if (length > MaxMetadataItemLength) throw new CorruptImageException($"Metadata item {id} is {length} bytes (at most 1 MiB).", path);
            if (length == 0 ? offset != 0 : offset < MetadataTableSize || (long)offset + length > regionLength)
                throw new CorruptImageException($"Metadata item {id} (offset {offset}, {length} bytes) lies outside the metadata region.", path);
            bool isUser = (flags & MetadataIsUser) != 0;
            if (isUser && ++user > MaxUserMetadataEntries) throw new CorruptImageException("More than 1024 user metadata items.", path);
            foreach (var (otherId, otherOffset, otherLength, otherFlags) in entries)
            {
                if (otherId == id && ((otherFlags & MetadataIsUser) != 0) == isUser)
                    throw new CorruptImageException($"Metadata item {id} is listed twice.", path);
                if (length > 0 && otherLength > 0 && offset < otherOffset + otherLength && otherOffset < offset + length)
                    throw new CorruptImageException($"Metadata items {otherId} and {id} overlap.", path);
            }
            entries.Add((id, offset, length, flags));
        }
        return entries;
    }

    /// <summary>Parses the table and items from the region's first <see cref="UsedLength"/> bytes.</summary>
    /// <exception cref="CorruptImageException">An item is missing or invalid.</exception>
    /// <exception cref="UnsupportedFeatureException">A required item is unknown, or a sector size or block size is one the format does not allow.</exception>
    public static VhdxMetadata Read(ReadOnlySpan<byte> region, long regionLength, string? path)
    {
        var entries = ReadEntries(region, regionLength, path);
        var items = new List<VhdxMetadataItem>(entries.Count);
        foreach (var (id, offset, length, flags) in entries)
        {
            if ((long)offset + length > region.Length) throw new CorruptImageException($"Metadata item {id} lies outside the data read.", path);
            items.Add(new VhdxMetadataItem(id, flags, region.Slice((int)offset, (int)length).ToArray()));
        }
        var m = new VhdxMetadata(items);
        m.Parse(path);
        return m;
    }

    private static readonly Guid[] KnownSystemItems = [FileParametersItem, VirtualDiskSizeItem, VirtualDiskIdItem, LogicalSectorSizeItem, PhysicalSectorSizeItem, ParentLocatorItem];

    private VhdxMetadataItem? System(Guid id)
    {
        foreach (var i in Items) if (i.Id == id && !i.IsUser) return i;
        return null;
    }

    private byte[] Required(Guid id, int length, string name, string? path)
    {
        var item = System(id) ?? throw new CorruptImageException($"The {name} metadata item is missing.", path);
        if (item.Data.Length < length) throw new CorruptImageException($"The {name} metadata item is {item.Data.Length} bytes (expected {length}).", path);
        return item.Data;
    }

    private void Parse(string? path)
    {
        foreach (var item in Items)
            if (!item.IsUser && item.IsRequired && Array.IndexOf(KnownSystemItems, item.Id) < 0)
                throw new UnsupportedFeatureException($"The image needs metadata item {item.Id}, which Discemu does not know.", path);
        var fp = Required(FileParametersItem, 8, "file parameters", path);
        BlockSize = BinaryPrimitives.ReadUInt32LittleEndian(fp);
        uint flags = BinaryPrimitives.ReadUInt32LittleEndian(fp.AsSpan(4));
        LeaveBlockAllocated = (flags & VhdxConstants.LeaveBlockAllocated) != 0;
        HasParent = (flags & VhdxConstants.HasParent) != 0;
        if (BlockSize < MinBlockSize || BlockSize > MaxBlockSize || (BlockSize & (BlockSize - 1)) != 0)
            throw new CorruptImageException($"The block size {BlockSize} is not a power of two from 1 MiB to 256 MiB.", path);
        LogicalSectorSize = (int)BinaryPrimitives.ReadUInt32LittleEndian(Required(LogicalSectorSizeItem, 4, "logical sector size", path));
        PhysicalSectorSize = (int)BinaryPrimitives.ReadUInt32LittleEndian(Required(PhysicalSectorSizeItem, 4, "physical sector size", path));
        if (LogicalSectorSize is not (512 or 4096)) throw new CorruptImageException($"The logical sector size {(uint)LogicalSectorSize} is not 512 or 4096.", path);
        if (PhysicalSectorSize is not (512 or 4096)) throw new CorruptImageException($"The physical sector size {(uint)PhysicalSectorSize} is not 512 or 4096.", path);
        ulong size = BinaryPrimitives.ReadUInt64LittleEndian(Required(VirtualDiskSizeItem, 8, "virtual disk size", path));
        if (size > (ulong)MaxVirtualSize) throw new CorruptImageException($"The virtual disk size {size} is larger than 64 TiB.", path);
        if (size % (ulong)LogicalSectorSize != 0) throw new CorruptImageException($"The virtual disk size {size} is not a multiple of the logical sector size.", path);
        VirtualSize = (long)size;
        var id = System(VirtualDiskIdItem);
        VirtualDiskId = id is { Data.Length: >= 16 } ? new Guid(id.Data.AsSpan(0, 16)) : Guid.Empty;
        var locator = System(ParentLocatorItem);
        if (HasParent)
        {
            if (locator is null) throw new CorruptImageException("The image is differencing but has no parent locator.", path);
            ParentLocator = VhdxParentLocator.Read(locator.Data, path);
            if (ParentLocator.Type != VhdxParentLocatorType)
                throw new UnsupportedFeatureException($"Parent locator type {ParentLocator.Type} is not supported (only VHDX parents).", path);
        }
    }

    /// <summary>Changes the virtual size.</summary>
    public void SetVirtualSize(long size)
    {
        VirtualSize = size;
        SyncItems();
    }

    /// <summary>Sets or (null) removes the parent locator; the has-parent flag follows.</summary>
    public void SetParent(VhdxParentLocator? locator)
    {
        ParentLocator = locator;
        HasParent = locator is not null;
        Items.RemoveAll(i => i.Id == ParentLocatorItem && !i.IsUser);
        if (locator is not null) Items.Add(new(ParentLocatorItem, MetadataIsRequired, locator.ToBytes()));
        SyncItems();
    }

    /// <summary>Rewrites the known items' bytes from the properties.</summary>
    private void SyncItems()
    {
        var fp = new byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(fp, BlockSize);
        BinaryPrimitives.WriteUInt32LittleEndian(fp.AsSpan(4), (LeaveBlockAllocated ? VhdxConstants.LeaveBlockAllocated : 0) | (HasParent ? VhdxConstants.HasParent : 0));
        var size = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(size, (ulong)VirtualSize);
        var id = VirtualDiskId.ToByteArray();
        var logical = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(logical, (uint)LogicalSectorSize);
        var physical = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(physical, (uint)PhysicalSectorSize);
        for (int i = 0; i < Items.Count; i++)
        {
            var item = Items[i];
            if (item.IsUser) continue;
            byte[]? data = item.Id == FileParametersItem ? fp : item.Id == VirtualDiskSizeItem ? size : item.Id == VirtualDiskIdItem ? id
                : item.Id == LogicalSectorSizeItem ? logical : item.Id == PhysicalSectorSizeItem ? physical : null;
            if (data is not null) Items[i] = item with { Data = data };
        }
    }

    /// <summary>
    /// Lays the table and items out as they go at the start of the metadata region: the table, then
    /// the items packed from 64 KiB in table order.
    /// </summary>
    /// <exception cref="BadArgumentException">The items do not fit in <paramref name="regionLength"/>.</exception>
    public byte[] ToBytes(long regionLength)
    {
        long end = MetadataTableSize;
        foreach (var item in Items) end += item.Data.Length;
        if (end > regionLength || Items.Count > MaxMetadataEntries) throw new BadArgumentException("The metadata items do not fit in the metadata region.");
        var data = new byte[AlignUp(end, LogSectorSize)];
        BinaryPrimitives.WriteUInt64LittleEndian(data, MetadataSignature);
        BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(10), (ushort)Items.Count);
        int pos = MetadataTableSize;
        for (int i = 0; i < Items.Count; i++)
        {
            var e = data.AsSpan(32 + i * 32, 32);
            var item = Items[i];
            item.Id.TryWriteBytes(e);
            BinaryPrimitives.WriteUInt32LittleEndian(e[16..], item.Data.Length == 0 ? 0u : (uint)pos);
            BinaryPrimitives.WriteUInt32LittleEndian(e[20..], (uint)item.Data.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(e[24..], item.Flags);
            item.Data.CopyTo(data, pos);
            pos += item.Data.Length;
        }
        return data;
    }
}
