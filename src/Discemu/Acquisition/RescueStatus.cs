namespace Discemu.Acquisition;

/// <summary>
/// The state of a block of the source in a rescue map. The values are the characters GNU ddrescue
/// writes in a mapfile's block list.
/// </summary>
public enum RescueBlockStatus : byte
{
    /// <summary>Not read yet (<c>?</c>).</summary>
    NonTried = (byte)'?',
    /// <summary>A large read failed here; its edges have not been trimmed yet (<c>*</c>).</summary>
    NonTrimmed = (byte)'*',
    /// <summary>Trimmed; the inside still has to be read sector by sector (<c>/</c>).</summary>
    NonScraped = (byte)'/',
    /// <summary>Read sector by sector and failed: bad sectors (<c>-</c>).</summary>
    BadSector = (byte)'-',
    /// <summary>Read and written to the destination (<c>+</c>).</summary>
    Finished = (byte)'+',
}

/// <summary>
/// What a rescue is doing, as recorded in a mapfile's status line (GNU ddrescue's characters).
/// </summary>
public enum RescuePhase : byte
{
    /// <summary>Copying non-tried blocks (<c>?</c>).</summary>
    Copying = (byte)'?',
    /// <summary>Trimming non-trimmed blocks (<c>*</c>).</summary>
    Trimming = (byte)'*',
    /// <summary>Scraping non-scraped blocks (<c>/</c>).</summary>
    Scraping = (byte)'/',
    /// <summary>Retrying bad sectors (<c>-</c>).</summary>
    Retrying = (byte)'-',
    /// <summary>ddrescue's fill mode (<c>F</c>); read from mapfiles, never written by Discemu.</summary>
    Filling = (byte)'F',
    /// <summary>ddrescue's generate mode (<c>G</c>); read from mapfiles, never written by Discemu.</summary>
    Generating = (byte)'G',
    /// <summary>Finished (<c>+</c>).</summary>
    Finished = (byte)'+',
}

/// <summary>One block of a rescue map: a byte range of the source and its state.</summary>
/// <param name="Offset">First byte.</param>
/// <param name="Length">Size in bytes (positive).</param>
/// <param name="Status">What is known about the range.</param>
public readonly record struct RescueBlock(long Offset, long Length, RescueBlockStatus Status)
{
    /// <summary>The offset just past the block.</summary>
    public long End => Offset + Length;
}

/// <summary>Helpers for the status characters.</summary>
public static class RescueStatusChars
{
    /// <summary>True when <paramref name="c"/> is a block status character (<c>? * / - +</c>).</summary>
    public static bool IsBlockStatus(char c) => c is '?' or '*' or '/' or '-' or '+';

    /// <summary>True when <paramref name="c"/> is a status-line phase character (<c>? * / - F G +</c>).</summary>
    public static bool IsPhase(char c) => c is '?' or '*' or '/' or '-' or 'F' or 'G' or '+';

    /// <summary>
    /// How far the rescue has gone with a block: non-tried 0, non-trimmed 1, non-scraped 2, bad sector 3,
    /// finished 4. Joining a partial sector keeps the least processed state.
    /// </summary>
    public static int Progress(RescueBlockStatus status) => status switch
    {
        RescueBlockStatus.NonTried => 0,
        RescueBlockStatus.NonTrimmed => 1,
        RescueBlockStatus.NonScraped => 2,
        RescueBlockStatus.BadSector => 3,
        _ => 4,
    };

    /// <summary>A human name, as ddrescue's screen shows it.</summary>
    public static string Describe(RescueBlockStatus status) => status switch
    {
        RescueBlockStatus.NonTried => "non-tried",
        RescueBlockStatus.NonTrimmed => "non-trimmed",
        RescueBlockStatus.NonScraped => "non-scraped",
        RescueBlockStatus.BadSector => "bad-sector",
        _ => "finished",
    };
}
