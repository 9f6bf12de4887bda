namespace Discemu.Formats.Cue;

/// <summary>A track's data type as a CUE sheet's TRACK line names it.</summary>
public enum CdTrackMode
{
    /// <summary><c>AUDIO</c>: 2352 bytes of 16-bit stereo samples per sector.</summary>
    Audio,
    /// <summary><c>MODE1/2048</c>: Mode 1 user data only.</summary>
    Mode1Cooked,
    /// <summary><c>MODE1/2352</c>: raw Mode 1 sectors (sync, header, data, EDC, ECC).</summary>
    Mode1Raw,
    /// <summary><c>MODE2/2336</c>: Mode 2 sectors without sync and header (XA subheader first).</summary>
    Mode2Headerless,
    /// <summary><c>MODE2/2352</c>: raw Mode 2 sectors (CD-ROM XA Form 1 and Form 2).</summary>
    Mode2Raw,
}

/// <summary>How a FILE's bytes are stored.</summary>
public enum CueFileType
{
    /// <summary><c>BINARY</c>: raw sectors; audio samples little-endian.</summary>
    Binary,
    /// <summary><c>MOTOROLA</c>: raw sectors; audio samples big-endian.</summary>
    Motorola,
    /// <summary><c>WAVE</c>: a RIFF/WAVE file of 44.1 kHz 16-bit stereo PCM whose data chunk holds the sectors.</summary>
    Wave,
}

/// <summary>One FILE of a CUE sheet.</summary>
/// <param name="Name">The name as written in the sheet.</param>
/// <param name="Type">How the file stores its data.</param>
public sealed record CueFile(string Name, CueFileType Type);

/// <summary>An INDEX of a track: its number and its position as a logical block address on the disc.</summary>
/// <param name="Number">0 (start of the pregap) to 99; 1 is the start of the track proper.</param>
/// <param name="Lba">The disc address in frames (sectors).</param>
public sealed record CueIndex(int Number, long Lba);

/// <summary>One track of a CUE sheet, laid out on the disc and in its file.</summary>
public sealed record CueTrack
{
    /// <summary>The track number (1..99).</summary>
    public required int Number { get; init; }

    /// <summary>The track's data type.</summary>
    public required CdTrackMode Mode { get; init; }

    /// <summary>The index of the track's FILE in <see cref="CueSheet.Files"/>.</summary>
    public required int FileIndex { get; init; }

    /// <summary>The logical block address of INDEX 01 on the disc.</summary>
    public required long Start { get; init; }

    /// <summary>Sectors from INDEX 01 to the next track's first index in the same file (or the end of the file).</summary>
    public required long Length { get; init; }

    /// <summary>Pregap sectors: the INDEX 00 to INDEX 01 span stored in the file plus any PREGAP (not stored).</summary>
    public required long Pregap { get; init; }

    /// <summary>Pregap sectors not stored in the file (the PREGAP command).</summary>
    public required long SilentPregap { get; init; }

    /// <summary>Postgap sectors not stored in the file (the POSTGAP command).</summary>
    public required long Postgap { get; init; }

    /// <summary>Where INDEX 01's sector starts in the file's data (bytes; in a WAVE file, from its data chunk).</summary>
    public required long FileOffset { get; init; }

    /// <summary>The track's indexes in order, with disc addresses.</summary>
    public required IReadOnlyList<CueIndex> Indexes { get; init; }

    /// <summary>Bytes per sector stored in the file.</summary>
    public int SectorSize => CueSheet.SectorSize(Mode);

    /// <summary>True for data tracks (every mode but audio).</summary>
    public bool IsData => Mode != CdTrackMode.Audio;

    /// <summary>The mode as a CUE sheet writes it (<c>MODE1/2352</c>, <c>AUDIO</c>).</summary>
    public string ModeName => CueSheet.ModeName(Mode);
}
