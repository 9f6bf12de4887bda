using System.CommandLine;
using Discemu.Cli.Output;
using Discemu.Formats;
using Discemu.Util;

namespace Discemu.Cli.Commands;

/// <summary><c>create [-q] [-f fmt] [-b backing_file [-F backing_fmt]] [-u] [-o options] filename [size]</c></summary>
internal static class CreateCommand
{
    public static Command Build(CliContext ctx)
    {
        var format = CommonOptions.Format("-f", "Image format (default raw)");
        var options = CommonOptions.CreateOptions();
        var backing = new Option<string?>("-b") { Description = "Backing file", HelpName = "backing_file" };
        var backingFormat = CommonOptions.Format("-F", "Backing file format (probed when omitted)");
        var unsafeBacking = new Option<bool>("-u") { Description = "Do not open the backing file (its size must then be given)" };
        var quiet = CommonOptions.Quiet();
        var file = new Argument<string?>("filename") { Description = "Image file to create", Arity = ArgumentArity.ZeroOrOne };
        var size = new Argument<string?>("size") { Description = "Virtual size (k, M, G, T, P, E suffixes)", Arity = ArgumentArity.ZeroOrOne };
        var cmd = new Command("create", "Create a new image") { format, options, backing, backingFormat, unsafeBacking, quiet, file, size };
        cmd.SetAction(parse => ctx.Guard(() =>
        {
            var fmt = ctx.Registry.Find(parse.GetValue(format) ?? "raw");
            var optionTexts = parse.GetValue(options);
            if (CreateOptionsHelp.TryPrint(ctx.Out, fmt, optionTexts)) return 0;
            string path = parse.GetValue(file) ?? throw new BadArgumentException("Expecting image file name.");
            var opts = CreateOptions.Parse(optionTexts ?? []);
            string? backingName = parse.GetValue(backing) ?? opts.GetString("backing_file");
            string? backingFmt = ctx.FormatOption(parse, backingFormat) ?? opts.GetString("backing_fmt");
            string? sizeText = parse.GetValue(size) ?? opts.GetString("size");
            long? virtualSize = sizeText is null ? null : SizeParser.Parse(sizeText);
            if (backingName is not null && !parse.GetValue(unsafeBacking))
            {
                // Open the backing file to check it and to learn its size and format.
                using var b = ctx.Open(DiskImage.ResolveRelative(path, backingName), backingFmt);
                backingFmt ??= b.Format.Name;
                virtualSize ??= b.Length;
            }
            if (virtualSize is null) throw new BadArgumentException("Image creation needs a size parameter.");
            var request = new ImageCreateRequest(path, virtualSize.Value, opts, ctx.Opener) { BackingFile = backingName, BackingFormat = backingFmt };
            using (var image = fmt.Create(request)) image.Flush();
            // Printed once the options were accepted, so a rejected option leaves one error line.
            if (!parse.GetValue(quiet)) ctx.Out.WriteLine(CreateSummary.Describe(path, fmt, CreateOptions.Parse(optionTexts ?? []), virtualSize.Value, backingName, backingFmt));
            return 0;
        }, file: parse.GetValue(file)));
        return cmd;
    }
}
