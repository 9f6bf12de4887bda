using System.Text;

namespace Discemu.Formats.Cue;

/// <summary>
/// CD images as a CUE sheet plus BINARY/MOTOROLA/WAVE files (CDRWIN's BIN/CUE), or a bare .bin of raw 2352-byte
/// sectors; read-only. The virtual disk is the first data track's user data.
/// </summary>
public sealed class CueFormat : ImageFormat
{
    private static readonly HashSet<string> Commands = new(StringComparer.OrdinalIgnoreCase)
    {
        "FILE", "TRACK", "INDEX", "PREGAP", "POSTGAP", "REM", "CATALOG", "CDTEXTFILE", "FLAGS", "ISRC", "PERFORMER", "TITLE",
        "SONGWRITER", "ARRANGER", "COMPOSER", "MESSAGE", "DISC_ID", "GENRE", "TOC_INFO1", "TOC_INFO2", "UPC_EAN", "SIZE_INFO",
    };

    /// <summary>The single instance.</summary>
    public static CueFormat Instance { get; } = new();

    private CueFormat() { }

    /// <inheritdoc/>
    public override string Name => "cue";

    /// <inheritdoc/>
    public override string Description => "CD image: CUE sheet with BIN/WAVE files, or a bare .bin of raw sectors (read-only)";

    /// <inheritdoc/>
    public override IReadOnlyList<string> Extensions => ["cue", "bin"];

    /// <summary>Sheets often open with REM, TITLE and PERFORMER lines before the first FILE and TRACK.</summary>
    public override int ProbeLength => 4096;

    /// <summary>
    /// A text file whose lines all start with CUE sheet commands, with a FILE line then a TRACK line, scores 100
    /// (90 when the probe window ends before a TRACK line appears); a file of raw CD sectors (sync pattern, header
    /// address 00:02:00, mode 1 or 2, a whole number of 2352-byte sectors) scores 60.
    /// </summary>
    public override int Probe(ReadOnlySpan<byte> header, long fileLength)
    {
        if (IsRawSectorStart(header, fileLength)) return 60;
        if (header.IsEmpty || header.Contains((byte)0) || fileLength > CdConstants.MaxSheetBytes) return 0;
        if (header.StartsWith("\xEF\xBB\xBF"u8)) header = header[3..];
        bool truncated = fileLength > header.Length;
        var lines = Encoding.Latin1.GetString(header).Split('\n');
        int usable = truncated ? lines.Length - 1 : lines.Length;
        bool file = false, track = false;
        for (int i = 0; i < usable; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0) continue;
            if (line.Any(c => c < ' ' && c != '\t' && c != '\r')) return 0;
            int space = line.IndexOfAny([' ', '\t']);
            string word = space < 0 ? line : line[..space];
            if (!Commands.Contains(word)) return 0;
            if (word.Equals("FILE", StringComparison.OrdinalIgnoreCase)) file = true;
            else if (word.Equals("TRACK", StringComparison.OrdinalIgnoreCase) && file) track = true;
        }
        return track ? 100 : file && truncated ? 90 : 0;
    }

    /// <summary>True when the bytes start with a raw CD data sector addressed 00:02:00 (LBA 0) in a file of whole raw sectors.</summary>
    internal static bool IsRawSectorStart(ReadOnlySpan<byte> header, long fileLength)
        => header.Length >= CdConstants.HeaderEnd && fileLength > 0 && fileLength % CdConstants.RawSectorSize == 0
           && header[..CdConstants.SyncSize].SequenceEqual(CdConstants.Sync)
           && header[12] == 0x00 && header[13] == 0x02 && header[14] == 0x00 && header[15] is 1 or 2;

    /// <inheritdoc/>
    public override DiskImage Open(ImageOpenRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CueImage.Open(request);
    }

    /// <summary>BIN/CUE is read-only in Discemu: creating one is refused.</summary>
    /// <exception cref="UnsupportedFeatureException">Always.</exception>
    public override DiskImage Create(ImageCreateRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        throw new UnsupportedFeatureException("Format 'cue' is read-only: Discemu cannot create BIN/CUE images.", request.Path);
    }
}
