using System.Globalization;
using Discemu.Acquisition;
using Discemu.Util;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Discemu.Cli.Output;

/// <summary>
/// Progress of <c>acquire</c> on stderr: a live Spectre.Console panel (position, rescued, rates, error counts,
/// phase, time left) when stderr is a terminal; otherwise one plain line per stage change and every few seconds.
/// </summary>
internal static class AcquireProgress
{
    /// <summary>Seconds between plain lines within a stage.</summary>
    private static readonly TimeSpan PlainInterval = TimeSpan.FromSeconds(5);

    /// <summary>Runs <paramref name="body"/> with a progress callback suited to <paramref name="error"/> (null when quiet).</summary>
    public static T Run<T>(TextWriter error, bool quiet, Func<Action<AcquisitionProgress>?, T> body)
    {
        if (quiet) return body(null);
        if (ReferenceEquals(error, Console.Error) && !Console.IsErrorRedirected) return RunLive(error, body);
        return RunPlain(error, body);
    }

    private static T RunPlain<T>(TextWriter error, Func<Action<AcquisitionProgress>?, T> body)
    {
        var gate = new object();
        DateTime last = DateTime.MinValue;
        (AcquisitionStage, int, bool)? lastStage = null;
        return body(p =>
        {
            lock (gate)
            {
                var stage = (p.Stage, p.Pass, p.Forward);
                var now = DateTime.UtcNow;
                if (stage == lastStage && now - last < PlainInterval && p.Stage != AcquisitionStage.Finished) return;
                lastStage = stage;
                last = now;
                error.WriteLine($"{Cli.ToolName} acquire: {Line(p)}");
                error.Flush();
            }
        });
    }

    private static T RunLive<T>(TextWriter error, Func<Action<AcquisitionProgress>?, T> body)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(error),
            Ansi = AnsiSupport.Detect,
            Interactive = InteractionSupport.Detect,
        });
        T result = default!;
        console.Live(new Text("Starting..."))
            .AutoClear(false)
            .Start(ctx =>
            {
                result = body(p =>
                {
                    ctx.UpdateTarget(Panel(p));
                    ctx.Refresh();
                });
            });
        return result;
    }

    private static IRenderable Panel(AcquisitionProgress p)
    {
        var grid = new Grid().AddColumn().AddColumn().AddColumn();
        if (p.Stage is AcquisitionStage.Hashing or AcquisitionStage.VerifyingDestination or AcquisitionStage.VerifyingSource)
        {
            double pct = p.StageTotal > 0 ? p.StageDone * 100.0 / p.StageTotal : 100;
            grid.AddRow(Cell("done", $"{Size(p.StageDone)} of {Size(p.StageTotal)} ({pct:F2}%)"), Cell("rate", Rate(p.AverageRate)), Cell("time left", Time(p.Remaining)));
        }
        else
        {
            double pct = p.Size > 0 ? p.Rescued * 100.0 / p.Size : 100;
            grid.AddRow(Cell("ipos", Size(p.Position)), Cell("non-trimmed", Size(p.NonTrimmed)), Cell("current rate", Rate(p.CurrentRate)));
            grid.AddRow(Cell("non-tried", Size(p.NonTried)), Cell("non-scraped", Size(p.NonScraped)), Cell("average rate", Rate(p.AverageRate)));
            grid.AddRow(Cell("rescued", $"{Size(p.Rescued)} ({pct:F2}%)"), Cell("bad-sector", Size(p.BadSector)), Cell("run time", Time(p.Elapsed)));
            grid.AddRow(Cell("bad areas", p.BadAreas.ToString(CultureInfo.InvariantCulture)), Cell("read errors", p.ReadErrors.ToString(CultureInfo.InvariantCulture)), Cell("time left", Time(p.Remaining)));
            if (p.SlowReads > 0) grid.AddRow(Cell("slow reads", p.SlowReads.ToString(CultureInfo.InvariantCulture)), new Text(""), new Text(""));
        }
        return new Rows(grid, new Markup(Markup.Escape(Stage(p))));
    }

    private static Markup Cell(string label, string value) => new($"[grey]{Markup.Escape(label)}:[/] {Markup.Escape(value)}");

    /// <summary>One plain progress line.</summary>
    public static string Line(AcquisitionProgress p)
    {
        if (p.Stage is AcquisitionStage.Hashing or AcquisitionStage.VerifyingDestination or AcquisitionStage.VerifyingSource)
        {
            double pct = p.StageTotal > 0 ? p.StageDone * 100.0 / p.StageTotal : 100;
            return string.Create(CultureInfo.InvariantCulture,
                $"{Stage(p)} {Size(p.StageDone)} of {Size(p.StageTotal)} ({pct:F2}%), {Rate(p.AverageRate)}, {Time(p.Remaining)} left");
        }
        double rescued = p.Size > 0 ? p.Rescued * 100.0 / p.Size : 100;
        return string.Create(CultureInfo.InvariantCulture,
            $"{Stage(p)} pos {Size(p.Position)}, rescued {Size(p.Rescued)} of {Size(p.Size)} ({rescued:F2}%), bad {Size(p.BadSector)} in {p.BadAreas} areas, "
            + $"{p.ReadErrors} read errors, {Rate(p.CurrentRate)}, {Time(p.Remaining)} left");
    }

    private static string Stage(AcquisitionProgress p)
    {
        string dir = p.Forward ? "forwards" : "backwards";
        return p.Stage switch
        {
            AcquisitionStage.Copying => $"Copying non-tried blocks... Pass {p.Pass} ({dir})",
            AcquisitionStage.Trimming => $"Trimming failed blocks... ({dir})",
            AcquisitionStage.Scraping => $"Scraping failed blocks... ({dir})",
            AcquisitionStage.Retrying => $"Retrying bad sectors... Retry {p.Pass} ({dir})",
            AcquisitionStage.Sequential => "Reading in order (sequential mode)...",
            AcquisitionStage.Filling => "Filling unreadable areas...",
            AcquisitionStage.Hashing => "Hashing the destination...",
            AcquisitionStage.VerifyingDestination => "Verifying the destination...",
            AcquisitionStage.VerifyingSource => "Verifying the source...",
            _ => "Finished",
        };
    }

    private static string Size(long bytes) => SizeParser.Format(bytes);

    private static string Rate(double bytesPerSecond) => SizeParser.Format((long)bytesPerSecond) + "/s";

    private static string Time(TimeSpan? t) => t is not { } v ? "n/a"
        : v.TotalHours >= 1 ? string.Create(CultureInfo.InvariantCulture, $"{(int)v.TotalHours}h{v.Minutes:00}m")
        : v.TotalMinutes >= 1 ? string.Create(CultureInfo.InvariantCulture, $"{v.Minutes}m{v.Seconds:00}s")
        : string.Create(CultureInfo.InvariantCulture, $"{v.TotalSeconds:F0}s");
}
