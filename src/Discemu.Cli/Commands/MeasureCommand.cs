using System.CommandLine;
using Discemu.Cli.Output;
using Discemu.Formats;
using Discemu.Util;

namespace Discemu.Cli.Commands;

/// <summary><c>measure [--output=ofmt] [-O output_fmt] [-o options] [--size N | [-f fmt] filename]</c></summary>
internal static class MeasureCommand
{
    public static Command Build(CliContext ctx)
    {
        var output = CommonOptions.Output();
        var outFormat = CommonOptions.Format("-O", "Output format to measure for (default raw)");
        var options = CommonOptions.CreateOptions();
        var size = new Option<string?>("--size") { Description = "Measure a new image of this size", HelpName = "N" };
        var format = CommonOptions.Format();
        var share = CommonOptions.ForceShare();
        var file = new Argument<string?>("filename") { Description = "Image to measure converting", Arity = ArgumentArity.ZeroOrOne };
        var cmd = new Command("measure", "Compute the file size needed for an image") { output, outFormat, options, size, format, share, file };
        cmd.SetAction(parse => ctx.Guard(() =>
        {
            var fmt = ctx.Registry.Find(parse.GetValue(outFormat) ?? "raw");
            var optionTexts = parse.GetValue(options);
            if (CreateOptionsHelp.TryPrint(ctx.Out, fmt, optionTexts)) return 0;
            string? path = parse.GetValue(file);
            string? sizeText = parse.GetValue(size);
            if (path is not null && sizeText is not null) throw new BadArgumentException("--size N cannot be used together with a filename.");
            if (path is null && sizeText is null) throw new BadArgumentException("Either --size N or one filename must be specified.");
            var opts = CreateOptions.Parse(optionTexts ?? []);
            MeasureResult result;
            if (path is not null)
            {
                using var source = ctx.Open(path, ctx.FormatOption(parse, format));
                result = fmt.Measure(source.Length, source, opts);
            }
            else result = fmt.Measure(SizeParser.Parse(sizeText!), null, opts);
            if (parse.GetValue(output) == "json")
            {
                JsonOut.Write(ctx.Out, w =>
                {
                    w.WriteStartObject();
                    if (result.BitmapsSize is { } bitmaps) w.WriteNumber("bitmaps", bitmaps);
                    w.WriteNumber("required", result.Required);
                    w.WriteNumber("fully-allocated", result.FullyAllocated);
                    w.WriteEndObject();
                });
            }
            else
            {
                ctx.Out.WriteLine($"required size: {result.Required}");
                ctx.Out.WriteLine($"fully allocated size: {result.FullyAllocated}");
                if (result.BitmapsSize is { } bitmaps) ctx.Out.WriteLine($"bitmaps size: {bitmaps}");
            }
            return 0;
        }, file: parse.GetValue(file)));
        return cmd;
    }
}
