using System.Buffers.Binary;
using static Discemu.Formats.Qcow2.Qcow2Constants;

namespace Discemu.Formats.Qcow2;

/// <summary>Decoding helpers for QCOW2 metadata the checker walks: refcount entries, L2 entries, snapshot and bitmap directories.</summary>
internal static class Qcow2Metadata
{
    /// <summary>Size of a snapshot table entry before its variable parts.</summary>
    public const int SnapshotEntryFixedLength = 40;

    /// <summary>Largest snapshot extra data qemu accepts.</summary>
    public const int MaxSnapshotExtraData = 1024;

    /// <summary>Upper bound on the whole snapshot table (qemu's limit: 64 MiB).</summary>
    public const long MaxSnapshotTableBytes = 64L * 1024 * 1024;

    /// <summary>Size of a bitmap directory entry before its variable parts.</summary>
    public const int BitmapEntryFixedLength = 24;

    /// <summary>Upper bound on the bitmap directory (qemu's limit: 64 MiB).</summary>
    public const long MaxBitmapDirectoryBytes = 64L * 1024 * 1024;

    /// <summary>Length of the bitmaps header extension's data.</summary>
    public const int BitmapsExtensionLength = 24;

    /// <summary>Length of the full-disk-encryption header extension's data.</summary>
    public const int EncryptionExtensionLength = 16;

    /// <summary>Mask of the host offset in a bitmap table entry (bits 9-55).</summary>
    public const ulong BitmapTableOffsetMask = 0x00FFFFFFFFFFFE00UL;

    /// <summary>Reserved bits of a refcount table entry (0-8).</summary>
    public const ulong RefcountTableReservedMask = 0x1FFUL;

    /// <summary>Bytes of one compressed-data sector unit.</summary>
    public const int CompressedSectorSize = 512;

    /// <summary>Reads refcount number <paramref name="index"/> of a refcount block with 2^<paramref name="order"/>-bit entries.</summary>
    public static ulong GetRefcount(ReadOnlySpan<byte> block, long index, int order)
    {
        if ((index << order >> 3) >= block.Length) throw new ArgumentOutOfRangeException(nameof(index));
        return Qcow2Layout.GetRefcount(block, index, order);
    }

    /// <summary>Writes refcount number <paramref name="index"/>; the value must fit the width.</summary>
    public static void SetRefcount(Span<byte> block, long index, int order, ulong value)
    {
        if ((index << order >> 3) >= block.Length) throw new ArgumentOutOfRangeException(nameof(index));
        Qcow2Layout.SetRefcount(block, index, order, value);
    }

    /// <summary>Byte offset inside a refcount block of the byte(s) holding entry <paramref name="index"/>, and how many bytes.</summary>
    public static (int Offset, int Length) RefcountBytes(long index, int order)
    {
        int bits = 1 << order;
        return bits >= 8 ? ((int)(index * (bits / 8)), bits / 8) : ((int)(index * bits >> 3), 1);
    }

    /// <summary>The largest refcount a width can hold.</summary>
    public static ulong MaxRefcount(int order) => order >= 6 ? ulong.MaxValue : (1UL << (1 << order)) - 1;

    /// <summary>Host byte range of a compressed cluster descriptor: start offset and length in bytes.</summary>
    public static (long Offset, long Length) CompressedRange(ulong entry, int clusterBits)
    {
        int offsetBits = 62 - (clusterBits - 8);
        ulong offset = entry & ((1UL << offsetBits) - 1);
        ulong additional = (entry >> offsetBits) & ((1UL << (clusterBits - 8)) - 1);
        long start = (long)(offset & (ulong)MaxHostOffset);
        long length = (long)(additional + 1) * CompressedSectorSize - (start & (CompressedSectorSize - 1));
        return (start, length);
    }
}

/// <summary>One snapshot table entry as stored (the driver and the checker both parse entries with it).</summary>
/// <param name="L1Offset">The L1 table's host offset, or -1 when the stored value is beyond any host offset.</param>
/// <param name="L1Size">L1 entries.</param>
/// <param name="Id">The snapshot id.</param>
/// <param name="Name">The snapshot name.</param>
/// <param name="DiskLength">Bytes the entry occupies, padding included.</param>
/// <param name="Seconds">Creation time, seconds since the epoch.</param>
/// <param name="Nanoseconds">Creation time, nanoseconds part.</param>
/// <param name="VmClock">Guest clock at creation, nanoseconds.</param>
/// <param name="VmStateSize">VM state bytes (the 64-bit extra field when present, else the 32-bit one).</param>
/// <param name="DiskSize">Virtual disk size at creation, when the extra data holds it.</param>
/// <param name="Icount">Instruction count, or <see cref="ulong.MaxValue"/> when absent.</param>
internal readonly record struct Qcow2SnapshotEntry(long L1Offset, uint L1Size, string Id, string Name, int DiskLength,
    uint Seconds, uint Nanoseconds, ulong VmClock, ulong VmStateSize, ulong? DiskSize, ulong Icount)
{
    /// <summary>Parses the entry at the start of <paramref name="data"/> (which must hold the whole entry).</summary>
    /// <exception cref="CorruptImageException">The entry is malformed or does not fit.</exception>
    public static Qcow2SnapshotEntry Read(ReadOnlySpan<byte> data, string? path)
    {
        if (data.Length < Qcow2Metadata.SnapshotEntryFixedLength) throw new CorruptImageException("Snapshot table is truncated.", path);
        int length = DiskLengthOf(data, path);
        int idLen = BinaryPrimitives.ReadUInt16BigEndian(data[12..]);
        int nameLen = BinaryPrimitives.ReadUInt16BigEndian(data[14..]);
        int extraLen = (int)BinaryPrimitives.ReadUInt32BigEndian(data[36..]);
        int pos = Qcow2Metadata.SnapshotEntryFixedLength + extraLen;
        // The padding after the name may be missing at the end of the file.
        if (pos + idLen + nameLen > data.Length) throw new CorruptImageException("Snapshot table is truncated.", path);
        ulong l1 = BinaryPrimitives.ReadUInt64BigEndian(data);
        var extra = data.Slice(Qcow2Metadata.SnapshotEntryFixedLength, extraLen);
        string id = System.Text.Encoding.UTF8.GetString(data.Slice(pos, idLen));
        string name = System.Text.Encoding.UTF8.GetString(data.Slice(pos + idLen, nameLen));
        return new Qcow2SnapshotEntry(
            L1Offset: l1 > (ulong)MaxHostOffset ? -1 : (long)l1,
            L1Size: BinaryPrimitives.ReadUInt32BigEndian(data[8..]),
            Id: id, Name: name, DiskLength: length,
            Seconds: BinaryPrimitives.ReadUInt32BigEndian(data[16..]),
            Nanoseconds: BinaryPrimitives.ReadUInt32BigEndian(data[20..]),
            VmClock: BinaryPrimitives.ReadUInt64BigEndian(data[24..]),
            VmStateSize: extra.Length >= 8 ? BinaryPrimitives.ReadUInt64BigEndian(extra) : BinaryPrimitives.ReadUInt32BigEndian(data[32..]),
            DiskSize: extra.Length >= 16 ? BinaryPrimitives.ReadUInt64BigEndian(extra[8..]) : null,
            Icount: extra.Length >= 24 ? BinaryPrimitives.ReadUInt64BigEndian(extra[16..]) : ulong.MaxValue);
    }

    /// <summary>
    /// A new entry as qemu writes one for a disk-only snapshot: no VM state, guest clock 0, and 24 bytes of extra
    /// data (64-bit VM state size, virtual disk size, instruction count 0), padded to 8 bytes.
    /// </summary>
    public static byte[] Encode(long l1Offset, uint l1Size, string id, string name, uint seconds, uint nanoseconds, ulong diskSize)
    {
        const int ExtraLength = 24;
        var idBytes = System.Text.Encoding.UTF8.GetBytes(id);
        var nameBytes = System.Text.Encoding.UTF8.GetBytes(name);
        int length = (Qcow2Metadata.SnapshotEntryFixedLength + ExtraLength + idBytes.Length + nameBytes.Length + 7) & ~7;
        var e = new byte[length];
        BinaryPrimitives.WriteUInt64BigEndian(e, (ulong)l1Offset);
        BinaryPrimitives.WriteUInt32BigEndian(e.AsSpan(8), l1Size);
        BinaryPrimitives.WriteUInt16BigEndian(e.AsSpan(12), checked((ushort)idBytes.Length));
        BinaryPrimitives.WriteUInt16BigEndian(e.AsSpan(14), checked((ushort)nameBytes.Length));
        BinaryPrimitives.WriteUInt32BigEndian(e.AsSpan(16), seconds);
        BinaryPrimitives.WriteUInt32BigEndian(e.AsSpan(20), nanoseconds);
        BinaryPrimitives.WriteUInt32BigEndian(e.AsSpan(36), ExtraLength);
        BinaryPrimitives.WriteUInt64BigEndian(e.AsSpan(Qcow2Metadata.SnapshotEntryFixedLength + 8), diskSize);
        int pos = Qcow2Metadata.SnapshotEntryFixedLength + ExtraLength;
        idBytes.CopyTo(e, pos);
        nameBytes.CopyTo(e, pos + idBytes.Length);
        return e;
    }

    /// <summary>The on-disk length of the entry whose fixed part starts <paramref name="fixedPart"/>.</summary>
    /// <exception cref="CorruptImageException">The extra data is larger than allowed.</exception>
    public static int DiskLengthOf(ReadOnlySpan<byte> fixedPart, string? path)
    {
        int idLen = BinaryPrimitives.ReadUInt16BigEndian(fixedPart[12..]);
        int nameLen = BinaryPrimitives.ReadUInt16BigEndian(fixedPart[14..]);
        uint extra = BinaryPrimitives.ReadUInt32BigEndian(fixedPart[36..]);
        if (extra > Qcow2Metadata.MaxSnapshotExtraData) throw new CorruptImageException($"Snapshot extra data of {extra} bytes is too large.", path);
        return (Qcow2Metadata.SnapshotEntryFixedLength + (int)extra + idLen + nameLen + 7) & ~7;
    }
}

/// <summary>The part of one bitmap directory entry the checker needs.</summary>
internal readonly record struct Qcow2BitmapEntry(long TableOffset, uint TableSize, int DiskLength)
{
    /// <summary>Parses the entry at the start of <paramref name="data"/>; returns null when it does not fit.</summary>
    public static Qcow2BitmapEntry? Read(ReadOnlySpan<byte> data)
    {
        if (data.Length < Qcow2Metadata.BitmapEntryFixedLength) return null;
        ulong table = BinaryPrimitives.ReadUInt64BigEndian(data);
        uint size = BinaryPrimitives.ReadUInt32BigEndian(data[8..]);
        int nameLen = BinaryPrimitives.ReadUInt16BigEndian(data[18..]);
        uint extra = BinaryPrimitives.ReadUInt32BigEndian(data[20..]);
        long length = (Qcow2Metadata.BitmapEntryFixedLength + (long)extra + nameLen + 7) & ~7L;
        if (length > data.Length || table > (ulong)MaxHostOffset) return null;
        return new Qcow2BitmapEntry((long)table, size, (int)length);
    }
}
