using System.CommandLine;
using Discemu.Cli.Output;
using Discemu.Formats;
using Discemu.Operations;

namespace Discemu.Cli;

/// <summary>What every command shares: the output writers, the image opener and error reporting.</summary>
internal sealed class CliContext(TextWriter stdout, TextWriter stderr, bool debug, Stream? binaryOut = null)
{
    /// <summary>Normal output.</summary>
    public TextWriter Out { get; } = stdout;

    /// <summary>Errors, warnings and progress.</summary>
    public TextWriter Err { get; } = stderr;

    /// <summary>
    /// Standard output as bytes (for <c>cat</c>): the stream the host gave, else the stream under <see cref="Out"/>
    /// (flushed first so text and bytes keep their order).
    /// </summary>
    /// <exception cref="NotSupportedException">Standard output cannot take bytes.</exception>
    public Stream OpenBinaryOut()
    {
        Out.Flush();
        if (binaryOut is not null) return binaryOut;
        if (Out is StreamWriter { BaseStream: var stream }) return stream;
        throw new NotSupportedException("Standard output cannot take binary data here.");
    }

    /// <summary>Show stack traces.</summary>
    public bool Debug { get; } = debug;

    /// <summary>Opens images.</summary>
    public ImageOpener Opener { get; } = ImageOpener.Default;

    /// <summary>The known formats.</summary>
    public FormatRegistry Registry => Opener.Registry;

    /// <summary>Opens an image.</summary>
    public DiskImage Open(string path, string? format, bool writable = false, bool openBacking = true)
        => Opener.Open(path, new ImageOpenOptions { Format = format, Writable = writable, OpenBacking = openBacking });

    /// <summary>Runs a command body and turns every error into one line on stderr and <paramref name="errorExit"/>.</summary>
    /// <param name="body">The command.</param>
    /// <param name="errorExit">Exit code for errors.</param>
    /// <param name="file">Prefixed to messages that do not name a file themselves.</param>
    public int Guard(Func<int> body, int errorExit = 1, string? file = null)
    {
        try
        {
            return body();
        }
        catch (Exception e)
        {
            return Report(e, errorExit, file);
        }
    }

    /// <summary>Prints <paramref name="e"/> as one line (plus the stack trace with --debug).</summary>
    public int Report(Exception e, int exitCode, string? file)
    {
        if (e is AggregateException { InnerExceptions.Count: 1 } agg) e = agg.InnerExceptions[0];
        string message = e switch
        {
            DiscemuException d when d.ImagePath is not null => d.Describe(),
            OperationCanceledException => "Operation cancelled.",
            _ => file is null ? e.Message : $"{file}: {e.Message}",
        };
        Err.WriteLine($"{Cli.ToolName}: {OneLine(message)}");
        if (Debug) Err.WriteLine(e.ToString());
        return exitCode;
    }

    private static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();

    /// <summary>Runs <paramref name="body"/> showing progress when <paramref name="show"/> (a bar on a terminal's stderr, else qemu-img's lines on stdout).</summary>
    public T WithProgress<T>(bool show, string description, Func<ProgressCallback?, T> body)
        => show ? ProgressDisplay.Run(Out, Err, description, body) : body(null);

    /// <summary>Reads the format option and checks it names a known format.</summary>
    public string? FormatOption(ParseResult parse, Option<string?> option)
    {
        var name = parse.GetValue(option);
        if (name is null) return null;
        return Registry.Find(name).Name;
    }
}
