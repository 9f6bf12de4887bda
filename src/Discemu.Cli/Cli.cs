using System.CommandLine;
using System.Reflection;
using Discemu.Cli.Commands;

namespace Discemu.Cli;

/// <summary>The <c>discemu</c> command line: qemu-img's syntax over the Discemu library.</summary>
public static class Cli
{
    /// <summary>The tool's name as it appears in messages.</summary>
    public const string ToolName = "discemu";

    /// <summary>Runs the command line in-process and returns the exit code.</summary>
    /// <param name="args">The arguments, without the program name.</param>
    /// <param name="stdout">Where normal output goes.</param>
    /// <param name="stderr">Where errors, warnings and progress go.</param>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) => Run(args, stdout, stderr, null);

    /// <summary>Runs the command line in-process and returns the exit code.</summary>
    /// <param name="args">The arguments, without the program name.</param>
    /// <param name="stdout">Where normal output goes.</param>
    /// <param name="stderr">Where errors, warnings and progress go.</param>
    /// <param name="binaryStdout">Where binary output (<c>cat</c>) goes; null uses the stream under <paramref name="stdout"/>.</param>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, Stream? binaryStdout)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        var ctx = new CliContext(stdout, stderr, debug: args.Contains("--debug"), binaryStdout);
        try
        {
            if (args.Length > 0 && args[0] is "--version" or "-V")
            {
                stdout.WriteLine($"{ToolName} version {Version}");
                return 0;
            }
            var root = BuildRoot(ctx);
            string? problem = args.Length == 0 ? "Not enough arguments"
                : !args[0].StartsWith('-') && root.Subcommands.All(c => c.Name != args[0]) ? $"Command not found: {args[0]}"
                : null;
            if (problem is not null)
            {
                stderr.WriteLine($"{ToolName}: {problem}");
                stderr.WriteLine($"Try '{ToolName} --help' for more information");
                return 1;
            }
            var parse = root.Parse(args);
            bool wantsHelp = args.Any(a => a is "-h" or "--help" or "-?" or "/?" or "/h");
            if (parse.Errors.Count > 0 && !wantsHelp)
            {
                var first = parse.Errors.FirstOrDefault(e => e.Message.StartsWith("unrecognized option", StringComparison.Ordinal)) ?? parse.Errors[0];
                stderr.WriteLine($"{ToolName}: {first.Message}");
                stderr.WriteLine($"Try '{ToolName} --help' for more information");
                return 1;
            }
            return parse.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (Exception e)
        {
            return ctx.Report(e, 1, null);
        }
        finally
        {
            stdout.Flush();
            stderr.Flush();
        }
    }

    /// <summary>The informational version of the tool.</summary>
    public static string Version
    {
        get
        {
            var asm = typeof(Cli).Assembly;
            var info = asm.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
            if (info is not null && info.IndexOf('+') is var plus and > 0) info = info[..plus];
            return info ?? asm.GetName().Version?.ToString() ?? "0.0.0";
        }
    }

    private static Command BuildRoot(CliContext ctx)
    {
        // A plain command named after the tool (a RootCommand would take the assembly's name, Discemu.Cli).
        var root = new Command(ToolName, "Discemu disk image utility (qemu-img compatible syntax)");
        root.Options.Add(new System.CommandLine.Help.HelpOption());
        root.Options.Add(new Option<bool>("--debug") { Description = "Show stack traces for errors", Recursive = true });
        root.Subcommands.Add(InfoCommand.Build(ctx));
        root.Subcommands.Add(CreateCommand.Build(ctx));
        root.Subcommands.Add(ConvertCommand.Build(ctx));
        root.Subcommands.Add(CompareCommand.Build(ctx));
        root.Subcommands.Add(CheckCommand.Build(ctx));
        root.Subcommands.Add(MapCommand.Build(ctx));
        root.Subcommands.Add(MeasureCommand.Build(ctx));
        root.Subcommands.Add(ResizeCommand.Build(ctx));
        root.Subcommands.Add(CommitCommand.Build(ctx));
        root.Subcommands.Add(RebaseCommand.Build(ctx));
        root.Subcommands.Add(DdCommand.Build(ctx));
        root.Subcommands.Add(SnapshotCommand.Build(ctx));
        root.Subcommands.Add(VerifyCommand.Build(ctx));
        root.Subcommands.Add(PartCommand.Build(ctx));
        root.Subcommands.Add(LsCommand.Build(ctx));
        root.Subcommands.Add(CatCommand.Build(ctx));
        root.Subcommands.Add(GetCommand.Build(ctx));
        root.Subcommands.Add(TreeCommand.Build(ctx));
        root.Subcommands.Add(FsInfoCommand.Build(ctx));
        root.Subcommands.Add(PutCommand.Build(ctx));
        root.Subcommands.Add(RmCommand.Build(ctx));
        root.Subcommands.Add(MkdirCommand.Build(ctx));
        root.Subcommands.Add(MvCommand.Build(ctx));
        root.Subcommands.Add(AttribCommand.Build(ctx));
        root.Subcommands.Add(LabelCommand.Build(ctx));
        root.Subcommands.Add(AcquireCommand.Build(ctx));
        root.Subcommands.Add(MountCommand.Build(ctx));
        root.Subcommands.Add(UmountCommand.Build(ctx));
        root.Subcommands.Add(TracksCommand.Build(ctx));
        root.Subcommands.Add(ServeCommand.Build(ctx));
        root.Subcommands.Add(MkfsCommand.Build(ctx));
        root.Subcommands.Add(MkisoCommand.Build(ctx));
        return root;
    }
}
