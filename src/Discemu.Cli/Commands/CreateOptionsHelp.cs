using Discemu.Formats;

namespace Discemu.Cli.Commands;

/// <summary>Shared handling of <c>-o</c>: joining repeated options and printing <c>-o help</c>.</summary>
internal static class CreateOptionsHelp
{
    /// <summary>True when the options ask for help ("help" or "?").</summary>
    public static bool IsHelp(string[]? options)
        => options is not null && options.Any(o => o.Split(',').Any(p => p.Trim() is "help" or "?"));

    /// <summary>Prints the format's options and returns true when <paramref name="options"/> ask for help.</summary>
    public static bool TryPrint(TextWriter output, ImageFormat format, string[]? options)
    {
        if (!IsHelp(options)) return false;
        Print(output, format);
        return true;
    }

    /// <summary>Prints the options a format accepts, like "Supported raw options:".</summary>
    public static void Print(TextWriter output, ImageFormat format)
    {
        var options = format.CreateOptions.ToList();
        if (!options.Any(o => o.Name == "size")) options.Add(new CreateOptionInfo("size", "size", "Virtual disk size"));
        output.WriteLine($"Supported {format.Name} options:");
        foreach (var o in options.OrderBy(o => o.Name, StringComparer.Ordinal))
            output.WriteLine($"  {$"{o.Name}=<{o.Type}>",-22} - {o.Help}");
    }
}
