using System.Buffers.Binary;
using System.IO.Compression;
using Discemu.Block;
using static Discemu.Formats.Ewf.EwfConstants;

namespace Discemu.Formats.Ewf;

/// <summary>
/// Opens a segment set and walks its sections: EWF1 (E01/S01) front to back here, EWF2 (Ex01) back
/// to front in the partial file beside this one. Every size read from a file is checked against
/// the file before anything is allocated.
/// </summary>
internal sealed partial class EwfSetParser
{
    private readonly EwfSet _set = new();
    private readonly string _firstPath;
    private EwfCaseInfo? _header2, _header, _xheader;
    private bool _tableNeedsMirror;
    private long _lastSectorsStart = -1, _lastSectorsEnd = -1;

    private EwfSetParser(string firstPath) => _firstPath = firstPath;

    /// <summary>Opens every segment of the set that <paramref name="path"/> belongs to.</summary>
    /// <exception cref="CorruptImageException">A segment violates the format.</exception>
    /// <exception cref="UnsupportedFeatureException">Logical evidence (L01/Lx01), encrypted or bzip2 EWF2 data.</exception>
    /// <exception cref="ImageAccessException">A segment is missing or unreadable.</exception>
    public static EwfSet Open(string path)
    {
        string first = EwfSegmentNames.FirstOf(path);
        if (first != path && !File.Exists(first) && File.Exists(path))
            throw new ImageAccessException($"The first segment of the EWF set that {Path.GetFileName(path)} belongs to is missing.", first);
        var parser = new EwfSetParser(first);
        try
        {
            parser.Run();
            return parser._set;
        }
        catch
        {
            parser._set.Dispose();
            throw;
        }
    }

    private void Run()
    {
        Span<byte> headBuffer = stackalloc byte[FileHeader2Size];
        for (int number = 1; ; number++)
        {
            string path = number == 1 ? _firstPath : EwfSegmentNames.For(_firstPath, number);
            if (number > 1 && !File.Exists(path))
                throw new ImageAccessException($"Segment file {number} of the EWF set is missing.", path);
            var file = FileDevice.Open(path, writable: false);
            _set.Paths.Add(path);
            _set.Files.Add(file);
            if (number > ushort.MaxValue) throw new CorruptImageException("The set has more than 65535 segment files.", path);
            int headLength = (int)Math.Min(file.Length, FileHeader2Size);
            var head = headBuffer[..headLength];
            file.Read(0, head);
            bool last;
            if (head.StartsWith(Evf2Signature)) last = ParseSegment2(number, file, path, head);
            else if (head.StartsWith(EvfSignature)) last = ParseSegment1(number, file, path, head);
            else if (head.StartsWith(LvfSignature) || head.StartsWith(Lef2Signature))
                throw new UnsupportedFeatureException("Logical evidence files (L01/Lx01) are not supported.", path);
            else throw new CorruptImageException($"Segment file {number} has no EWF signature.", path);
            if (last) break;
        }
        Finish();
    }

    private void Finish()
    {
        if (!_set.HasVolume) throw new CorruptImageException("The EWF set has no volume section.", _firstPath);
        var info = (_header2 ?? _header ?? _xheader ?? new EwfCaseInfo()).FillFrom(_header).FillFrom(_xheader);
        _set.CaseInfo = info;
        long needed = _set.ChunkCount;
        if (_set.Chunks.Count < needed)
            throw new CorruptImageException($"The EWF set's tables list {_set.Chunks.Count} chunks but the media needs {needed}.", _firstPath);
        if (_set.Chunks.Count > needed)
        {
            _set.Problems.Add($"The tables list {_set.Chunks.Count} chunks; the media needs only {needed}.");
            _set.Chunks.Truncate((int)needed);
        }
        if (_set.Volume.ChunkCount != needed && !_set.Volume.IsSmall && _set.FormatVersion == 1)
            _set.Problems.Add($"The volume section counts {_set.Volume.ChunkCount} chunks; the media has {needed}.");
    }

    private bool ParseSegment1(int number, BlockDevice file, string path, ReadOnlySpan<byte> head)
    {
        if (head.Length < FileHeaderSize || head[8] != 1) throw new CorruptImageException("Segment file header is invalid.", path);
        int stored = BinaryPrimitives.ReadUInt16LittleEndian(head[9..]);
        if (stored != number) throw new CorruptImageException($"Segment file {number} says it is segment {stored}.", path);
        if (number > 1 && _set.FormatVersion != 1) throw new CorruptImageException("The set mixes EWF and EWF2 segments.", path);
        var names = new List<string>();
        _set.SectionNames.Add(names);
        _lastSectorsStart = _lastSectorsEnd = -1;
        _tableNeedsMirror = false;
        long length = file.Length;
        long offset = FileHeaderSize;
        Span<byte> desc = stackalloc byte[SectionDescriptorSize];
        for (long count = 0; ; count++)
        {
            if (offset > length - SectionDescriptorSize)
                throw new CorruptImageException($"Segment file {number} ends without a done or next section (truncated, or an incomplete set?).", path);
            file.Read(offset, desc);
            if (!desc.ContainsAnyExcept((byte)0))
                throw new CorruptImageException($"Segment file {number} is incomplete: the section at offset {offset} was never finished (an interrupted acquisition or conversion?).", path);
            var problem = EwfSection.TryRead(desc, offset, length, out var section);
            if (problem is not null) throw new CorruptImageException(problem + ".", path);
            names.Add(section.Type);
            if (section.IsTerminal)
            {
                if (section.Next != offset && section.Next != offset + SectionDescriptorSize)
                    throw new CorruptImageException($"The {section.Type} section does not point to itself.", path);
                if (_tableNeedsMirror) throw new CorruptImageException("A table section and its table2 mirror are both damaged.", path);
                return section.Type == "done";
            }
            if (section.Next <= offset) throw new CorruptImageException($"The {section.Type} section at offset {offset} points backwards.", path);
            if (section.Size != 0 && section.Size != section.Next - offset)
                throw new CorruptImageException($"The {section.Type} section at offset {offset} has a size that disagrees with its next offset.", path);
            section = section with { Size = section.Next - offset };
            HandleSection1(number, file, path, section);
            offset = section.Next;
        }
    }

    private void HandleSection1(int number, BlockDevice file, string path, EwfSection s)
    {
        switch (s.Type)
        {
            case "header2":
                if (number == 1) _header2 ??= ParseHeaderSection(file, path, s, xml: false);
                break;
            case "header":
                if (number == 1) _header ??= ParseHeaderSection(file, path, s, xml: false);
                break;
            case "xheader":
                if (number == 1) _xheader ??= ParseHeaderSection(file, path, s, xml: true);
                break;
            case "volume" or "disk" or "data":
                ParseVolume(file, path, s);
                break;
            case "sectors":
                _lastSectorsStart = s.DataOffset;
                _lastSectorsEnd = s.Next;
                break;
            case "table":
                RequireVolume(path, s);
                _tableNeedsMirror = !TryParseTable(number, file, path, s, out var why);
                if (_tableNeedsMirror) _set.Problems.Add($"Segment {number}: table at offset {s.Offset}: {why}; its table2 mirror was used.");
                break;
            case "table2":
                if (_tableNeedsMirror)
                {
                    if (!TryParseTable(number, file, path, s, out var why2))
                        throw new CorruptImageException($"The table section and its table2 mirror at offset {s.Offset} are both damaged ({why2}).", path);
                    _tableNeedsMirror = false;
                }
                break;
            case "error2":
                ParseError2(file, path, s);
                break;
            case "hash":
                ParseHash(file, path, s);
                break;
            case "digest":
                ParseDigest(file, path, s);
                break;
            case "xhash":
                ParseXHash(file, path, s);
                break;
            case "ltree" or "ltypes":
                throw new UnsupportedFeatureException("Logical evidence files (L01) are not supported.", path);
            default:
                break; // session, incomplete, delta_chunk and unknown sections carry nothing the media needs.
        }
    }

    private void RequireVolume(string path, EwfSection s)
    {
        if (!_set.HasVolume) throw new CorruptImageException($"The {s.Type} section at offset {s.Offset} comes before any volume section.", path);
    }

    private byte[] ReadData(BlockDevice file, EwfSection s, long max, string path)
    {
        long size = s.DataSize;
        if (size > max) throw new CorruptImageException($"The {s.Type} section at offset {s.Offset} is too large ({size} bytes).", path);
        var data = new byte[size];
        file.Read(s.DataOffset, data);
        return data;
    }

    private EwfCaseInfo ParseHeaderSection(BlockDevice file, string path, EwfSection s, bool xml)
    {
        var compressed = ReadData(file, s, MaxHeaderText, path);
        var text = EwfHeaderText.Decode(Inflate(compressed, path, s.Type));
        var tags = xml ? EwfHeaderText.XmlToTags(EwfHeaderText.ParseXml(text)) : EwfHeaderText.ParseMain(text);
        var info = EwfCaseInfo.FromTags(tags);
        if (xml && EwfHeaderText.ParseXml(text).TryGetValue("acquiry_software", out var sw) && sw.Length > 0) info = info with { AcquisitionSoftware = sw };
        return info;
    }

    /// <summary>Inflates a zlib-compressed metadata section, refusing more than <see cref="MaxHeaderText"/> bytes.</summary>
    internal static byte[] Inflate(ReadOnlySpan<byte> compressed, string path, string what)
    {
        using var output = new MemoryStream();
        unsafe
        {
            fixed (byte* p = compressed)
            {
                using var input = new UnmanagedMemoryStream(p, compressed.Length);
                try
                {
                    using var z = new ZLibStream(input, CompressionMode.Decompress);
                    var buffer = new byte[16384];
                    int n;
                    while ((n = z.Read(buffer)) > 0)
                    {
                        if (output.Length + n > MaxHeaderText) throw new CorruptImageException($"The {what} section inflates to more than {MaxHeaderText} bytes.", path);
                        output.Write(buffer, 0, n);
                    }
                }
                catch (InvalidDataException e) { throw new CorruptImageException($"The {what} section is not valid zlib data.", path, e); }
            }
        }
        return output.ToArray();
    }

    private void ParseVolume(BlockDevice file, string path, EwfSection s)
    {
        var data = ReadData(file, s, 1 << 20, path);
        var problem = EwfVolume.TryRead(data, out var volume);
        if (problem is not null)
        {
            if (_set.HasVolume) { _set.Problems.Add($"The {s.Type} section at offset {s.Offset}: {problem}."); return; }
            throw new CorruptImageException(problem + ".", path);
        }
        if (!_set.HasVolume)
        {
            _set.Volume = volume;
            _set.HasVolume = true;
        }
        else if (volume.SectorCount != _set.Volume.SectorCount || volume.ChunkSize != _set.Volume.ChunkSize || volume.BytesPerSector != _set.Volume.BytesPerSector)
            throw new CorruptImageException($"The {s.Type} section at offset {s.Offset} disagrees with the volume section.", path);
    }
}
