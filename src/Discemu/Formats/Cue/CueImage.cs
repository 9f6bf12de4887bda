using Discemu.Block;

namespace Discemu.Formats.Cue;

/// <summary>
/// An opened BIN/CUE image (read-only): the CUE sheet, its files and the tracks laid out on the disc. The virtual
/// disk is the first data track's user data (2048 bytes per sector: Mode 1 data, or Mode 2 Form 1 data), so file
/// systems such as ISO 9660 read it directly; every track can be extracted (<see cref="ExtractTrack"/>) and the
/// raw data sectors' EDC/ECC verified (<see cref="Check"/>).
/// </summary>
public sealed partial class CueImage : DiskImage, ICheckableImage
{
    private readonly BlockDevice[] _files;
    private readonly string[] _filePaths;
    private readonly CueTrack? _dataTrack;

    private CueImage(string path, CueSheet sheet, BlockDevice[] files, string[] filePaths, IReadOnlyList<CueTrack> tracks, bool bareBin)
    {
        Path = path;
        Sheet = sheet;
        _files = files;
        _filePaths = filePaths;
        Tracks = tracks;
        IsBareBin = bareBin;
        _dataTrack = tracks.FirstOrDefault(t => t.IsData);
    }

    /// <summary>The parsed CUE sheet (for a bare .bin, the one-track sheet Discemu assumed).</summary>
    public CueSheet Sheet { get; }

    /// <summary>The tracks on the disc, in order.</summary>
    public IReadOnlyList<CueTrack> Tracks { get; }

    /// <summary>The track the virtual disk presents (the first data track), or null for an audio-only disc (the disk is then empty).</summary>
    public CueTrack? DataTrack => _dataTrack;

    /// <summary>True when the image is a bare .bin of raw sectors opened without a CUE sheet.</summary>
    public bool IsBareBin { get; }

    /// <summary>The full paths of the sheet's FILEs, as resolved next to the sheet.</summary>
    public IReadOnlyList<string> FilePaths => _filePaths;

    /// <inheritdoc/>
    public override ImageFormat Format => CueFormat.Instance;

    /// <inheritdoc/>
    public override string Path { get; }

    /// <inheritdoc/>
    public override long Length => _dataTrack is null ? 0 : _dataTrack.Length * CdConstants.UserDataSize;

    /// <inheritdoc/>
    public override DeviceCapabilities Capabilities => DeviceCapabilities.None;

    /// <inheritdoc/>
    public override long? ActualSize
    {
        get
        {
            long total = IsBareBin ? 0 : Util.HostFile.AllocatedBytes(Path) ?? 0;
            foreach (var p in _filePaths.Distinct(StringComparer.Ordinal)) total += Util.HostFile.AllocatedBytes(p) ?? 0;
            return total;
        }
    }

    /// <summary>The track list for <c>info</c>: number, mode, start and length in sectors, pregap, indexes and file.</summary>
    public override IReadOnlyList<KeyValuePair<string, object?>> FormatSpecific
    {
        get
        {
            var tracks = Tracks.Select(t => (object?)new List<KeyValuePair<string, object?>>
            {
                new("number", t.Number),
                new("mode", t.ModeName),
                new("start", t.Start),
                new("length", t.Length),
                new("pregap", t.Pregap),
                new("postgap", t.Postgap),
                new("file", Sheet.Files[t.FileIndex].Name),
                new("indexes", t.Indexes.Select(i => (object?)new List<KeyValuePair<string, object?>> { new("number", i.Number), new("start", i.Lba) }).ToList()),
            }).ToList();
            var list = new List<KeyValuePair<string, object?>>();
            if (_dataTrack is not null) list.Add(new("data-track", _dataTrack.Number));
            list.Add(new("files", Sheet.Files.Select(f => (object?)new List<KeyValuePair<string, object?>> { new("name", f.Name), new("type", f.Type.ToString().ToUpperInvariant()) }).ToList()));
            list.Add(new("tracks", tracks));
            return list;
        }
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (!disposing) return;
        foreach (var f in _files) f.Dispose();
    }
}
