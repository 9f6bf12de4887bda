using System.Buffers.Binary;
using static Discemu.Formats.Ewf.EwfConstants;

namespace Discemu.Formats.Ewf;

public sealed partial class EwfWriter
{
    private readonly List<string> _paths = [];
    private readonly List<uint> _entries = [];
    private readonly DateTimeOffset _acquired;
    private readonly Guid _setIdentifier;
    private FileStream? _file;
    private string? _currentPath;
    private long _offset, _groupStart;
    private int _segment;
    private bool _groupOpen, _segmentHasChunks;

    private long TotalChunks => (_options.MediaSize + _chunkSize - 1) / _chunkSize;

    private EwfVolume Volume => new()
    {
        MediaType = (byte)_options.MediaType,
        ChunkCount = (uint)TotalChunks,
        SectorsPerChunk = (uint)_options.SectorsPerChunk,
        BytesPerSector = (uint)_options.BytesPerSector,
        SectorCount = (ulong)(_options.MediaSize / _options.BytesPerSector),
        MediaFlags = (byte)(MediaFlagImage | (_options.IsPhysical ? MediaFlagPhysical : 0)),
        CompressionLevel = (byte)_options.Compression,
        ErrorGranularity = (uint)_options.SectorsPerChunk,
        SetIdentifier = _setIdentifier,
    };

    private EwfCaseInfo CaseInfo => new()
    {
        CaseNumber = _options.CaseNumber,
        Description = _options.Description,
        ExaminerName = _options.ExaminerName,
        EvidenceNumber = _options.EvidenceNumber,
        Notes = _options.Notes,
        Model = _options.Model,
        SerialNumber = _options.SerialNumber,
        SoftwareVersion = Truncate(_options.SoftwareVersion ?? typeof(EwfWriter).Assembly.GetName().Version?.ToString(3) ?? "0", 11),
        AcquisitionSystem = Truncate(_options.OperatingSystem ?? (OperatingSystem.IsLinux() ? "Linux" : OperatingSystem.IsWindows() ? "Windows" : OperatingSystem.IsMacOS() ? "macOS" : "Unknown"), 23),
    };

    private static string Truncate(string s, int n) => s.Length <= n ? s : s[..n];

    /// <summary>Bytes the end of a segment may still need: the terminal section and, in the last one, data, error2, digest and hash.</summary>
    private long TrailerReserve => SectionDescriptorSize
        + SectionDescriptorSize + VolumeSizeE01
        + SectionDescriptorSize + Error2HeaderSize + 8L * _errors.Count + 4
        + SectionDescriptorSize + DigestSize
        + SectionDescriptorSize + HashSize;

    private static long TableSectionSize(long entries) => SectionDescriptorSize + TableHeaderSize + 4 * entries + 4;

    private void OpenSegment(int number)
    {
        string path = number == 1 ? _firstPath : EwfSegmentNames.For(_firstPath, number);
        _currentPath = path;
        try { _file = new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.Read, bufferSize: 1 << 20); }
        catch (UnauthorizedAccessException e) { throw new ImageAccessException("Permission denied.", path, e); }
        catch (DirectoryNotFoundException e) { throw new ImageAccessException("No such directory.", path, e); }
        catch (IOException e) { throw new ImageAccessException(e.Message, path, e); }
        _paths.Add(path);
        _segment = number;
        _offset = 0;
        _segmentHasChunks = false;
        Span<byte> head = stackalloc byte[FileHeaderSize];
        head.Clear();
        EvfSignature.CopyTo(head);
        head[8] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(head[9..], (ushort)number);
        Write(head);
        Span<byte> volume = new byte[VolumeSizeE01];
        Volume.Write(volume);
        if (number == 1)
        {
            var info = CaseInfo;
            var header2 = Deflate(EwfHeaderText.BuildHeader2(info, _acquired));
            WriteSection("header2", header2);
            WriteSection("header2", header2);
            WriteSection("header", Deflate(EwfHeaderText.BuildHeader(info, _acquired)));
            WriteSection("volume", volume);
        }
        else WriteSection("data", volume);
    }

    private static byte[] Deflate(byte[] text)
    {
        var output = new byte[text.Length + 1024];
        int n = EwfChunkCodec.Compress(text, 9, output, output.Length);
        return output[..n];
    }

    private void Write(ReadOnlySpan<byte> data)
    {
        _file!.Write(data);
        _offset += data.Length;
    }

    private void WriteSection(string type, ReadOnlySpan<byte> payload)
    {
        Span<byte> desc = stackalloc byte[SectionDescriptorSize];
        long size = SectionDescriptorSize + payload.Length;
        EwfSection.Write(desc, type, _offset + size, size);
        Write(desc);
        Write(payload);
    }

    private void WriteTerminal(string type)
    {
        Span<byte> desc = stackalloc byte[SectionDescriptorSize];
        EwfSection.Write(desc, type, _offset, 0);
        Write(desc);
    }

    private void WriteChunk(ReadOnlySpan<byte> data, ReadOnlySpan<byte> tail, bool compressed)
    {
        long stored = data.Length + tail.Length;
        EnsureRoom(stored);
        _entries.Add((uint)(_offset - _groupStart) | (compressed ? CompressedFlag : 0));
        Write(data);
        Write(tail);
        _segmentHasChunks = true;
    }

    /// <summary>Closes the sectors group when its table is full or its offsets would pass 31 bits; starts a new segment when the chunk would not fit.</summary>
    private void EnsureRoom(long stored)
    {
        if (_groupOpen && (_entries.Count >= MaxTableEntries || _offset + stored - _groupStart > int.MaxValue)) CloseGroup();
        long reserve = (_groupOpen ? 0 : SectionDescriptorSize) + 2 * TableSectionSize(_entries.Count + 1) + TrailerReserve;
        if (_segmentHasChunks && _offset + stored + reserve > _options.SegmentSize)
        {
            CloseGroup();
            WriteTerminal("next");
            CloseFile();
            if (_segment >= ushort.MaxValue) throw new InvalidOperationException("The set would need more than 65535 segment files; use a larger segment size.");
            OpenSegment(_segment + 1);
        }
        if (!_groupOpen)
        {
            _groupStart = _offset;
            Write(new byte[SectionDescriptorSize]); // the sectors descriptor, written when the group closes
            _groupOpen = true;
        }
    }

    /// <summary>Writes the sectors descriptor of the open group, then its table and table2 sections.</summary>
    private void CloseGroup()
    {
        if (!_groupOpen) return;
        Span<byte> desc = stackalloc byte[SectionDescriptorSize];
        EwfSection.Write(desc, "sectors", _offset, _offset - _groupStart);
        _file!.Flush();
        RandomAccess.Write(_file.SafeFileHandle, desc, _groupStart);
        var table = new byte[TableHeaderSize + 4 * _entries.Count + 4];
        BinaryPrimitives.WriteUInt32LittleEndian(table, (uint)_entries.Count);
        BinaryPrimitives.WriteInt64LittleEndian(table.AsSpan(8), _groupStart);
        BinaryPrimitives.WriteUInt32LittleEndian(table.AsSpan(20), Adler32.Compute(table.AsSpan(0, 20)));
        var entries = table.AsSpan(TableHeaderSize, 4 * _entries.Count);
        for (int i = 0; i < _entries.Count; i++) BinaryPrimitives.WriteUInt32LittleEndian(entries[(i * 4)..], _entries[i]);
        BinaryPrimitives.WriteUInt32LittleEndian(table.AsSpan(TableHeaderSize + entries.Length), Adler32.Compute(entries));
        WriteSection("table", table);
        WriteSection("table2", table);
        _entries.Clear();
        _groupOpen = false;
    }

    private void WriteTrailer(byte[]? md5, byte[]? sha1)
    {
        CloseGroup();
        if (_segment == 1)
        {
            var volume = new byte[VolumeSizeE01];
            Volume.Write(volume);
            WriteSection("data", volume);
        }
        if (_errors.Count > 0) WriteSection("error2", BuildError2());
        if (sha1 is not null)
        {
            var digest = new byte[DigestSize];
            md5?.CopyTo(digest, 0);
            sha1.CopyTo(digest, 16);
            BinaryPrimitives.WriteUInt32LittleEndian(digest.AsSpan(76), Adler32.Compute(digest.AsSpan(0, 76)));
            WriteSection("digest", digest);
        }
        if (md5 is not null)
        {
            var hash = new byte[HashSize];
            md5.CopyTo(hash, 0);
            BinaryPrimitives.WriteUInt32LittleEndian(hash.AsSpan(32), Adler32.Compute(hash.AsSpan(0, 32)));
            WriteSection("hash", hash);
        }
        WriteTerminal("done");
        CloseFile();
    }

    private byte[] BuildError2()
    {
        var merged = new List<EwfErrorRange>();
        foreach (var e in _errors.OrderBy(e => e.FirstSector))
        {
            if (merged.Count > 0)
            {
                var last = merged[^1];
                long lastEnd = last.FirstSector + last.SectorCount;
                long end = Math.Max(lastEnd, e.FirstSector + e.SectorCount);
                if (e.FirstSector <= lastEnd && end - last.FirstSector <= uint.MaxValue)
                {
                    merged[^1] = last with { SectorCount = end - last.FirstSector };
                    continue;
                }
            }
            merged.Add(e);
        }
        var data = new byte[Error2HeaderSize + 8 * merged.Count + 4];
        BinaryPrimitives.WriteUInt32LittleEndian(data, (uint)merged.Count);
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(516), Adler32.Compute(data.AsSpan(0, 516)));
        var entries = data.AsSpan(Error2HeaderSize, 8 * merged.Count);
        for (int i = 0; i < merged.Count; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(entries[(i * 8)..], (uint)merged[i].FirstSector);
            BinaryPrimitives.WriteUInt32LittleEndian(entries[(i * 8 + 4)..], (uint)merged[i].SectorCount);
        }
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(Error2HeaderSize + entries.Length), Adler32.Compute(entries));
        return data;
    }

    private void CloseFile()
    {
        if (_file is null) return;
        _file.Flush();
        _file.Dispose();
        _file = null;
    }
}
