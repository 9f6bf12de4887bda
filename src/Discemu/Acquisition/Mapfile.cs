using System.Globalization;
using System.Text;

namespace Discemu.Acquisition;

/// <summary>A rescue map with the status line of its mapfile: where the rescue was and what it was doing.</summary>
/// <param name="Map">The blocks.</param>
/// <param name="CurrentPosition">The position being tried (start of the block in a forward pass, end in a backward one).</param>
/// <param name="Phase">The phase being run.</param>
/// <param name="Pass">The pass of that phase (1 and up).</param>
public sealed record MapfileState(RescueMap Map, long CurrentPosition, RescuePhase Phase, int Pass);

/// <summary>The heading comments of a mapfile Discemu writes.</summary>
/// <param name="ToolName">Program name (<c>discemu</c>).</param>
/// <param name="ToolVersion">Program version.</param>
/// <param name="CommandLine">The command that runs the rescue.</param>
/// <param name="StartTime">When the run started.</param>
public sealed record MapfileHeader(string ToolName, string ToolVersion, string CommandLine, DateTimeOffset StartTime);

/// <summary>
/// Reads and writes GNU ddrescue mapfiles (see the ddrescue manual, "Mapfile structure"): heading
/// comments, a status line <c>current_pos current_status current_pass</c>, then the block list
/// <c>pos size status</c>. Numbers are C++ integer constants (decimal, <c>0x</c> hexadecimal or
/// <c>0</c>-prefixed octal); <c>#</c> at the start of a line or after whitespace starts a comment.
/// Files are replaced atomically (written to a temporary file, flushed, renamed over the old one).
/// </summary>
public static class Mapfile
{
    /// <summary>The largest mapfile read (bounded so a wrong file cannot exhaust memory).</summary>
    public const long MaxFileBytes = 256L << 20;

    /// <summary>Reads a mapfile.</summary>
    /// <exception cref="ImageAccessException">The file cannot be read or is too large.</exception>
    /// <exception cref="CorruptImageException">The file is not a valid mapfile.</exception>
    public static MapfileState Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string text;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists) throw new ImageAccessException("No such mapfile.", path);
            if (info.Length > MaxFileBytes) throw new ImageAccessException($"The mapfile is larger than {MaxFileBytes} bytes.", path);
            text = File.ReadAllText(path, Encoding.UTF8);
        }
        catch (IOException e) { throw new ImageAccessException(e.Message, path, e); }
        catch (UnauthorizedAccessException e) { throw new ImageAccessException("Permission denied.", path, e); }
        return Parse(text, path);
    }

    /// <summary>Parses mapfile text.</summary>
    /// <param name="text">The mapfile's content.</param>
    /// <param name="path">Names the file in errors.</param>
    /// <exception cref="CorruptImageException">The text is not a valid mapfile.</exception>
    public static MapfileState Parse(string text, string? path = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        long? position = null;
        var phase = RescuePhase.Copying;
        int pass = 1;
        var blocks = new List<RescueBlock>();
        int lineNumber = 0;
        foreach (var rawLine in text.Split('\n'))
        {
            lineNumber++;
            var fields = Fields(StripComment(rawLine));
            if (fields.Count == 0) continue;
            string where = $"line {lineNumber}";
            if (position is null)
            {
                if (fields.Count is < 2 or > 3) throw Corrupt($"{where}: the status line needs a position, a status and an optional pass.", path);
                position = ParseNumber(fields[0], where, path);
                phase = fields[1].Length == 1 && RescueStatusChars.IsPhase(fields[1][0])
                    ? (RescuePhase)fields[1][0]
                    : throw Corrupt($"{where}: invalid current status '{fields[1]}'.", path);
                if (fields.Count == 3 && (!int.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out pass) || pass < 1))
                    throw Corrupt($"{where}: invalid current pass '{fields[2]}'.", path);
                continue;
            }
            if (fields.Count != 3) throw Corrupt($"{where}: a block line needs a position, a size and a status.", path);
            long pos = ParseNumber(fields[0], where, path);
            long size = ParseNumber(fields[1], where, path);
            if (fields[2].Length != 1 || !RescueStatusChars.IsBlockStatus(fields[2][0])) throw Corrupt($"{where}: invalid block status '{fields[2]}'.", path);
            if (size <= 0) throw Corrupt($"{where}: the block size must be positive.", path);
            if (size > long.MaxValue - pos) throw Corrupt($"{where}: the block ends beyond the largest offset.", path);
            long expected = blocks.Count == 0 ? 0 : blocks[^1].End;
            if (blocks.Count == 0 && pos > 0) blocks.Add(new RescueBlock(0, pos, RescueBlockStatus.NonTried));
            else if (pos != expected) throw Corrupt($"{where}: the block at {pos} does not follow the previous one (which ends at {expected}).", path);
            blocks.Add(new RescueBlock(pos, size, (RescueBlockStatus)fields[2][0]));
        }
        if (position is null) throw Corrupt("The mapfile has no status line.", path);
        return new MapfileState(RescueMap.FromBlocks(blocks), position.Value, phase, pass);
    }

    /// <summary>Formats a mapfile the way GNU ddrescue writes one.</summary>
    /// <param name="state">The map and status line.</param>
    /// <param name="header">Heading comments.</param>
    /// <param name="now">The "current time" comment.</param>
    /// <param name="statusMessage">A comment describing the operation (for example "Copying non-tried blocks... Pass 1 (forwards)").</param>
    public static string Format(MapfileState state, MapfileHeader header, DateTimeOffset now, string statusMessage)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(header);
        var sb = new StringBuilder(256 + state.Map.Blocks.Count * 32);
        var ci = CultureInfo.InvariantCulture;
        sb.Append(ci, $"# Mapfile. Created by {OneLine(header.ToolName)} version {OneLine(header.ToolVersion)}\n");
        sb.Append(ci, $"# Command line: {OneLine(header.CommandLine)}\n");
        sb.Append(ci, $"# Start time:   {header.StartTime.ToUniversalTime():yyyy-MM-dd HH:mm:ss}\n");
        sb.Append(ci, $"# Current time: {now.ToUniversalTime():yyyy-MM-dd HH:mm:ss}\n");
        sb.Append(ci, $"# {OneLine(statusMessage)}\n");
        sb.Append("# current_pos  current_status  current_pass\n");
        sb.Append(ci, $"0x{state.CurrentPosition:X8}     {(char)state.Phase}               {state.Pass}\n");
        sb.Append("#      pos        size  status\n");
        foreach (var b in state.Map.Blocks)
            sb.Append(ci, $"0x{b.Offset:X8}  0x{b.Length:X8}  {(char)b.Status}\n");
        return sb.ToString();
    }

    /// <summary>
    /// Replaces the mapfile at <paramref name="path"/> atomically: the text goes to a temporary file in
    /// the same folder, is flushed to disk (unless <paramref name="flushToDisk"/> is false), and is renamed over
    /// the old file, so a crash at any moment leaves either the old or the new mapfile, never a torn one.
    /// </summary>
    /// <param name="path">The mapfile.</param>
    /// <param name="text">Its new content.</param>
    /// <param name="flushToDisk">fsync the new file before the rename (needed against power loss, not against a killed process).</param>
    /// <exception cref="ImageAccessException">The file cannot be written.</exception>
    public static void Save(string path, string text, bool flushToDisk = true)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(text);
        string temp = path + ".tmp";
        try
        {
            using (var fs = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                fs.Write(Encoding.UTF8.GetBytes(text));
                fs.Flush(flushToDisk);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch (IOException e) { throw new ImageAccessException(e.Message, path, e); }
        catch (UnauthorizedAccessException e) { throw new ImageAccessException("Permission denied.", path, e); }
    }

    /// <summary>The status message ddrescue shows for a phase and pass.</summary>
    public static string Describe(RescuePhase phase, int pass, bool forward) => phase switch
    {
        RescuePhase.Copying => $"Copying non-tried blocks... Pass {pass} ({Direction(forward)})",
        RescuePhase.Trimming => $"Trimming failed blocks... ({Direction(forward)})",
        RescuePhase.Scraping => $"Scraping failed blocks... ({Direction(forward)})",
        RescuePhase.Retrying => $"Retrying bad sectors... Retry {pass} ({Direction(forward)})",
        RescuePhase.Filling => "Filling specified blocks...",
        RescuePhase.Generating => "Generating approximate mapfile...",
        _ => "Finished",
    };

    private static string Direction(bool forward) => forward ? "forwards" : "backwards";

    private static string OneLine(string s) => s.ReplaceLineEndings(" ");

    /// <summary>Removes a comment: '#' at the start of the line or after whitespace.</summary>
    private static string StripComment(string line)
    {
        for (int i = 0; i < line.Length; i++)
            if (line[i] == '#' && (i == 0 || char.IsWhiteSpace(line[i - 1]))) return line[..i];
        return line;
    }

    private static List<string> Fields(string line)
        => [.. line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)];

    /// <summary>A non-negative C++ integer constant: decimal, 0x hexadecimal or 0-prefixed octal.</summary>
    private static long ParseNumber(string s, string where, string? path)
    {
        int radix = 10, start = 0;
        if (s.Length > 2 && s[0] == '0' && (s[1] is 'x' or 'X')) { radix = 16; start = 2; }
        else if (s.Length > 1 && s[0] == '0') { radix = 8; start = 1; }
        long value = 0;
        for (int i = start; i < s.Length; i++)
        {
            int digit = s[i] switch
            {
                >= '0' and <= '9' => s[i] - '0',
                >= 'a' and <= 'f' => s[i] - 'a' + 10,
                >= 'A' and <= 'F' => s[i] - 'A' + 10,
                _ => 99,
            };
            if (digit >= radix) throw Corrupt($"{where}: '{s}' is not a number.", path);
            if (value > (long.MaxValue - digit) / radix) throw Corrupt($"{where}: '{s}' is too large.", path);
            value = value * radix + digit;
        }
        return value;
    }

    private static CorruptImageException Corrupt(string message, string? path) => new(message, path);
}
