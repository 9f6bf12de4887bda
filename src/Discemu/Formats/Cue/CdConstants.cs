namespace Discemu.Formats.Cue;

/// <summary>Sizes and offsets of CD sectors (ECMA-130) and CUE sheet time units.</summary>
internal static class CdConstants
{
    /// <summary>Frames (sectors) per second of CD time: an MSF address is minutes, seconds and 1/75 s frames.</summary>
    public const int FramesPerSecond = 75;

    /// <summary>Frames per minute.</summary>
    public const int FramesPerMinute = 60 * FramesPerSecond;

    /// <summary>The 2-second lead-in offset between an LBA and its absolute MSF address (LBA 0 is 00:02:00).</summary>
    public const int MsfOffset = 2 * FramesPerSecond;

    /// <summary>A raw sector: sync, header, data and error correction (or 2352 bytes of audio).</summary>
    public const int RawSectorSize = 2352;

    /// <summary>A "cooked" sector: Mode 1 or Mode 2 Form 1 user data only.</summary>
    public const int UserDataSize = 2048;

    /// <summary>A Mode 2 sector without its sync and header (MODE2/2336).</summary>
    public const int Mode2SectorSize = 2336;

    /// <summary>The sync pattern's length: 00, ten FF, 00.</summary>
    public const int SyncSize = 12;

    /// <summary>Sync plus the 4-byte header (minute, second, frame in BCD, mode).</summary>
    public const int HeaderEnd = 16;

    /// <summary>Where Mode 1 user data starts in a raw sector.</summary>
    public const int Mode1DataOffset = 16;

    /// <summary>Where Mode 1's EDC is stored (over bytes 0..2063).</summary>
    public const int Mode1EdcOffset = 2064;

    /// <summary>Mode 1's 8 intermediate bytes (zero) after the EDC.</summary>
    public const int Mode1IntermediateOffset = 2068;

    /// <summary>Where the P parity (172 bytes) starts in a raw sector.</summary>
    public const int PParityOffset = 2076;

    /// <summary>Where the Q parity (104 bytes) starts in a raw sector.</summary>
    public const int QParityOffset = 2248;

    /// <summary>Where the Mode 2 XA subheader (8 bytes: the 4 bytes twice) starts.</summary>
    public const int SubheaderOffset = 16;

    /// <summary>Where Mode 2 Form 1 and Form 2 user data start.</summary>
    public const int Mode2DataOffset = 24;

    /// <summary>Where Mode 2 Form 1's EDC is stored (over bytes 16..2071).</summary>
    public const int Form1EdcOffset = 2072;

    /// <summary>Mode 2 Form 2 user data bytes.</summary>
    public const int Form2DataSize = 2324;

    /// <summary>Where Mode 2 Form 2's EDC is stored (over bytes 16..2347; zero means "not computed").</summary>
    public const int Form2EdcOffset = 2348;

    /// <summary>The submode byte's Form 2 bit.</summary>
    public const byte SubmodeForm2 = 0x20;

    /// <summary>The sync pattern that opens every data sector.</summary>
    public static ReadOnlySpan<byte> Sync => [0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00];

    /// <summary>CD audio as a WAV file: 44.1 kHz, 16-bit, stereo.</summary>
    public const int AudioSampleRate = 44100;

    /// <summary>Bytes of the canonical RIFF/WAVE header (RIFF, fmt and data chunk heads).</summary>
    public const int WavHeaderSize = 44;

    /// <summary>Largest disc a sheet may describe: 1000 minutes (far more than any CD; a sheet's minutes have at most 3 digits).</summary>
    public const long MaxFrames = 1000L * FramesPerMinute;

    /// <summary>Largest CUE sheet read (real sheets are a few KiB).</summary>
    public const int MaxSheetBytes = 1 << 20;

    /// <summary>Most FILE entries.</summary>
    public const int MaxFiles = 99;
}
