using System.Buffers.Binary;
using static Discemu.FileSystems.Iso9660.IsoConstants;

namespace Discemu.FileSystems.Iso9660;

/// <summary>One System Use entry (SUSP 1.12, 4.1): a two-letter signature, a version and its data.</summary>
internal readonly record struct SuspEntry(string Signature, byte Version, byte[] Data);

/// <summary>
/// Reads the System Use Sharing Protocol entries of a directory record (SUSP 1.12): the record's System
/// Use area after the SP entry's skip length, then the continuation areas CE entries point to. Stops at
/// ST, at padding, or at a malformed entry (as Linux does); a continuation chain longer than
/// <see cref="MaxContinuationAreas"/> areas or <see cref="MaxSystemUseBytes"/> bytes, or a continuation
/// area outside the device, is a <see cref="CorruptImageException"/>.
/// </summary>
internal static class Susp
{
    /// <summary>A reader of continuation areas: (byte offset on the device, length) to bytes.</summary>
    public delegate byte[] AreaReader(long offset, int length);

    /// <summary>The SP entry's check bytes (SUSP 5.3).</summary>
    public const ushort SpCheck = 0xBEEF;

    /// <summary>Returns the skip length an SP entry at the start of <paramref name="systemUse"/> announces, or null when there is no SP entry.</summary>
    public static int? ReadSp(ReadOnlySpan<byte> systemUse)
    {
        if (systemUse.Length < 7 || systemUse[0] != 'S' || systemUse[1] != 'P' || systemUse[2] < 7) return null;
        if (BinaryPrimitives.ReadUInt16BigEndian(systemUse[4..]) != SpCheck) return null;
        return systemUse[6];
    }

    /// <summary>
    /// Every entry of the record's System Use area and its continuation areas, in order.
    /// </summary>
    /// <param name="systemUse">The record's System Use area.</param>
    /// <param name="skip">Bytes to skip at the start of the record's area (the SP entry's LEN_SKP).</param>
    /// <param name="blockSize">The logical block size (CE locations are in blocks).</param>
    /// <param name="deviceLength">The device's length, to bound continuation areas.</param>
    /// <param name="read">Reads a continuation area.</param>
    /// <param name="path">For error messages.</param>
    /// <exception cref="CorruptImageException">The continuation chain is too long or leaves the device.</exception>
    public static List<SuspEntry> ReadAll(ReadOnlySpan<byte> systemUse, int skip, int blockSize, long deviceLength, AreaReader? read, string? path)
    {
        var entries = new List<SuspEntry>();
        int areas = 0;
        long total = systemUse.Length;
        var area = skip < systemUse.Length ? systemUse[skip..] : [];
        while (true)
        {
            var next = ParseArea(area, entries, out bool stop);
            if (stop || next is null || read is null) break;
            var (block, offset, length) = next.Value;
            if (++areas > MaxContinuationAreas) throw new CorruptImageException($"A System Use continuation chain is longer than {MaxContinuationAreas} areas.", path);
            if (length == 0) break;
            if (length > MaxContinuationBytes) throw new CorruptImageException($"A System Use continuation area is {length} bytes (at most {MaxContinuationBytes}).", path);
            long start = checked((long)block * blockSize + offset);
            if (start + length > deviceLength)
                throw new CorruptImageException($"A System Use continuation area (block {block}, offset {offset}, {length} bytes) is outside the image.", path);
            total += length;
            if (total > MaxSystemUseBytes) throw new CorruptImageException($"A directory record's System Use data exceeds {MaxSystemUseBytes} bytes.", path);
            area = read(start, (int)length);
        }
        return entries;
    }

    /// <summary>Adds the entries of one area to <paramref name="entries"/>; returns the last CE entry's target.</summary>
    private static (uint Block, uint Offset, uint Length)? ParseArea(ReadOnlySpan<byte> area, List<SuspEntry> entries, out bool stop)
    {
        stop = false;
        (uint, uint, uint)? ce = null;
        int pos = 0;
        while (pos + 4 <= area.Length)
        {
            byte s0 = area[pos], s1 = area[pos + 1];
            int len = area[pos + 2];
            if (s0 == 0 || len < 4 || pos + len > area.Length) break; // padding or a malformed entry ends the area
            var data = area.Slice(pos + 4, len - 4);
            string sig = string.Create(2, (s0, s1), static (span, t) => { span[0] = (char)t.s0; span[1] = (char)t.s1; });
            if (sig == "ST") { stop = true; break; }
            if (sig == "CE")
            {
                if (data.Length >= 24)
                    ce = (BinaryPrimitives.ReadUInt32LittleEndian(data), BinaryPrimitives.ReadUInt32LittleEndian(data[8..]), BinaryPrimitives.ReadUInt32LittleEndian(data[16..]));
            }
            else if (sig != "PD") entries.Add(new SuspEntry(sig, area[pos + 3], data.ToArray()));
            pos += len;
        }
        return ce;
    }
}
