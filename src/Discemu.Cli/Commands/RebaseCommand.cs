using System.CommandLine;
using Discemu.Formats;
using Discemu.Operations;

namespace Discemu.Cli.Commands;

/// <summary><c>rebase [-q] [-f fmt] [-t cache] [-T src_cache] [-p] [-u] [-U] -b backing_file [-F backing_fmt] filename</c></summary>
internal static class RebaseCommand
{
    public static Command Build(CliContext ctx)
    {
        var format = CommonOptions.Format();
        var unsafeMode = new Option<bool>("-u") { Description = "Unsafe: only change the reference, copy nothing" };
        var backing = new Option<string>("-b") { Description = "New backing file (\"\" removes the backing file)", HelpName = "backing_file", Required = true };
        var backingFormat = CommonOptions.Format("-F", "New backing file format (probed when omitted)");
        var progress = CommonOptions.Progress();
        var quiet = CommonOptions.Quiet();
        var share = CommonOptions.ForceShare();
        var cache = CommonOptions.Cache("-t");
        var srcCache = CommonOptions.Cache("-T");
        var file = CommonOptions.File();
        var cmd = new Command("rebase", "Change an image's backing file") { format, unsafeMode, backing, backingFormat, progress, quiet, share, cache, srcCache, file };
        cmd.SetAction(parse => ctx.Guard(() =>
        {
            string path = parse.GetValue(file)!;
            string? newName = parse.GetValue(backing) is { Length: > 0 } n ? n : null;
            string? newFormat = ctx.FormatOption(parse, backingFormat);
            bool isUnsafe = parse.GetValue(unsafeMode);
            using var image = ctx.Open(path, ctx.FormatOption(parse, format), writable: true, openBacking: !isUnsafe);
            if (image is not IBackingChangeable changeable)
                throw new NotSupportedException($"Format '{image.Format.Name}' does not support changing the backing file.");
            if (!isUnsafe)
            {
                if (image.BackingFileName is not null && image.Backing is null)
                    throw new ImageAccessException("The current backing file could not be opened.", path);
                DiskImage? newBacking = newName is null ? null : ctx.Open(DiskImage.ResolveRelative(path, newName), newFormat);
                try
                {
                    newFormat ??= newBacking?.Format.Name;
                    int granularity = image.ClusterSize is > 512 and <= 64 << 20 and var cs ? cs : 65536;
                    ctx.WithProgress(parse.GetValue(progress), "Rebasing",
                        cb => ImageRebaser.CopyDifferences(image, newBacking, granularity, cb));
                }
                finally { newBacking?.Dispose(); }
            }
            changeable.SetBackingFile(newName, newName is null ? null : newFormat);
            image.Flush();
            return 0;
        }, file: parse.GetValue(file)));
        return cmd;
    }
}
