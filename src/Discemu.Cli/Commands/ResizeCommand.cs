using System.CommandLine;
using Discemu.Util;

namespace Discemu.Cli.Commands;

/// <summary><c>resize [-f fmt] [--preallocation=prealloc] [-q] [--shrink] filename [+ | -]size</c></summary>
internal static class ResizeCommand
{
    public static Command Build(CliContext ctx)
    {
        var format = CommonOptions.Format();
        var shrink = new Option<bool>("--shrink") { Description = "Allow shrinking (data past the new end is lost)" };
        var prealloc = new Option<string?>("--preallocation") { Description = "Allocate the added space: off, falloc or full", HelpName = "prealloc" };
        var quiet = CommonOptions.Quiet();
        var file = CommonOptions.File();
        var size = new Argument<string>("size") { Description = "New size, or +N / -N relative to the current size" };
        var cmd = new Command("resize", "Change an image's virtual size") { format, shrink, prealloc, quiet, file, size };
        cmd.SetAction(parse => ctx.Guard(() =>
        {
            string mode = parse.GetValue(prealloc) ?? "off";
            if (mode is not ("off" or "falloc" or "full" or "metadata"))
                throw new BadArgumentException($"Invalid preallocation mode '{mode}'.");
            if (mode == "metadata") throw new NotSupportedException("Preallocation mode 'metadata' is not supported by resize.");
            string text = parse.GetValue(size)!;
            using var image = ctx.Open(parse.GetValue(file)!, ctx.FormatOption(parse, format), writable: true, openBacking: false);
            if ((image.Capabilities & Block.DeviceCapabilities.Resize) == 0)
                throw new NotSupportedException($"Image format driver does not support resize ({image.Format.Name}).");
            long current = image.Length;
            long target = text[0] switch
            {
                '+' => checked(current + SizeParser.Parse(text[1..])),
                '-' => current - SizeParser.Parse(text[1..]),
                _ => SizeParser.Parse(text),
            };
            if (target < 0) throw new BadArgumentException("New image size must be positive.");
            if (target < current && !parse.GetValue(shrink))
                throw new BadArgumentException("Use the --shrink option to perform a shrink operation.");
            if (target < current)
                ctx.Err.WriteLine($"{Cli.ToolName}: warning: Shrinking an image will delete all data beyond the shrunken image's end. Before performing such an operation, make sure there is no important data there.");
            image.Resize(target);
            if (target > current && mode != "off") Allocate(image, current, target - current, mode == "full");
            image.Flush();
            if (!parse.GetValue(quiet)) ctx.Out.WriteLine("Image resized.");
            return 0;
        }, file: parse.GetValue(file)));
        return cmd;
    }

    /// <summary>Allocates the grown range: literal zeros for full, write-zeroes without unmapping for falloc.</summary>
    private static void Allocate(Block.BlockDevice image, long offset, long length, bool full)
    {
        if (!full)
        {
            image.WriteZeroes(offset, length, mayUnmap: false);
            return;
        }
        var zeros = new byte[1 << 20];
        for (long end = offset + length; offset < end; offset += zeros.Length)
            image.Write(offset, zeros.AsSpan(0, (int)Math.Min(zeros.Length, end - offset)));
    }
}
