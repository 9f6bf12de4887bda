using System.CommandLine;
using Discemu.Formats;
using Discemu.Operations;

namespace Discemu.Cli.Commands;

/// <summary><c>commit [-q] [-f fmt] [-t cache] [-b base] [-d] [-p] filename</c></summary>
internal static class CommitCommand
{
    public static Command Build(CliContext ctx)
    {
        var format = CommonOptions.Format();
        var baseOption = new Option<string?>("-b") { Description = "Commit into this image of the backing chain (implies -d)", HelpName = "base" };
        var keep = new Option<bool>("-d") { Description = "Do not empty the image after committing" };
        var progress = CommonOptions.Progress();
        var quiet = CommonOptions.Quiet();
        var cache = CommonOptions.Cache("-t");
        var rate = new Option<string?>("-r") { Description = "Rate limit (accepted for compatibility and ignored)", HelpName = "rate_limit" };
        var file = CommonOptions.File();
        var cmd = new Command("commit", "Write an image's changes into its backing file") { format, baseOption, keep, progress, quiet, cache, rate, file };
        cmd.SetAction(parse => ctx.Guard(() =>
        {
            string path = parse.GetValue(file)!;
            using var top = ctx.Open(path, ctx.FormatOption(parse, format), writable: true);
            if (top.BackingFileName is null) throw new BadArgumentException("Image does not have a backing file.", path);
            if (top.Backing is null) throw new ImageAccessException("The backing file could not be opened.", path);
            string? baseName = parse.GetValue(baseOption);
            var (layer, depth) = baseName is null ? (top.Backing, 1) : FindLayer(top, baseName, path);
            bool empty = baseName is null && !parse.GetValue(keep);
            using (var target = ctx.Open(layer.Path, layer.Format.Name, writable: true))
            {
                ctx.WithProgress(parse.GetValue(progress), "Committing",
                    cb => ImageCommitter.Commit(top, target, depth, emptyTop: empty, progress: cb));
            }
            if (!parse.GetValue(quiet)) ctx.Out.WriteLine("Image committed.");
            return 0;
        }, file: parse.GetValue(file)));
        return cmd;
    }

    private static (DiskImage Layer, int Depth) FindLayer(DiskImage top, string baseName, string path)
    {
        var candidates = new HashSet<string>(StringComparer.Ordinal) { Path.GetFullPath(baseName), Path.GetFullPath(DiskImage.ResolveRelative(path, baseName)) };
        int depth = 1;
        for (var layer = top.Backing; layer is not null; layer = layer.Backing, depth++)
            if (candidates.Contains(Path.GetFullPath(layer.Path))) return (layer, depth);
        throw new BadArgumentException($"Did not find '{baseName}' in the backing chain of '{path}'.");
    }
}
