using System.Buffers.Binary;
using static Discemu.Formats.Vmdk.VmdkConstants;

namespace Discemu.Formats.Vmdk;

/// <summary>
/// A stream-optimized marker (Virtual Disk Format 5.0 §"Stream-Optimized Compressed Sparse Extents"):
/// a grain marker (<see cref="Value"/> = the grain's first guest sector, <see cref="Size"/> = compressed
/// bytes that follow the 12-byte head) or a metadata marker sector (<see cref="Size"/> = 0,
/// <see cref="Value"/> = sectors of metadata that follow, <see cref="Type"/> = what they are).
/// </summary>
internal readonly record struct VmdkMarker(ulong Value, uint Size, uint Type)
{
    /// <summary>True for a grain marker (compressed data follows the head).</summary>
    public bool IsGrain => Size != 0;

    /// <summary>Reads a marker from at least 16 bytes (the type is read only when <see cref="Size"/> is 0).</summary>
    /// <exception cref="CorruptImageException">Fewer than 16 bytes were given.</exception>
    public static VmdkMarker Read(ReadOnlySpan<byte> data, string? path)
    {
        if (data.Length < 16) throw new CorruptImageException("A VMDK marker is truncated.", path);
        ulong value = BinaryPrimitives.ReadUInt64LittleEndian(data);
        uint size = BinaryPrimitives.ReadUInt32LittleEndian(data[8..]);
        uint type = size == 0 ? BinaryPrimitives.ReadUInt32LittleEndian(data[12..]) : 0;
        return new VmdkMarker(value, size, type);
    }

    /// <summary>Writes a metadata marker: a whole zero-padded sector.</summary>
    public static void WriteMetadata(Span<byte> sector, ulong sectors, uint type)
    {
        var s = sector[..Sector];
        s.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(s, sectors);
        BinaryPrimitives.WriteUInt32LittleEndian(s[12..], type);
    }

    /// <summary>Writes a grain marker's 12-byte head.</summary>
    public static void WriteGrainHead(Span<byte> dest, ulong lba, uint compressedSize)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(dest, lba);
        BinaryPrimitives.WriteUInt32LittleEndian(dest[8..], compressedSize);
    }

    /// <summary>The sectors a compressed grain of <paramref name="compressedSize"/> bytes occupies with its head.</summary>
    public static long GrainSectors(long compressedSize) => (GrainMarkerHeader + compressedSize + Sector - 1) / Sector;
}
