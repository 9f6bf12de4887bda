using System.Buffers.Binary;
using System.Globalization;
using Discemu.Block;
using static Discemu.Formats.Ewf.EwfConstants;

namespace Discemu.Formats.Ewf;

internal sealed partial class EwfSetParser
{
    private Dictionary<string, string>? _device2, _case2;

    /// <summary>An EWF2 section: its descriptor fields and where its data lies (before the descriptor).</summary>
    private readonly record struct Section2(uint Type, uint Flags, long DescriptorOffset, long DataOffset, long DataSize);

    private bool ParseSegment2(int number, BlockDevice file, string path, ReadOnlySpan<byte> head)
    {
        if (head.Length < FileHeader2Size || head[8] != 2) throw new CorruptImageException("EWF2 segment file header is invalid.", path);
        if (number == 1) _set.FormatVersion = 2;
        else if (_set.FormatVersion != 2) throw new CorruptImageException("The set mixes EWF and EWF2 segments.", path);
        int compression = BinaryPrimitives.ReadUInt16LittleEndian(head[10..]);
        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(head[12..]);
        if (stored != number) throw new CorruptImageException($"Segment file {number} says it is segment {stored}.", path);
        if (compression == 2) throw new UnsupportedFeatureException("EWF2 bzip2 compression is not supported.", path);
        if (compression > 2) throw new CorruptImageException($"Unknown EWF2 compression method {compression}.", path);
        _set.Ewf2Compression = compression;
        var sections = ReadSections2(file, path);
        var names = new List<string>();
        _set.SectionNames.Add(names);
        long regionStart = -1, regionEnd = -1;
        foreach (var s in sections)
        {
            names.Add(Name2(s.Type));
            if ((s.Flags & Ewf2DataEncrypted) != 0 || s.Type == Ewf2EncryptionKeys)
                throw new UnsupportedFeatureException("Encrypted EWF2 images are not supported.", path);
            switch (s.Type)
            {
                case Ewf2DeviceInformation:
                    if (number == 1) _device2 ??= ParseObject2(file, path, s);
                    break;
                case Ewf2CaseData:
                    if (number == 1) _case2 ??= ParseObject2(file, path, s);
                    break;
                case Ewf2SectorData:
                    SetupVolume2(path);
                    regionStart = s.DataOffset;
                    regionEnd = s.DescriptorOffset;
                    break;
                case Ewf2SectorTable:
                    SetupVolume2(path);
                    ParseTable2(number, file, path, s, regionStart, regionEnd);
                    break;
                case Ewf2ErrorTable:
                    ParseErrors2(file, path, s);
                    break;
                case Ewf2Md5Hash:
                    ParseHash2(file, path, s, 16);
                    break;
                case Ewf2Sha1Hash:
                    ParseHash2(file, path, s, 20);
                    break;
            }
        }
        SetupVolume2(path);
        uint last = sections[^1].Type;
        if (last == Ewf2Done) return true;
        if (last == Ewf2Next) return false;
        throw new CorruptImageException($"Segment file {number} does not end with a next or done section.", path);
    }

    private static string Name2(uint type) => type switch
    {
        Ewf2DeviceInformation => "device_information",
        Ewf2CaseData => "case_data",
        Ewf2SectorData => "sector_data",
        Ewf2SectorTable => "sector_table",
        Ewf2ErrorTable => "error_table",
        Ewf2Md5Hash => "md5_hash",
        Ewf2Sha1Hash => "sha1_hash",
        Ewf2Next => "next",
        Ewf2Done => "done",
        _ => $"0x{type:x}",
    };

    /// <summary>Walks the descriptors from the end of the file back to the first, and returns them in file order.</summary>
    private static List<Section2> ReadSections2(BlockDevice file, string path)
    {
        long length = file.Length;
        var list = new List<Section2>();
        long offset = length - SectionDescriptor2Size;
        Span<byte> d = stackalloc byte[SectionDescriptor2Size];
        long floor = FileHeader2Size;
        while (true)
        {
            if (offset < floor) throw new CorruptImageException($"EWF2 section descriptor at offset {offset} is outside the file.", path);
            if (list.Count > length / SectionDescriptor2Size) throw new CorruptImageException("EWF2 section chain loops.", path);
            file.Read(offset, d);
            if (!Adler32.Matches(d[..60], d[60..])) throw new CorruptImageException($"EWF2 section descriptor at offset {offset} has a bad checksum.", path);
            uint type = BinaryPrimitives.ReadUInt32LittleEndian(d);
            uint flags = BinaryPrimitives.ReadUInt32LittleEndian(d[4..]);
            ulong previous = BinaryPrimitives.ReadUInt64LittleEndian(d[8..]);
            ulong dataSize = BinaryPrimitives.ReadUInt64LittleEndian(d[16..]);
            if (dataSize > (ulong)(offset - floor)) throw new CorruptImageException($"EWF2 section at offset {offset} claims more data than precedes it.", path);
            long dataOffset = offset - (long)dataSize;
            list.Add(new Section2(type, flags, offset, dataOffset, (long)dataSize));
            if (previous == 0) break;
            if (previous >= (ulong)dataOffset || previous > (ulong)(dataOffset - SectionDescriptor2Size))
                throw new CorruptImageException($"EWF2 section at offset {offset} points to a previous section that overlaps it.", path);
            offset = (long)previous;
        }
        if (list[^1].DataOffset != floor) throw new CorruptImageException("The first EWF2 section does not follow the file header.", path);
        list.Reverse();
        return list;
    }

    private byte[] ReadData2(BlockDevice file, Section2 s, long max, string path)
    {
        if (s.DataSize > max) throw new CorruptImageException($"EWF2 section {Name2(s.Type)} is too large.", path);
        var data = new byte[s.DataSize];
        file.Read(s.DataOffset, data);
        return data;
    }

    private Dictionary<string, string> ParseObject2(BlockDevice file, string path, Section2 s)
    {
        var data = ReadData2(file, s, MaxHeaderText, path);
        byte[] text = _set.Ewf2Compression == 1 ? Inflate(data, path, Name2(s.Type)) : data;
        return EwfHeaderText.ParseMain(EwfHeaderText.Decode(text).TrimEnd('\0'), ewf2Escapes: true);
    }

    private void SetupVolume2(string path)
    {
        if (_set.HasVolume || _device2 is null || _case2 is null) return;
        static ulong Number(Dictionary<string, string> d, string key, ulong fallback)
            => d.TryGetValue(key, out var s) && ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out ulong v) ? v : fallback;
        ulong bps = Number(_device2, "bp", 512), spc = Number(_case2, "sb", 64), sectors = Number(_device2, "ts", 0);
        if (bps == 0 || spc == 0 || bps * spc > MaxChunkSize) throw new CorruptImageException("EWF2 case data has an invalid chunk geometry.", path);
        if (sectors > (ulong)(long.MaxValue / (long)bps)) throw new CorruptImageException("EWF2 media size overflows.", path);
        string dt = _device2.GetValueOrDefault("dt", "f");
        _set.Volume = new EwfVolume
        {
            MediaType = dt switch { "r" => 0, "c" => 3, "m" => 0x10, _ => 1 },
            ChunkCount = (uint)Math.Min(Number(_case2, "tb", 0), uint.MaxValue),
            SectorsPerChunk = (uint)spc,
            BytesPerSector = (uint)bps,
            SectorCount = sectors,
            MediaFlags = (byte)(MediaFlagImage | (_device2.GetValueOrDefault("ph") == "1" ? MediaFlagPhysical : 0)),
            CompressionLevel = (byte)(_set.Ewf2Compression == 0 ? 0 : 1),
            ErrorGranularity = (uint)Math.Min(Number(_case2, "gr", 0), uint.MaxValue),
        };
        _set.HasVolume = true;
        var tags = new Dictionary<string, string>(_device2, StringComparer.Ordinal);
        foreach (var (k, v) in _case2) tags[k] = v;
        _set.CaseInfo = EwfCaseInfo.FromTags(tags);
        _header2 = _set.CaseInfo;
    }

    private void ParseTable2(int number, BlockDevice file, string path, Section2 s, long regionStart, long regionEnd)
    {
        if (!_set.HasVolume) throw new CorruptImageException("An EWF2 sector table comes before the device information and case data.", path);
        const int entriesStart = Ewf2TableHeaderSize + 12;
        if (s.DataSize < entriesStart) throw new CorruptImageException("EWF2 sector table is truncated.", path);
        Span<byte> h = stackalloc byte[Ewf2TableHeaderSize];
        file.Read(s.DataOffset, h);
        if (!Adler32.Matches(h[..16], h[16..])) throw new CorruptImageException("EWF2 sector table header has a bad checksum.", path);
        ulong first = BinaryPrimitives.ReadUInt64LittleEndian(h);
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(h[8..]);
        if (first != (ulong)_set.Chunks.Count) throw new CorruptImageException($"EWF2 sector table starts at chunk {first}; chunk {_set.Chunks.Count} was expected.", path);
        if (count > MaxTableEntriesRead / 4 || (ulong)count * 16 + 4 > (ulong)(s.DataSize - entriesStart)) throw new CorruptImageException("EWF2 sector table lists more entries than it holds.", path);
        var raw = new byte[count * 16 + 4];
        file.Read(s.DataOffset + entriesStart, raw);
        if (!Adler32.Matches(raw.AsSpan(0, (int)count * 16), raw.AsSpan((int)count * 16)))
            throw new CorruptImageException("EWF2 sector table entries have a bad checksum.", path);
        long fileLength = file.Length;
        int maxStored = MaxStored;
        for (int i = 0; i < count; i++)
        {
            var e = raw.AsSpan(i * 16, 16);
            ulong offset = BinaryPrimitives.ReadUInt64LittleEndian(e);
            uint size = BinaryPrimitives.ReadUInt32LittleEndian(e[8..]);
            uint flags = BinaryPrimitives.ReadUInt32LittleEndian(e[12..]);
            if ((flags & Ewf2ChunkCompressed) != 0 && (flags & Ewf2ChunkPatternFill) != 0)
            {
                _set.Chunks.Add(number - 1, 0, 0, EwfChunkKind.Pattern);
                _set.Patterns.Add(_set.Chunks.Count - 1, offset);
                continue;
            }
            var kind = (flags & Ewf2ChunkCompressed) != 0 ? EwfChunkKind.Compressed : (flags & Ewf2ChunkChecksummed) != 0 ? EwfChunkKind.Raw : EwfChunkKind.RawUnchecked;
            if (kind == EwfChunkKind.Raw && size % _set.Volume.BytesPerSector == 0) size += 4; // checksum stored after the counted data
            if (size == 0 || size > maxStored || offset > (ulong)fileLength || size > (ulong)fileLength - offset)
                throw new CorruptImageException($"EWF2 sector table entry {i} points outside the file.", path);
            if (regionStart >= 0 && ((long)offset < regionStart || (long)offset + size > regionEnd))
                _set.Problems.Add($"Segment {number}: chunk {_set.Chunks.Count} lies outside its sector data section.");
            _set.Chunks.Add(number - 1, (long)offset, (int)size, kind);
            if (kind == EwfChunkKind.Compressed) _set.AnyCompressedChunk = true;
        }
    }

    private void ParseErrors2(BlockDevice file, string path, Section2 s)
    {
        var data = ReadData2(file, s, MaxErrorSection, path);
        const int entriesStart = Ewf2TableHeaderSize + 12;
        if (data.Length < entriesStart || !Adler32.Matches(data.AsSpan(0, 16), data.AsSpan(16))) { _set.Problems.Add("The EWF2 error table is damaged."); return; }
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(data);
        if ((long)count * 16 + 4 > data.Length - entriesStart) { _set.Problems.Add("The EWF2 error table lists more entries than it holds."); return; }
        var entries = data.AsSpan(entriesStart, (int)count * 16);
        if (!Adler32.Matches(entries, data.AsSpan(entriesStart + entries.Length))) _set.Problems.Add("The EWF2 error table entries have a bad checksum.");
        for (int i = 0; i < count; i++)
            _set.Errors.Add(new EwfErrorRange((long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(entries[(i * 16)..]), long.MaxValue), BinaryPrimitives.ReadUInt32LittleEndian(entries[(i * 16 + 8)..])));
    }

    private void ParseHash2(BlockDevice file, string path, Section2 s, int length)
    {
        var data = ReadData2(file, s, 1 << 16, path);
        if (data.Length < length + 4 || !Adler32.Matches(data.AsSpan(0, length), data.AsSpan(length)))
        {
            _set.Problems.Add($"The EWF2 {Name2(s.Type)} section is damaged.");
            return;
        }
        if (length == 16) SetMd5(data.AsSpan(0, 16).ToArray(), path);
        else SetSha1(data.AsSpan(0, 20).ToArray(), path);
    }
}
