using System.Buffers.Binary;
using Discemu.Block;
using static Discemu.FileSystems.Udf.UdfConstants;

namespace Discemu.FileSystems.Udf;

internal sealed partial class UdfFileSystem
{
    private const string VirtualMapId = "*UDF Virtual Partition";
    private const string SparableMapId = "*UDF Sparable Partition";
    private const string MetadataMapId = "*UDF Metadata Partition";
    private const string SparingTableId = "*UDF Sparing Table";
    private const string VatTrailerId = "*UDF Virtual Alloc Tbl";
    private const int VatHeaderSize = 152;
    private const int Vat150TrailerSize = 36;
    private const int VatSearchSectors = 32;

    /// <summary>Opens the file system on <paramref name="device"/>.</summary>
    /// <exception cref="CorruptImageException">The anchor, volume descriptors, partition maps or file set are damaged.</exception>
    /// <exception cref="UnsupportedFeatureException">A partition map of an unknown type is used.</exception>
    public static UdfFileSystem Open(BlockDevice device, FileSystemOpenOptions options)
    {
        string? path = DisplayPathOf(device, options);
        if (options.Session is not (null or 1)) throw new BadArgumentException($"Session {options.Session} does not exist: UDF volumes are opened as one session.", path);
        if (options.Names is not null) throw new BadArgumentException("UDF records one set of names: --names does not apply.", path);
        var anchor = UdfVolumeReader.FindAnchor(device)
            ?? throw new CorruptImageException("No UDF anchor volume descriptor pointer at sector 256, N-256 or N-1 (sector sizes 2048, 512, 4096, 1024).", path);
        var vds = UdfVolumeReader.Read(device, anchor.SectorSize, anchor.Anchor, path);
        return new UdfFileSystem(device, path, anchor.SectorSize, anchor.Sector, vds);
    }

    private UdfFileSystem(BlockDevice device, string? path, int sectorSize, uint anchorSector, UdfVolumeDescriptors vds)
    {
        _device = device;
        DisplayPath = path;
        var lv = vds.Logical;
        if (lv.BlockSize is < 512 or > 65536 || (lv.BlockSize & (lv.BlockSize - 1)) != 0 || lv.BlockSize < sectorSize)
            throw new CorruptImageException($"The logical block size {lv.BlockSize} is not a power of two between the sector size ({sectorSize}) and 65536.", path);
        _blockSize = (int)lv.BlockSize;
        var slots = new UdfPartition?[lv.Maps.Length];
        _partitions = [.. slots]; // filled below; Partition() refuses the null slots until then
        string? vatLogicalVolume = null;
        var integrity = UdfIntegrity.Read(device, sectorSize, lv.IntegrityExtent);

        // Physical and sparable maps first: the virtual and metadata maps are read through them.
        for (int i = 0; i < lv.Maps.Length; i++)
        {
            var map = lv.Maps[i];
            if (map[0] == 1 && map.Length >= 6) _partitions[i] = Physical(vds, BinaryPrimitives.ReadUInt16LittleEndian(map.AsSpan(4)), sectorSize);
            else if (map[0] == 2 && map.Length >= 64)
            {
                string id = UdfText.RegidText(map.AsSpan(4, 32));
                ushort number = BinaryPrimitives.ReadUInt16LittleEndian(map.AsSpan(38));
                if (id == SparableMapId) _partitions[i] = Sparable(Physical(vds, number, sectorSize), map, sectorSize);
                else if (id is not (VirtualMapId or MetadataMapId))
                    throw new UnsupportedFeatureException($"Partition map {i} is of type '{id}', which Discemu cannot read.", path);
            }
            else throw new CorruptImageException($"Partition map {i} has an unknown type {map[0]} or a bad length ({map.Length}).", path);
        }
        for (int i = 0; i < lv.Maps.Length; i++)
        {
            if (_partitions[i] is not null) continue;
            var map = lv.Maps[i];
            string id = UdfText.RegidText(map.AsSpan(4, 32));
            ushort number = BinaryPrimitives.ReadUInt16LittleEndian(map.AsSpan(38));
            int physical = _partitions.FindIndex(p => p is UdfPhysicalPartition or UdfSparablePartition && p.Number == number);
            if (physical < 0) throw new CorruptImageException($"Partition map {i} ({id}) refers to partition {number}, which no physical map describes.", path);
            if (id == VirtualMapId)
            {
                var (vat, vatLv, vatIntegrity) = Virtual((ushort)physical, anchorSector, sectorSize);
                _partitions[i] = vat;
                vatLogicalVolume = vatLv;
                // With a VAT the integrity descriptor stays open; the VAT itself records a consistent volume (UDF 2.60 2.2.6, 2.2.11).
                integrity = (vatIntegrity ?? integrity ?? new UdfIntegrity(true, 0, 0, 0, 0, 0)) with { Closed = true };
            }
            else _partitions[i] = Metadata((ushort)physical, map);
        }

        var fsdAt = new UdfIcbAddress(lv.FileSetLocation.Partition, lv.FileSetLocation.Block);
        var fsd = ReadBlock(fsdAt, out var fsdTag);
        if (fsdTag is not { Identifier: TagFileSet }) throw new CorruptImageException($"There is no file set descriptor at {fsdAt}.", path);
        var rootAd = UdfLongAd.Read(fsd.AsSpan(400));
        var rootNode = ReadNode(new UdfIcbAddress(rootAd.Partition, rootAd.Block));
        if (rootNode.FileType != FileTypeDirectory) throw new CorruptImageException($"The root ICB ({rootNode.Address}) is not a directory (file type {rootNode.FileType}).", path);
        _root = EntryFor(rootNode, "", FileSystemEntryKind.Directory, new UdfDirectoryChain(rootNode.Address, null), null, FileAttributes.Normal);
        string logicalVolume = vatLogicalVolume ?? lv.Identifier;
        _label = logicalVolume.Length > 0 ? logicalVolume : vds.Primary.VolumeId.Length > 0 ? vds.Primary.VolumeId : null;
        _info = BuildInfo(vds, logicalVolume, UdfText.DString(fsd.AsSpan(304, 32)), sectorSize, anchorSector, integrity);
    }

    private UdfPhysicalPartition Physical(UdfVolumeDescriptors vds, ushort number, int sectorSize)
    {
        var pd = vds.Partitions.FirstOrDefault(p => p.Number == number)
            ?? throw new CorruptImageException($"No partition descriptor has number {number}.", DisplayPath);
        return new UdfPhysicalPartition(pd, sectorSize, _blockSize, _device.Length, DisplayPath);
    }

    /// <summary>A sparable map (UDF 2.60 2.2.9) and its sparing table (2.2.12): the first table that reads correctly.</summary>
    private UdfSparablePartition Sparable(UdfPhysicalPartition physical, byte[] map, int sectorSize)
    {
        ushort packet = BinaryPrimitives.ReadUInt16LittleEndian(map.AsSpan(40));
        int tables = map[42];
        uint tableSize = BinaryPrimitives.ReadUInt32LittleEndian(map.AsSpan(44));
        if (packet == 0 || (packet & (packet - 1)) != 0 || tables is < 1 or > 4 || tableSize < 56 || tableSize > 56 + MaxSparingEntries * 8L)
            throw new CorruptImageException($"The sparable partition map is damaged (packet length {packet}, {tables} tables of {tableSize} bytes).", DisplayPath);
        var buffer = new byte[(tableSize + sectorSize - 1) / sectorSize * sectorSize];
        for (int t = 0; t < tables; t++)
        {
            uint sector = BinaryPrimitives.ReadUInt32LittleEndian(map.AsSpan(48 + 4 * t));
            if ((sector + (long)buffer.Length / sectorSize) * sectorSize > _device.Length) continue;
            _device.Read((long)sector * sectorSize, buffer);
            if (!UdfTag.TryRead(buffer, sector, out _) || UdfText.RegidText(buffer.AsSpan(16, 32)) != SparingTableId) continue;
            int entries = BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan(48));
            if (56 + entries * 8L > buffer.Length) continue;
            var spared = new Dictionary<uint, uint>();
            for (int e = 0; e < entries; e++)
            {
                uint original = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(56 + 8 * e));
                uint mapped = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(60 + 8 * e));
                if (original < 0xFFFFFFF0) spared[original] = mapped;
            }
            return new UdfSparablePartition(physical, packet, spared, sectorSize, DisplayPath);
        }
        throw new CorruptImageException($"None of the {tables} sparing tables of partition {physical.Number} is readable.", DisplayPath);
    }

    /// <summary>
    /// A virtual map (UDF 2.60 2.2.10): the virtual allocation table's file entry is in the last recorded
    /// sector; Discemu looks at the last sectors of the image for it. Returns the map, and the VAT's logical
    /// volume identifier and counts (UDF 2.00 and later).
    /// </summary>
    private (UdfVirtualPartition, string?, UdfIntegrity?) Virtual(ushort physicalRef, uint anchorSector, int sectorSize)
    {
        var physical = _partitions[physicalRef] as UdfPhysicalPartition
            ?? throw new UnsupportedFeatureException("A virtual partition over a sparable one is not supported.", DisplayPath);
        long lastSector = _device.Length / sectorSize - 1;
        long partitionFirst = physical.Descriptor.Start;
        for (long s = lastSector; s >= Math.Max(anchorSector, lastSector - VatSearchSectors); s--)
        {
            long block = (s - partitionFirst) * sectorSize / _blockSize;
            if (block < 0 || block >= physical.Blocks) continue;
            UdfNode node;
            try { node = ReadNode(new UdfIcbAddress(physicalRef, (uint)block)); }
            catch (CorruptImageException) { continue; }
            if (node.FileType is not (FileTypeVat or FileTypeUnspecified)) continue;
            var data = ReadContent(node, MaxVatBytes, "virtual allocation table");
            int first, end;
            string? lvId = null;
            UdfIntegrity? counts = null;
            if (node.FileType == FileTypeVat)
            {
                if (data.Length < VatHeaderSize) continue;
                first = BinaryPrimitives.ReadUInt16LittleEndian(data);
                if (first < VatHeaderSize || first > data.Length) throw new CorruptImageException($"The VAT header length {first} is out of range.", DisplayPath);
                lvId = UdfText.DString(data.AsSpan(4, 128));
                var h = data.AsSpan(136);
                counts = new UdfIntegrity(false, BinaryPrimitives.ReadUInt32LittleEndian(h), BinaryPrimitives.ReadUInt32LittleEndian(h[4..]),
                    BinaryPrimitives.ReadUInt16LittleEndian(h[8..]), BinaryPrimitives.ReadUInt16LittleEndian(h[10..]), BinaryPrimitives.ReadUInt16LittleEndian(h[12..]));
                end = data.Length;
            }
            else
            {
                if (data.Length < Vat150TrailerSize || UdfText.RegidText(data.AsSpan(data.Length - Vat150TrailerSize, 32)) != VatTrailerId) continue;
                first = 0;
                end = data.Length - Vat150TrailerSize;
            }
            var table = new uint[(end - first) / 4];
            for (int i = 0; i < table.Length; i++) table[i] = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(first + 4 * i));
            return (new UdfVirtualPartition(physical, table, (uint)block, DisplayPath), lvId, counts);
        }
        throw new CorruptImageException($"The virtual allocation table was not found in the last {VatSearchSectors} sectors (the disc may be unclosed or damaged).", DisplayPath);
    }

    /// <summary>A metadata map (UDF 2.60 2.2.10): the metadata file's content, or its mirror's when the file is unreadable.</summary>
    private UdfMetadataPartition Metadata(ushort physicalRef, byte[] map)
    {
        uint file = BinaryPrimitives.ReadUInt32LittleEndian(map.AsSpan(40));
        uint mirror = BinaryPrimitives.ReadUInt32LittleEndian(map.AsSpan(44));
        CorruptImageException? first = null;
        foreach (var (block, type, isMirror) in new[] { (file, FileTypeMetadata, false), (mirror, FileTypeMetadataMirror, true) })
        {
            try
            {
                var node = ReadNode(new UdfIcbAddress(physicalRef, block));
                if (node.FileType != type) throw new CorruptImageException($"The metadata {(isMirror ? "mirror " : "")}file at block {block} has file type {node.FileType}.", DisplayPath);
                if (node.AdType == AdEmbedded) throw new CorruptImageException("The metadata file embeds its data.", DisplayPath);
                var runs = ContentRuns(node);
                return new UdfMetadataPartition(_partitions[physicalRef]!, [.. runs], (long)node.Size, isMirror, file, mirror, DisplayPath);
            }
            catch (CorruptImageException e) { first ??= e; }
        }
        throw new CorruptImageException($"Neither the metadata file nor its mirror is readable: {first!.Message}", DisplayPath, first);
    }
}
