using System.CommandLine;
using System.Globalization;
using Discemu.Block;
using Discemu.Formats;
using Discemu.Operations;
using Discemu.Util;

namespace Discemu.Cli.Commands;

/// <summary><c>dd [-f fmt] [-O output_fmt] [-U] [bs=block_size] [count=blocks] [skip=blocks] if=input of=output</c></summary>
/// <remarks>As in qemu-img, the output holds min(count × bs, input size) − skip × bs bytes read from offset skip × bs.</remarks>
internal static class DdCommand
{
    public static Command Build(CliContext ctx)
    {
        var format = CommonOptions.Format();
        var outFormat = CommonOptions.Format("-O", "Output format (default raw)");
        var share = CommonOptions.ForceShare();
        var operands = new Argument<string[]>("operands") { Description = "bs=N count=N skip=N if=input of=output", Arity = ArgumentArity.ZeroOrMore };
        var cmd = new Command("dd", "Copy part of an image, dd style") { format, outFormat, share, operands };
        cmd.SetAction(parse => ctx.Guard(() =>
        {
            long bs = 512;
            long? count = null, skip = null;
            string? input = null, output = null;
            foreach (var op in parse.GetValue(operands) ?? [])
            {
                int eq = op.IndexOf('=');
                string key = eq < 0 ? op : op[..eq], value = eq < 0 ? "" : op[(eq + 1)..];
                switch (key)
                {
                    case "bs":
                        bs = SizeParser.Parse(value, "block size");
                        if (bs < 1 || bs > int.MaxValue) throw new BadArgumentException("Invalid bs specified. Must be between 1 and 2147483647.");
                        break;
                    case "count": count = ParseCount(value, "count"); break;
                    case "skip": skip = ParseCount(value, "skip"); break;
                    case "if": input = value; break;
                    case "of": output = value; break;
                    default: throw new BadArgumentException($"unrecognized operand {key}");
                }
            }
            if (string.IsNullOrEmpty(input) || string.IsNullOrEmpty(output)) throw new BadArgumentException("Must specify both input and output files.");
            var fmt = ctx.Registry.Find(parse.GetValue(outFormat) ?? "raw");
            using var source = ctx.Open(input, ctx.FormatOption(parse, format));
            long size = source.Length;
            if (count is { } c && (decimal)c * bs <= size) size = c * bs;
            long offset = 0;
            if (skip is { } s)
            {
                decimal off = (decimal)s * bs;
                if (off > size) throw new BadArgumentException("cannot skip to specified offset", input);
                offset = (long)off;
                size -= offset;
            }
            using var window = new SubRangeDevice(source, offset, size);
            using var target = fmt.Create(new ImageCreateRequest(output, size, CreateOptions.Empty, ctx.Opener));
            ImageCopier.Copy(window, target);
            return 0;
        }));
        return cmd;
    }

    private static long ParseCount(string value, string what)
        => long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long n)
            ? n : throw new BadArgumentException($"invalid number: '{value}' ({what})");
}
