using System.Text;

namespace Discemu.Formats.Cue;

/// <summary>One TRACK as the sheet writes it, before it is laid out against the files' lengths.</summary>
internal sealed record CueTrackEntry(int Number, CdTrackMode Mode, int FileIndex, long Pregap, long Postgap, IReadOnlyList<(int Number, long Frame)> Indexes);

/// <summary>
/// A parsed CUE sheet (the CDRWIN text format): its FILEs and TRACKs with their INDEX, PREGAP and POSTGAP times.
/// Times in the sheet are relative to the start of the track's FILE. <see cref="Layout"/> places the tracks on the
/// disc once the files' lengths are known.
/// </summary>
public sealed partial class CueSheet
{
    private readonly List<CueTrackEntry> _entries;

    private CueSheet(List<CueFile> files, List<CueTrackEntry> entries)
    {
        Files = files;
        _entries = entries;
    }

    /// <summary>The FILE entries in order.</summary>
    public IReadOnlyList<CueFile> Files { get; }

    /// <summary>The number of TRACK entries.</summary>
    public int TrackCount => _entries.Count;

    internal IReadOnlyList<CueTrackEntry> Entries => _entries;

    /// <summary>Bytes per sector a track of <paramref name="mode"/> stores.</summary>
    public static int SectorSize(CdTrackMode mode) => mode switch
    {
        CdTrackMode.Mode1Cooked => CdConstants.UserDataSize,
        CdTrackMode.Mode2Headerless => CdConstants.Mode2SectorSize,
        _ => CdConstants.RawSectorSize,
    };

    /// <summary>The mode as a CUE sheet writes it.</summary>
    public static string ModeName(CdTrackMode mode) => mode switch
    {
        CdTrackMode.Audio => "AUDIO",
        CdTrackMode.Mode1Cooked => "MODE1/2048",
        CdTrackMode.Mode1Raw => "MODE1/2352",
        CdTrackMode.Mode2Headerless => "MODE2/2336",
        _ => "MODE2/2352",
    };

    /// <summary>Parses the text of a CUE sheet (UTF-8 or Latin-1; an initial byte order mark is skipped).</summary>
    /// <param name="text">The sheet's bytes.</param>
    /// <param name="path">The sheet's path, for error messages (may be null).</param>
    /// <exception cref="CorruptImageException">The sheet is malformed: an unknown or misplaced command, a bad time, number or order.</exception>
    /// <exception cref="UnsupportedFeatureException">The sheet uses a file type or track mode Discemu does not read.</exception>
    public static CueSheet Parse(ReadOnlySpan<byte> text, string? path)
    {
        if (text.Length > CdConstants.MaxSheetBytes) throw new CorruptImageException($"The CUE sheet is larger than {CdConstants.MaxSheetBytes} bytes.", path);
        if (text.StartsWith("\xEF\xBB\xBF"u8)) text = text[3..];
        if (text.Contains((byte)0)) throw new CorruptImageException("The CUE sheet contains a NUL byte: it is not text.", path);
        string s;
        try { s = new UTF8Encoding(false, true).GetString(text); }
        catch (DecoderFallbackException) { s = Encoding.Latin1.GetString(text); }
        var parser = new Parser(path);
        int lineNo = 0;
        foreach (var raw in s.Split('\n'))
        {
            lineNo++;
            parser.Line(raw.TrimEnd('\r'), lineNo);
        }
        return parser.Finish(lineNo);
    }

    /// <summary>Splits a line into words; a double-quoted string is one word (without its quotes).</summary>
    internal static List<string> Tokenize(string line, int lineNo, string? path)
    {
        var words = new List<string>();
        int i = 0;
        while (i < line.Length)
        {
            if (char.IsWhiteSpace(line[i])) { i++; continue; }
            if (line[i] == '"')
            {
                int end = line.IndexOf('"', i + 1);
                if (end < 0) throw new CorruptImageException($"CUE sheet line {lineNo}: unterminated quoted string.", path);
                words.Add(line[(i + 1)..end]);
                i = end + 1;
                continue;
            }
            int start = i;
            while (i < line.Length && !char.IsWhiteSpace(line[i])) i++;
            words.Add(line[start..i]);
        }
        return words;
    }

    private sealed class Parser(string? path)
    {
        private readonly List<CueFile> _files = [];
        private readonly List<CueTrackEntry> _entries = [];
        private TrackBuilder? _track;
        private long _lastFrameInFile = -1;

        private sealed class TrackBuilder(int number, CdTrackMode mode, int fileIndex)
        {
            public int Number { get; } = number;
            public CdTrackMode Mode { get; } = mode;
            public int FileIndex { get; } = fileIndex;
            public long Pregap { get; set; }
            public long Postgap { get; set; }
            public bool HasPregap { get; set; }
            public bool HasPostgap { get; set; }
            public List<(int, long)> Indexes { get; } = [];
        }

        private CorruptImageException Bad(int lineNo, string message) => new($"CUE sheet line {lineNo}: {message}", path);

        public void Line(string line, int lineNo)
        {
            var w = Tokenize(line, lineNo, path);
            if (w.Count == 0) return;
            switch (w[0].ToUpperInvariant())
            {
                case "FILE": File(w, lineNo); break;
                case "TRACK": Track(w, lineNo); break;
                case "INDEX": Index(w, lineNo); break;
                case "PREGAP": Gap(w, lineNo, pre: true); break;
                case "POSTGAP": Gap(w, lineNo, pre: false); break;
                case "REM" or "CATALOG" or "CDTEXTFILE" or "FLAGS" or "ISRC" or "PERFORMER" or "TITLE" or "SONGWRITER"
                    or "ARRANGER" or "COMPOSER" or "MESSAGE" or "DISC_ID" or "GENRE" or "TOC_INFO1" or "TOC_INFO2"
                    or "UPC_EAN" or "SIZE_INFO":
                    break;
                default:
                    throw Bad(lineNo, $"unknown command '{Clip(w[0])}'.");
            }
        }

        private static string Clip(string s) => s.Length > 40 ? s[..40] + "..." : s;

        private void File(List<string> w, int lineNo)
        {
            if (w.Count < 3) throw Bad(lineNo, "FILE needs a name and a type.");
            if (_files.Count >= CdConstants.MaxFiles) throw Bad(lineNo, $"more than {CdConstants.MaxFiles} FILE entries.");
            string type = w[^1].ToUpperInvariant();
            var t = type switch
            {
                "BINARY" => CueFileType.Binary,
                "MOTOROLA" => CueFileType.Motorola,
                "WAVE" => CueFileType.Wave,
                "AIFF" or "MP3" or "FLAC" => throw new UnsupportedFeatureException($"CUE sheet line {lineNo}: FILE type {type} is not supported (BINARY, MOTOROLA and WAVE are).", path),
                _ => throw Bad(lineNo, $"unknown FILE type '{Clip(w[^1])}'."),
            };
            // An unquoted name with spaces arrives as several words.
            string name = string.Join(' ', w.Skip(1).Take(w.Count - 2));
            if (name.Length == 0 || name.Contains('\0')) throw Bad(lineNo, "the FILE name is empty.");
            CloseTrack(lineNo);
            _files.Add(new CueFile(name, t));
            _lastFrameInFile = -1;
        }

        private void Track(List<string> w, int lineNo)
        {
            if (_files.Count == 0) throw Bad(lineNo, "TRACK before any FILE.");
            if (w.Count != 3) throw Bad(lineNo, "TRACK needs a number and a mode.");
            if (!int.TryParse(w[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n) || n is < 1 or > 99)
                throw Bad(lineNo, $"bad track number '{Clip(w[1])}' (1 to 99).");
            CloseTrack(lineNo);
            int previous = _entries.Count == 0 ? 0 : _entries[^1].Number;
            if (n <= previous) throw Bad(lineNo, $"track {n} follows track {previous}: numbers must increase.");
            var mode = w[2].ToUpperInvariant() switch
            {
                "AUDIO" => CdTrackMode.Audio,
                "MODE1/2048" => CdTrackMode.Mode1Cooked,
                "MODE1/2352" => CdTrackMode.Mode1Raw,
                "MODE2/2336" => CdTrackMode.Mode2Headerless,
                "MODE2/2352" => CdTrackMode.Mode2Raw,
                "CDG" or "MODE2/2048" or "MODE2/2324" or "CDI/2336" or "CDI/2352" =>
                    throw new UnsupportedFeatureException($"CUE sheet line {lineNo}: track mode {w[2].ToUpperInvariant()} is not supported.", path),
                _ => throw Bad(lineNo, $"unknown track mode '{Clip(w[2])}'."),
            };
            _track = new TrackBuilder(n, mode, _files.Count - 1);
        }

        private void Index(List<string> w, int lineNo)
        {
            if (_track is null) throw Bad(lineNo, "INDEX outside a TRACK.");
            if (_track.HasPostgap) throw Bad(lineNo, "INDEX after POSTGAP.");
            if (w.Count != 3) throw Bad(lineNo, "INDEX needs a number and a time.");
            if (!int.TryParse(w[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n) || n > 99)
                throw Bad(lineNo, $"bad index number '{Clip(w[1])}' (0 to 99).");
            if (!Msf.TryParse(w[2], out long frame)) throw Bad(lineNo, $"bad time '{Clip(w[2])}' (mm:ss:ff).");
            int expected = _track.Indexes.Count == 0 ? (n == 0 ? 0 : 1) : _track.Indexes[^1].Item1 + 1;
            if (n != expected) throw Bad(lineNo, $"INDEX {n:00} of track {_track.Number} is out of order (expected {expected:00}).");
            if (frame < _lastFrameInFile) throw Bad(lineNo, $"INDEX {n:00} of track {_track.Number} at {Clip(w[2])} goes back in the file.");
            _track.Indexes.Add((n, frame));
            _lastFrameInFile = frame;
        }

        private void Gap(List<string> w, int lineNo, bool pre)
        {
            string what = pre ? "PREGAP" : "POSTGAP";
            if (_track is null) throw Bad(lineNo, $"{what} outside a TRACK.");
            if (w.Count != 2 || !Msf.TryParse(w[1], out long frames)) throw Bad(lineNo, $"{what} needs a time (mm:ss:ff).");
            if (pre)
            {
                if (_track.HasPregap || _track.Indexes.Count > 0) throw Bad(lineNo, "PREGAP must come once, before the track's INDEX lines.");
                _track.HasPregap = true;
                _track.Pregap = frames;
            }
            else
            {
                if (_track.HasPostgap || _track.Indexes.Count == 0) throw Bad(lineNo, "POSTGAP must come once, after the track's INDEX lines.");
                _track.HasPostgap = true;
                _track.Postgap = frames;
            }
        }

        private void CloseTrack(int lineNo)
        {
            if (_track is null) return;
            if (!_track.Indexes.Exists(i => i.Item1 == 1)) throw Bad(lineNo, $"track {_track.Number} has no INDEX 01.");
            _entries.Add(new CueTrackEntry(_track.Number, _track.Mode, _track.FileIndex, _track.Pregap, _track.Postgap, _track.Indexes));
            _track = null;
        }

        public CueSheet Finish(int lines)
        {
            CloseTrack(lines);
            if (_entries.Count == 0) throw new CorruptImageException("The CUE sheet has no TRACK.", path);
            for (int f = 0; f < _files.Count; f++)
                if (!_entries.Exists(e => e.FileIndex == f)) throw new CorruptImageException($"FILE '{_files[f].Name}' of the CUE sheet has no TRACK.", path);
            return new CueSheet(_files, _entries);
        }
    }
}
