using System.Buffers.Binary;
using System.Text;

namespace Discemu.Formats.Dmg;

/// <summary>
/// Reads a legacy (classic Mac OS) resource fork, which older UDIF images carry instead of (or besides) the
/// XML property list: a 16-byte header locating the resource data and the resource map; the map's type
/// list names each type ("blkx", "plst"...) with its reference list; each reference gives the resource id,
/// name and the offset of its length-prefixed data. Every offset is checked against the fork.
/// </summary>
internal static class DmgResourceFork
{
    private const int HeaderSize = 16;
    private const int MapHeaderSize = 28;

    /// <summary>Parses the fork and returns every resource.</summary>
    /// <exception cref="CorruptImageException">An offset or count points outside the fork.</exception>
    public static IReadOnlyList<DmgResource> Read(ReadOnlySpan<byte> fork, string? path)
    {
        if (fork.Length < HeaderSize) throw new CorruptImageException("The resource fork is shorter than its header.", path);
        long dataOffset = BinaryPrimitives.ReadUInt32BigEndian(fork);
        long mapOffset = BinaryPrimitives.ReadUInt32BigEndian(fork[4..]);
        long dataLength = BinaryPrimitives.ReadUInt32BigEndian(fork[8..]);
        long mapLength = BinaryPrimitives.ReadUInt32BigEndian(fork[12..]);
        var data = Slice(fork, dataOffset, dataLength, "resource data", path);
        var map = Slice(fork, mapOffset, mapLength, "resource map", path);
        if (map.Length < MapHeaderSize) throw new CorruptImageException("The resource map is shorter than its header.", path);
        int typeListOffset = BinaryPrimitives.ReadUInt16BigEndian(map[24..]);
        int nameListOffset = BinaryPrimitives.ReadUInt16BigEndian(map[26..]);
        if (typeListOffset + 2 > map.Length) throw new CorruptImageException("The resource type list is outside the map.", path);
        var typeList = map[typeListOffset..];
        int typeCount = (BinaryPrimitives.ReadUInt16BigEndian(typeList) + 1) & 0xFFFF; // stored minus one; 0xFFFF means none
        var resources = new List<DmgResource>();
        for (int t = 0; t < typeCount; t++)
        {
            int at = 2 + t * 8;
            if (at + 8 > typeList.Length) throw new CorruptImageException($"Resource type {t} is outside the map.", path);
            string type = Encoding.Latin1.GetString(typeList.Slice(at, 4));
            int count = BinaryPrimitives.ReadUInt16BigEndian(typeList[(at + 4)..]) + 1;
            int refOffset = BinaryPrimitives.ReadUInt16BigEndian(typeList[(at + 6)..]);
            for (int i = 0; i < count; i++)
            {
                long r = refOffset + (long)i * 12;
                if (r + 12 > typeList.Length) throw new CorruptImageException($"Reference {i} of resource type '{type}' is outside the map.", path);
                var reference = typeList.Slice((int)r, 12);
                short id = BinaryPrimitives.ReadInt16BigEndian(reference);
                int nameOffset = BinaryPrimitives.ReadUInt16BigEndian(reference[2..]);
                int attributes = reference[4];
                long itemOffset = (reference[5] << 16) | (reference[6] << 8) | reference[7];
                if (itemOffset + 4 > data.Length) throw new CorruptImageException($"Resource '{type}' {id} has data outside the fork.", path);
                long itemLength = BinaryPrimitives.ReadUInt32BigEndian(data[(int)itemOffset..]);
                var item = Slice(data, itemOffset + 4, itemLength, $"resource '{type}' {id}", path);
                string name = nameOffset == 0xFFFF ? "" : ReadName(map, nameListOffset, nameOffset, path);
                resources.Add(new DmgResource(type, id, name, attributes, item.ToArray()));
            }
        }
        return resources;
    }

    private static string ReadName(ReadOnlySpan<byte> map, int listOffset, int nameOffset, string? path)
    {
        long at = (long)listOffset + nameOffset;
        if (at >= map.Length) throw new CorruptImageException("A resource name is outside the map.", path);
        int length = map[(int)at];
        if (at + 1 + length > map.Length) throw new CorruptImageException("A resource name runs past the map.", path);
        return Encoding.Latin1.GetString(map.Slice((int)at + 1, length));
    }

    private static ReadOnlySpan<byte> Slice(ReadOnlySpan<byte> span, long offset, long length, string what, string? path)
    {
        if (offset < 0 || length < 0 || offset > span.Length || length > span.Length - offset)
            throw new CorruptImageException($"The {what} ({length} bytes at {offset}) lies outside the resource fork ({span.Length} bytes).", path);
        return span.Slice((int)offset, (int)length);
    }
}
