using System.Globalization;
using Discemu.Operations;
using Spectre.Console;

namespace Discemu.Cli.Output;

/// <summary>
/// Progress for <c>-p</c>: a Spectre.Console bar when stderr is a terminal; otherwise qemu-img's
/// plain lines on stdout ("    (12.34/100%)" each ended by a carriage return, a newline at the
/// end), so scripts and logs see it as they would from qemu-img.
/// </summary>
internal static class ProgressDisplay
{
    /// <summary>qemu-img prints again once the percentage moved by at least this much.</summary>
    private const double PrintStep = 1.0;

    /// <summary>Runs <paramref name="body"/>, showing its progress callback on a bar or as plain lines.</summary>
    public static T Run<T>(TextWriter output, TextWriter error, string description, Func<ProgressCallback?, T> body)
        => IsTerminal(error) ? RunBar(error, description, body) : RunPlain(output, body);

    /// <summary>True when <paramref name="error"/> is the process's stderr and that is a terminal.</summary>
    private static bool IsTerminal(TextWriter error) => ReferenceEquals(error, Console.Error) && !Console.IsErrorRedirected;

    /// <summary>qemu-img's form: 0.00 first, then a line per step, then 100.00 twice and a newline.</summary>
    public static T RunPlain<T>(TextWriter output, Func<ProgressCallback?, T> body)
    {
        var gate = new object();
        double last = 0;
        void Print(double percent) => output.Write(string.Create(CultureInfo.InvariantCulture, $"    ({percent:F2}/100%)\r"));
        Print(0);
        output.Flush();
        var result = body((done, total) =>
        {
            double percent = total <= 0 ? 100 : Math.Clamp(done * 100.0 / total, 0, 100);
            lock (gate)
            {
                if (percent - last < PrintStep && !(percent >= 100 && last < 100)) return;
                last = percent;
                Print(percent);
                output.Flush();
            }
        });
        lock (gate)
        {
            if (last < 100) Print(100);
            Print(100);
            output.Write('\n');
            output.Flush();
        }
        return result;
    }

    private static T RunBar<T>(TextWriter error, string description, Func<ProgressCallback?, T> body)
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
