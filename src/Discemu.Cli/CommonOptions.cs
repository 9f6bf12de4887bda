using System.CommandLine;

namespace Discemu.Cli;

/// <summary>Builders for the options several commands share, spelled as in qemu-img.</summary>
internal static class CommonOptions
{
    public static Option<string?> Format(string name = "-f", string description = "Image format (probed when omitted)")
        => new(name) { Description = description, HelpName = "fmt" };

    public static Option<string> Output()
    {
        var option = new Option<string>("--output")
        {
            Description = "Output format",
            DefaultValueFactory = _ => "human",
            HelpName = "human|json",
        };
        option.AcceptOnlyFromAmong("human", "json");
        return option;
    }

    public static Option<bool> ForceShare() => new("-U", "--force-share") { Description = "Open the image in shared mode (accepted for compatibility; Discemu never locks images)" };

    public static Option<bool> Quiet() => new("-q") { Description = "Quiet mode: print no output except errors" };

    public static Option<bool> Progress() => new("-p") { Description = "Show progress on stderr" };

    public static Option<string?> Cache(string name) => new(name) { Description = "Cache mode (accepted for compatibility and ignored)", HelpName = "cache" };

    public static Option<string[]> CreateOptions() => new("-o")
    {
        Description = "Comma-separated format options (key=value); 'help' lists them",
        HelpName = "options",
        Arity = ArgumentArity.OneOrMore,
        AllowMultipleArgumentsPerToken = false,
    };

    public static Argument<string> File(string name = "filename")
    {
        var argument = new Argument<string>(name) { Description = "Image file" };
        argument.Validators.Add(result =>
        {
            foreach (var token in result.Tokens)
                if (token.Value.Length > 1 && token.Value[0] == '-') result.AddError($"unrecognized option '{token.Value}'");
        });
        return argument;
    }
}
