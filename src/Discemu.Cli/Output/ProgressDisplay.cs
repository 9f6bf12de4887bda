using Discemu.Operations;
using Spectre.Console;

namespace Discemu.Cli.Output;

/// <summary>A Spectre.Console progress bar on stderr for <c>-p</c>.</summary>
internal static class ProgressDisplay
{
    /// <summary>Runs <paramref name="body"/>, feeding its progress callback to a bar on <paramref name="error"/>.</summary>
    public static T Run<T>(TextWriter error, string description, Func<ProgressCallback?, T> body)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(error),
            Ansi = AnsiSupport.Detect,
            Interactive = InteractionSupport.Detect,
        });
        return console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(description, maxValue: 100);
                var result = body((done, total) => task.Value = total <= 0 ? 100 : done * 100.0 / total);
                task.Value = 100;
                return result;
            });
    }
}
