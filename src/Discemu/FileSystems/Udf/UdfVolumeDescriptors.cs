using System.Buffers.Binary;
using Discemu.Block;
using static Discemu.FileSystems.Udf.UdfConstants;

namespace Discemu.FileSystems.Udf;

/// <summary>A primary volume descriptor (ECMA-167 3/10.1): the fields Discemu shows.</summary>
internal sealed record UdfPrimaryVolume(uint Sequence, string VolumeId, string VolumeSetId, DateTimeOffset? Recorded, string ApplicationId, string ImplementationId)
{
    public static UdfPrimaryVolume Read(ReadOnlySpan<byte> d) => new(
        BinaryPrimitives.ReadUInt32LittleEndian(d[16..]),
        UdfText.DString(d.Slice(24, 32)),
        UdfText.DString(d.Slice(72, 128)),
        UdfTimestamp.Read(d.Slice(376, UdfTimestamp.Size)),
        UdfText.RegidText(d.Slice(344, 32)),
        UdfText.RegidText(d.Slice(388, 32)));
}

/// <summary>A partition descriptor (ECMA-167 3/10.5): number, where it starts and how long it is, in sectors.</summary>
internal sealed record UdfPartitionDescriptor(uint Sequence, ushort Number, string Contents, uint AccessType, uint Start, uint Length)
{
    public static UdfPartitionDescriptor Read(ReadOnlySpan<byte> d) => new(
        BinaryPrimitives.ReadUInt32LittleEndian(d[16..]),
        BinaryPrimitives.ReadUInt16LittleEndian(d[22..]),
        UdfText.RegidText(d.Slice(24, 32)),
        BinaryPrimitives.ReadUInt32LittleEndian(d[184..]),
        BinaryPrimitives.ReadUInt32LittleEndian(d[188..]),
        BinaryPrimitives.ReadUInt32LittleEndian(d[192..]));

    /// <summary>The access type as a word (ECMA-167 3/10.5.7).</summary>
    public string AccessName => AccessType switch
    {
        1 => "read-only",
        2 => "write-once",
        3 => "rewritable",
        4 => "overwritable",
        _ => "unspecified",
    };
}

/// <summary>A logical volume descriptor (ECMA-167 3/10.6) with its partition maps kept raw.</summary>
internal sealed record UdfLogicalVolume(uint Sequence, string Identifier, uint BlockSize, string Domain, ushort Revision,
    UdfLongAd FileSetLocation, byte[][] Maps, string ImplementationId, ExtentAd IntegrityExtent)
{
    private const int MapTableOffset = 440;

    /// <summary>Reads the descriptor from <paramref name="d"/> (a whole sector).</summary>
    /// <exception cref="CorruptImageException">The partition map table does not fit.</exception>
    public static UdfLogicalVolume Read(ReadOnlySpan<byte> d, string? path)
    {
        uint tableLength = BinaryPrimitives.ReadUInt32LittleEndian(d[264..]);
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(d[268..]);
        if (tableLength > d.Length - MapTableOffset || count > MaxPartitionMaps)
            throw new CorruptImageException($"The logical volume descriptor's partition map table ({count} maps, {tableLength} bytes) does not fit.", path);
        var maps = new byte[count][];
        int pos = MapTableOffset, end = MapTableOffset + (int)tableLength;
        for (int i = 0; i < count; i++)
        {
            if (pos + 2 > end) throw new CorruptImageException($"Partition map {i} lies outside the map table.", path);
            int length = d[pos + 1];
            if (length < 2 || pos + length > end) throw new CorruptImageException($"Partition map {i} has a bad length ({length}).", path);
            maps[i] = d.Slice(pos, length).ToArray();
            pos += length;
        }
        var domain = d.Slice(216, 32);
        return new UdfLogicalVolume(
            BinaryPrimitives.ReadUInt32LittleEndian(d[16..]),
            UdfText.DString(d.Slice(84, 128)),
            BinaryPrimitives.ReadUInt32LittleEndian(d[212..]),
            UdfText.RegidText(domain),
            BinaryPrimitives.ReadUInt16LittleEndian(domain[24..]),
            UdfLongAd.Read(d[248..]),
            maps,
            UdfText.RegidText(d.Slice(272, 32)),
            ExtentAd.Read(d[432..]));
    }
}

/// <summary>The volume descriptors Discemu uses, from the prevailing copies of one volume descriptor sequence.</summary>
internal sealed record UdfVolumeDescriptors(UdfPrimaryVolume Primary, UdfLogicalVolume Logical, IReadOnlyList<UdfPartitionDescriptor> Partitions,
    bool HasUnallocatedSpace, bool HasImplementationUse, string Sequence);

/// <summary>Finds the anchor (ECMA-167 3/8.4.2) and reads the volume descriptor sequence (3/8.4.3).</summary>
internal static class UdfVolumeReader
{
    private static readonly int[] SectorSizes = [2048, 512, 4096, 1024];

    /// <summary>The sector size and anchor sector: 256, then N-256, then N-1, for each sector size.</summary>
    public static (int SectorSize, uint Sector, byte[] Anchor)? FindAnchor(BlockDevice device)
    {
        foreach (int size in SectorSizes)
        {
            long sectors = device.Length / size;
            if (sectors <= AnchorSector) continue;
            foreach (long s in new[] { AnchorSector, sectors - 256, sectors - 1 })
            {
                if (s < AnchorSector || s > uint.MaxValue) continue;
                var block = new byte[size];
                device.Read(s * size, block);
                if (UdfTag.TryRead(block, (uint)s, out var tag) && tag.Identifier == TagAnchor) return (size, (uint)s, block);
            }
        }
        return null;
    }

    /// <summary>Reads the main sequence, or the reserve one when the main one lacks a needed descriptor.</summary>
    /// <exception cref="CorruptImageException">Neither sequence holds a primary volume, logical volume and partition descriptor.</exception>
    public static UdfVolumeDescriptors Read(BlockDevice device, int sectorSize, ReadOnlySpan<byte> anchor, string? path)
    {
        var main = ExtentAd.Read(anchor[16..]);
        var reserve = ExtentAd.Read(anchor[24..]);
        string? mainError;
        try
        {
            var found = ReadSequence(device, sectorSize, main, "main", path, out mainError);
            if (found is not null) return found;
        }
        catch (CorruptImageException e) { mainError = e.Message; }
        var backup = ReadSequence(device, sectorSize, reserve, "reserve", path, out var reserveError);
        return backup ?? throw new CorruptImageException($"No usable volume descriptor sequence: main: {mainError} reserve: {reserveError}", path);
    }

    private static UdfVolumeDescriptors? ReadSequence(BlockDevice device, int sectorSize, ExtentAd extent, string name, string? path, out string? error)
    {
        UdfPrimaryVolume? primary = null;
        UdfLogicalVolume? logical = null;
        var partitions = new Dictionary<ushort, UdfPartitionDescriptor>();
        bool unallocated = false, implementation = false;
        var block = new byte[sectorSize];
        int seen = 0, hops = 0;
        var visited = new HashSet<uint>();
        error = null;
        while (true)
        {
            long sectors = extent.Length / sectorSize;
            bool next = false;
            for (long i = 0; i < sectors; i++)
            {
                long s = extent.Location + i;
                if (++seen > MaxVdsDescriptors) throw new CorruptImageException($"The {name} volume descriptor sequence is longer than {MaxVdsDescriptors} descriptors.", path);
                if ((s + 1) * sectorSize > device.Length) { error = $"the sequence runs past the end of the image at sector {s}."; return null; }
                device.Read(s * sectorSize, block);
                if (!UdfTag.TryRead(block, (uint)s, out var tag)) break; // an unrecorded or damaged sector ends the sequence
                switch (tag.Identifier)
                {
                    case TagPrimaryVolume:
                        var pvd = UdfPrimaryVolume.Read(block);
                        if (primary is null || pvd.Sequence >= primary.Sequence) primary = pvd;
                        break;
                    case TagLogicalVolume:
                        var lvd = UdfLogicalVolume.Read(block, path);
                        if (logical is null || lvd.Sequence >= logical.Sequence) logical = lvd;
                        break;
                    case TagPartition:
                        var pd = UdfPartitionDescriptor.Read(block);
                        if (!partitions.TryGetValue(pd.Number, out var old) || pd.Sequence >= old.Sequence) partitions[pd.Number] = pd;
                        break;
                    case TagUnallocatedSpace: unallocated = true; break;
                    case TagImplementationUse: implementation = true; break;
                    case TagVolumePointer:
                        var ptr = ExtentAd.Read(block.AsSpan(20));
                        if (++hops > MaxPointerHops || !visited.Add(ptr.Location))
                            throw new CorruptImageException($"The {name} volume descriptor sequence's pointers loop.", path);
                        extent = ptr;
                        next = true;
                        break;
                    case TagTerminating: goto done;
                }
                if (next) break;
            }
            if (!next) break;
        }
    done:
        if (primary is null) error = "no primary volume descriptor.";
        else if (logical is null) error = "no logical volume descriptor.";
        else if (partitions.Count == 0) error = "no partition descriptor.";
        if (error is not null) return null;
        return new UdfVolumeDescriptors(primary!, logical!, partitions.Values.OrderBy(p => p.Number).ToList(), unallocated, implementation, name);
    }
}
