using System.Buffers.Binary;
using Discemu.Block;
using static Discemu.Formats.Ewf.EwfConstants;

namespace Discemu.Formats.Ewf;

internal sealed partial class EwfSetParser
{
    /// <summary>Largest stored size accepted for one chunk: a zlib stream may be a little larger than its data.</summary>
    private int MaxStored => (int)Math.Min(EwfChunkMap.MaxStoredSize, (long)_set.ChunkSize * 2 + 1024);

    /// <summary>
    /// Reads a table (or table2) section and appends its chunks. Offsets are relative to the base offset
    /// of the header (EnCase 6 and later) or absolute (base 0); the most significant bit marks compressed
    /// chunks. Each chunk ends where the next one starts; the last ends with the sectors section that
    /// holds it (or, in SMART and EnCase 1 files, with the table section itself).
    /// </summary>
    private bool TryParseTable(int number, BlockDevice file, string path, EwfSection s, out string why)
    {
        why = "";
        if (s.DataSize < TableHeaderSize) { why = "too small for a table header"; return false; }
        Span<byte> header = stackalloc byte[TableHeaderSize];
        file.Read(s.DataOffset, header);
        if (!Adler32.Matches(header[..20], header[20..])) { why = "bad table header checksum"; return false; }
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(header);
        ulong baseOffset = BinaryPrimitives.ReadUInt64LittleEndian(header[8..]);
        long fileLength = file.Length;
        if (count > MaxTableEntriesRead || (ulong)count * 4 > (ulong)(s.DataSize - TableHeaderSize)) { why = $"{count} entries do not fit in the section"; return false; }
        if (baseOffset > (ulong)fileLength) { why = "base offset past the end of the file"; return false; }
        var raw = new byte[count * 4];
        file.Read(s.DataOffset + TableHeaderSize, raw);
        long entriesEnd = s.DataOffset + TableHeaderSize + raw.LongLength;
        var offsets = new long[count];
        var compressed = new bool[count];
        bool overflow = false;
        uint previous31 = 0;
        for (int i = 0; i < count; i++)
        {
            uint value = BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(i * 4));
            uint low = value & ~CompressedFlag;
            // EnCase 6.7.1 let offsets run into the 32nd bit past 2 GiB; such chunks are uncompressed.
            if (!overflow && i > 0 && low < previous31 && value >= previous31) overflow = true;
            offsets[i] = (long)baseOffset + (overflow ? value : low);
            compressed[i] = !overflow && (value & CompressedFlag) != 0;
            previous31 = low;
        }
        bool chunksInTable = count > 0 && offsets[0] >= entriesEnd && offsets[0] < s.Next;
        if (!chunksInTable && count > 0 && s.DataSize >= TableHeaderSize + raw.LongLength + 4)
        {
            Span<byte> footer = stackalloc byte[4];
            file.Read(entriesEnd, footer);
            if (!Adler32.Matches(raw, footer)) { why = "bad table entries checksum"; return false; }
        }
        long regionEnd = count == 0 ? 0
            : offsets[0] >= _lastSectorsStart && offsets[0] < _lastSectorsEnd ? _lastSectorsEnd
            : chunksInTable ? s.Next
            : fileLength;
        int maxStored = MaxStored;
        var sizes = new int[count];
        for (int i = 0; i < count; i++)
        {
            long end = i + 1 < count ? offsets[i + 1] : Math.Min(regionEnd, offsets[i] + maxStored);
            if (offsets[i] >= regionEnd || end <= offsets[i] || end > regionEnd) { why = $"entry {i} points outside its chunk data"; return false; }
            if (end - offsets[i] > maxStored) { why = $"entry {i} spans {end - offsets[i]} bytes, more than a chunk"; return false; }
            sizes[i] = (int)(end - offsets[i]);
        }
        for (int i = 0; i < count; i++)
        {
            _set.Chunks.Add(number - 1, offsets[i], sizes[i], compressed[i] ? EwfChunkKind.Compressed : EwfChunkKind.Raw);
            if (compressed[i]) _set.AnyCompressedChunk = true;
        }
        return true;
    }

    private void ParseError2(BlockDevice file, string path, EwfSection s)
    {
        var data = ReadData(file, s, MaxErrorSection, path);
        if (data.Length < Error2HeaderSize) { _set.Problems.Add($"The error2 section at offset {s.Offset} is truncated."); return; }
        if (!Adler32.Matches(data.AsSpan(0, 516), data.AsSpan(516))) { _set.Problems.Add($"The error2 section at offset {s.Offset} has a bad header checksum."); return; }
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(data);
        long need = Error2HeaderSize + (long)count * 8;
        if (need > data.Length) { _set.Problems.Add($"The error2 section at offset {s.Offset} lists more entries than it holds."); return; }
        var entries = data.AsSpan(Error2HeaderSize, (int)count * 8);
        if (need + 4 <= data.Length && !Adler32.Matches(entries, data.AsSpan((int)need)))
            _set.Problems.Add($"The error2 section at offset {s.Offset} has a bad entries checksum.");
        for (int i = 0; i < count; i++)
            _set.Errors.Add(new EwfErrorRange(BinaryPrimitives.ReadUInt32LittleEndian(entries[(i * 8)..]), BinaryPrimitives.ReadUInt32LittleEndian(entries[(i * 8 + 4)..])));
    }

    private void ParseHash(BlockDevice file, string path, EwfSection s)
    {
        var data = ReadData(file, s, 1 << 20, path);
        if (data.Length < HashSize || !Adler32.Matches(data.AsSpan(0, 32), data.AsSpan(32)))
        {
            _set.Problems.Add($"The hash section at offset {s.Offset} is damaged.");
            return;
        }
        SetMd5(data.AsSpan(0, 16).ToArray(), path);
    }

    private void ParseDigest(BlockDevice file, string path, EwfSection s)
    {
        var data = ReadData(file, s, 1 << 20, path);
        if (data.Length < DigestSize || !Adler32.Matches(data.AsSpan(0, 76), data.AsSpan(76)))
        {
            _set.Problems.Add($"The digest section at offset {s.Offset} is damaged.");
            return;
        }
        SetMd5(data.AsSpan(0, 16).ToArray(), path);
        SetSha1(data.AsSpan(16, 20).ToArray(), path);
    }

    private void ParseXHash(BlockDevice file, string path, EwfSection s)
    {
        var text = EwfHeaderText.Decode(Inflate(ReadData(file, s, MaxHeaderText, path), path, s.Type));
        var values = EwfHeaderText.ParseXml(text);
        if (values.TryGetValue("MD5", out var md5) && TryHex(md5, 16) is { } m) SetMd5(m, path);
        if (values.TryGetValue("SHA1", out var sha1) && TryHex(sha1, 20) is { } h) SetSha1(h, path);
    }

    private static byte[]? TryHex(string hex, int length)
    {
        try
        {
            var bytes = Convert.FromHexString(hex.Trim());
            return bytes.Length == length ? bytes : null;
        }
        catch (FormatException) { return null; }
    }

    private void SetMd5(byte[] md5, string path)
    {
        if (md5.All(b => b == 0)) return;
        if (_set.Md5 is not null && !_set.Md5.AsSpan().SequenceEqual(md5)) _set.Problems.Add($"{path}: the stored MD5 hashes disagree.");
        _set.Md5 ??= md5;
    }

    private void SetSha1(byte[] sha1, string path)
    {
        if (sha1.All(b => b == 0)) return;
        if (_set.Sha1 is not null && !_set.Sha1.AsSpan().SequenceEqual(sha1)) _set.Problems.Add($"{path}: the stored SHA-1 hashes disagree.");
        _set.Sha1 ??= sha1;
    }
}
