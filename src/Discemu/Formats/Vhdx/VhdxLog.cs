using System.Buffers.Binary;
using static Discemu.Formats.Vhdx.VhdxConstants;

namespace Discemu.Formats.Vhdx;

/// <summary>One update a log entry describes: a 4 KiB page to write, or a range to zero.</summary>
internal readonly record struct VhdxLogWrite(long FileOffset, byte[]? Data, long ZeroLength)
{
    public long Length => Data?.Length ?? ZeroLength;
}

/// <summary>A validated log entry (MS-VHDX 2.3.1) and the updates it carries.</summary>
internal sealed record VhdxLogEntry(long Position, long Length, uint Tail, ulong Sequence, long FlushedFileOffset, long LastFileOffset, List<VhdxLogWrite> Writes);

/// <summary>
/// The VHDX log: validating entries (header, descriptors, data sectors, sequence numbers, CRC-32C),
/// finding the active sequence with the procedure of MS-VHDX 2.3.3, and building entries.
/// </summary>
internal static class VhdxLog
{
    /// <summary>Highest file offset a log entry may write (far past any valid image).</summary>
    private const long MaxTarget = 1L << 50;

    /// <summary>
    /// Finds the active sequence in <paramref name="log"/> (the whole log region): the newest valid and
    /// complete sequence of entries carrying <paramref name="logGuid"/>, from its tail entry to its head.
    /// Returns an empty list when there is none.
    /// </summary>
    public static List<VhdxLogEntry> FindActiveSequence(ReadOnlySpan<byte> log, Guid logGuid)
    {
        long length = log.Length - log.Length % LogSectorSize;
        List<VhdxLogEntry> candidate = [];
        ulong candidateSequence = 0;
        long currentTail = 0, oldTail = 0;
        for (long steps = 0; steps <= length / LogSectorSize + 1; steps++)
        {
            var current = new List<VhdxLogEntry>();
            long pos = currentTail, used = 0;
            while (used < length && TryParseEntry(log[..(int)length], pos, logGuid, out var entry))
            {
                if (current.Count > 0 && entry.Sequence != current[^1].Sequence + 1) break;
                if (used + entry.Length > length) break;
                current.Add(entry);
                used += entry.Length;
                pos = (pos + entry.Length) % length;
            }
            int tailIndex = current.Count == 0 ? -1 : current.FindIndex(e => e.Position == current[^1].Tail);
            bool valid = tailIndex >= 0;
            if (valid && current[^1].Sequence > candidateSequence)
            {
                candidate = current.GetRange(tailIndex, current.Count - tailIndex);
                candidateSequence = current[^1].Sequence;
            }
            long next = valid ? currentTail + used : currentTail + LogSectorSize;
            if (next >= length) next -= length;
            currentTail = next;
            if (currentTail <= oldTail) break;
            oldTail = currentTail;
        }
        return candidate;
    }

    /// <summary>Validates the entry at <paramref name="position"/> of the log (which may wrap around its end).</summary>
    public static bool TryParseEntry(ReadOnlySpan<byte> log, long position, Guid logGuid, out VhdxLogEntry entry)
    {
        entry = null!;
        long length = log.Length;
        if (length < LogSectorSize || position % LogSectorSize != 0 || position >= length) return false;
        var header = log.Slice((int)position, LogSectorSize);
        if (BinaryPrimitives.ReadUInt32LittleEndian(header) != LogEntrySignature) return false;
        uint entryLength = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
        uint tail = BinaryPrimitives.ReadUInt32LittleEndian(header[12..]);
        ulong sequence = BinaryPrimitives.ReadUInt64LittleEndian(header[16..]);
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(header[24..]);
        if (entryLength < LogSectorSize || entryLength % LogSectorSize != 0 || entryLength > length) return false;
        if (tail % LogSectorSize != 0 || tail >= length || sequence == 0) return false;
        if (new Guid(header.Slice(32, 16)) != logGuid) return false;
        ulong flushed = BinaryPrimitives.ReadUInt64LittleEndian(header[48..]);
        ulong last = BinaryPrimitives.ReadUInt64LittleEndian(header[56..]);
        if (flushed % MiB != 0 || last % MiB != 0 || flushed > MaxTarget || last > MaxTarget) return false;
        long descriptorSectors = DescriptorSectors(count);
        if (descriptorSectors * LogSectorSize > entryLength) return false;

        // Descriptors: every one carries the entry's sequence number; data descriptors pair with data sectors in order.
        var writes = new List<VhdxLogWrite>();
        long dataSector = descriptorSectors;
        for (long i = 0; i < count; i++)
        {
            long sector = i < DescriptorsInFirstSector ? 0 : 1 + (i - DescriptorsInFirstSector) / DescriptorsPerSector;
            int slot = (int)(i < DescriptorsInFirstSector ? LogEntryHeaderSize + i * LogDescriptorSize : (i - DescriptorsInFirstSector) % DescriptorsPerSector * LogDescriptorSize);
            var d = Sector(log, position, sector).Slice(slot, LogDescriptorSize);
            uint signature = BinaryPrimitives.ReadUInt32LittleEndian(d);
            if (BinaryPrimitives.ReadUInt64LittleEndian(d[24..]) != sequence) return false;
            ulong target = BinaryPrimitives.ReadUInt64LittleEndian(d[16..]);
            if (target % LogSectorSize != 0 || target < RegionTable1Offset || target > MaxTarget) return false;
            if (signature == ZeroDescriptorSignature)
            {
                ulong zeroLength = BinaryPrimitives.ReadUInt64LittleEndian(d[8..]);
                if (zeroLength % LogSectorSize != 0 || zeroLength > MaxTarget - target) return false;
                writes.Add(new VhdxLogWrite((long)target, null, (long)zeroLength));
            }
            else if (signature == DataDescriptorSignature)
            {
                if ((dataSector + 1) * LogSectorSize > entryLength) return false;
                var s = Sector(log, position, dataSector++);
                if (BinaryPrimitives.ReadUInt32LittleEndian(s) != DataSectorSignature
                    || BinaryPrimitives.ReadUInt32LittleEndian(s[4..]) != (uint)(sequence >> 32)
                    || BinaryPrimitives.ReadUInt32LittleEndian(s[4092..]) != (uint)sequence) return false;
                var page = new byte[LogSectorSize];
                s.Slice(8, 4084).CopyTo(page.AsSpan(8));
                d.Slice(8, 8).CopyTo(page);
                d.Slice(4, 4).CopyTo(page.AsSpan(4092));
                writes.Add(new VhdxLogWrite((long)target, page, 0));
            }
            else return false;
        }

        // The checksum covers the whole entry with its checksum field taken as zero.
        uint crc = VhdxCrc32C.Seed;
        for (long s = 0; s < entryLength / LogSectorSize; s++)
        {
            var sector = Sector(log, position, s);
            if (s == 0)
            {
                crc = VhdxCrc32C.Append(crc, sector[..4]);
                crc = VhdxCrc32C.AppendZeros(crc, 4);
                crc = VhdxCrc32C.Append(crc, sector[8..]);
            }
            else crc = VhdxCrc32C.Append(crc, sector);
        }
        if (VhdxCrc32C.Finish(crc) != BinaryPrimitives.ReadUInt32LittleEndian(header[4..])) return false;
        entry = new VhdxLogEntry(position, entryLength, tail, sequence, (long)flushed, (long)last, writes);
        return true;
    }

    private static ReadOnlySpan<byte> Sector(ReadOnlySpan<byte> log, long entryPosition, long index)
        => log.Slice((int)((entryPosition + index * LogSectorSize) % log.Length), LogSectorSize);

    /// <summary>Descriptor sectors an entry with <paramref name="descriptors"/> descriptors has.</summary>
    public static long DescriptorSectors(long descriptors)
        => descriptors <= DescriptorsInFirstSector ? 1 : 1 + CeilDiv(descriptors - DescriptorsInFirstSector, DescriptorsPerSector);

    /// <summary>How many 4 KiB pages one entry can carry in a log of <paramref name="logLength"/> bytes (one sector stays free).</summary>
    public static int Capacity(long logLength)
    {
        long sectors = logLength / LogSectorSize - 1;
        long n = Math.Max(0, sectors - 1);
        while (n > 0 && DescriptorSectors(n) + n > sectors) n--;
        return (int)Math.Min(n, 1 << 16);
    }

    /// <summary>
    /// Builds a log entry that writes <paramref name="pages"/> (4 KiB each, at 4 KiB-aligned file offsets).
    /// </summary>
    public static byte[] BuildEntry(Guid logGuid, ulong sequence, uint tail, IReadOnlyList<(long Offset, byte[] Page)> pages, long flushedFileOffset, long lastFileOffset)
    {
        int n = pages.Count;
        long descriptorSectors = DescriptorSectors(n);
        var entry = new byte[(descriptorSectors + n) * LogSectorSize];
        var header = entry.AsSpan(0, LogEntryHeaderSize);
        BinaryPrimitives.WriteUInt32LittleEndian(header, LogEntrySignature);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], (uint)entry.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], tail);
        BinaryPrimitives.WriteUInt64LittleEndian(header[16..], sequence);
        BinaryPrimitives.WriteUInt32LittleEndian(header[24..], (uint)n);
        logGuid.TryWriteBytes(header.Slice(32, 16));
        BinaryPrimitives.WriteUInt64LittleEndian(header[48..], (ulong)flushedFileOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(header[56..], (ulong)lastFileOffset);
        for (int i = 0; i < n; i++)
        {
            var (offset, page) = pages[i];
            long sector = i < DescriptorsInFirstSector ? 0 : 1 + (i - DescriptorsInFirstSector) / DescriptorsPerSector;
            long slot = i < DescriptorsInFirstSector ? LogEntryHeaderSize + (long)i * LogDescriptorSize : (i - DescriptorsInFirstSector) % DescriptorsPerSector * LogDescriptorSize;
            var d = entry.AsSpan((int)(sector * LogSectorSize + slot), LogDescriptorSize);
            BinaryPrimitives.WriteUInt32LittleEndian(d, DataDescriptorSignature);
            page.AsSpan(4092, 4).CopyTo(d[4..]);
            page.AsSpan(0, 8).CopyTo(d[8..]);
            BinaryPrimitives.WriteUInt64LittleEndian(d[16..], (ulong)offset);
            BinaryPrimitives.WriteUInt64LittleEndian(d[24..], sequence);
            var s = entry.AsSpan((int)((descriptorSectors + i) * LogSectorSize), LogSectorSize);
            BinaryPrimitives.WriteUInt32LittleEndian(s, DataSectorSignature);
            BinaryPrimitives.WriteUInt32LittleEndian(s[4..], (uint)(sequence >> 32));
            page.AsSpan(8, 4084).CopyTo(s[8..]);
            BinaryPrimitives.WriteUInt32LittleEndian(s[4092..], (uint)sequence);
        }
        BinaryPrimitives.WriteUInt32LittleEndian(entry.AsSpan(4), VhdxCrc32C.ComputeWithZeroField(entry, 4));
        return entry;
    }
}
