using System.CommandLine;
using Discemu.Operations;

namespace Discemu.Cli.Commands;

/// <summary>
/// <c>get [--force] IMAGE:/path [DEST]</c>: copies a file or a whole tree out of an image (times kept; with
/// Rock Ridge also permissions and symbolic links). Like cp: into DEST when it is a directory, else as DEST.
/// </summary>
internal static class GetCommand
{
    public static Command Build(CliContext ctx)
    {
        var common = new FsCommon();
        var force = new Option<bool>("--force") { Description = "Overwrite existing files (directories are merged into)" };
        var target = CommonOptions.File("IMAGE:/path");
        var dest = new Argument<string?>("DEST") { Description = "Where to write (default: the current directory)", Arity = ArgumentArity.ZeroOrOne };
        var cmd = new Command("get", "Copy a file or directory tree out of the file system in an image") { force, target, dest };
        common.AddTo(cmd);
        cmd.SetAction(parse => ctx.Guard(() =>
        {
            var arg = ImagePathArgument.Parse(parse.GetValue(target)!);
            using var opened = common.Open(ctx, parse, arg);
            var fs = opened.FileSystem;
            var entry = fs.Lookup(arg.InnerPath);
            string? given = parse.GetValue(dest);
            bool isRoot = ReferenceEquals(entry, fs.Root);
            string destination;
            if (given is null || Directory.Exists(given))
            {
                string folder = given ?? ".";
                if (isRoot) destination = folder;
                else destination = Path.Join(folder, FileExtractor.SafeName(entry.Name)
                    ?? throw new BadArgumentException("The name cannot be a file name; give DEST.", fs.DescribePath(arg.InnerPath)));
            }
            else destination = given;
            var extractor = new FileExtractor(fs, new FileExtractOptions
            {
                Overwrite = parse.GetValue(force),
                Warning = message => ctx.Err.WriteLine($"{Cli.ToolName}: warning: {LsCommand.Printable(message)}"),
            });
            extractor.Extract(entry, destination);
            return 0;
        }, file: parse.GetValue(target)));
        return cmd;
    }
}
