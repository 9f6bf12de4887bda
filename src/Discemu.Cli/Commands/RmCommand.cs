using System.CommandLine;
using Discemu.FileSystems;

namespace Discemu.Cli.Commands;

/// <summary><c>rm [-r] IMAGE[:N]:/path...</c>: removes files (and with -r directory trees) from the file system of an image.</summary>
internal static class RmCommand
{
    public static Command Build(CliContext ctx)
    {
        var common = new FsCommon();
        var recursive = new Option<bool>("-r", "-R", "--recursive") { Description = "Remove directories and their content" };
        var targets = new Argument<string[]>("IMAGE[:N]:/path") { Description = "What to remove", Arity = ArgumentArity.OneOrMore };
        var cmd = new Command("rm", "Remove files or directories from the file system of an image") { recursive, targets };
        common.AddTo(cmd);
        cmd.SetAction(parse => ctx.Guard(() =>
        {
            bool recurse = parse.GetValue(recursive);
            FsEdit.EditEach(ctx, parse, common, parse.GetValue(targets)!, (view, fs, path) =>
            {
                var entry = view.Lookup(path);
                if (ReferenceEquals(entry, view.Root) || LsCommand.NormalizePath(path) == "/")
                    throw new BadArgumentException("The root directory cannot be removed.", view.DescribePath(path));
                if (entry.IsDirectory && !recurse)
                    throw new BadArgumentException("Is a directory (use -r).", view.DescribePath(path));
                Remove(view, fs, entry, path, 0);
            });
            return 0;
        }));
        return cmd;
    }

    private static void Remove(FileSystem view, IWritableFileSystem fs, FileSystemEntry entry, string path, int depth)
    {
        if (depth > FileSystem.MaxPathDepth) throw new CorruptImageException("The directory tree is too deep.", view.DisplayPath);
        if (entry.IsDirectory)
            foreach (var child in view.ListDirectory(entry))
                Remove(view, fs, child, FsEdit.Join(path, child.Name), depth + 1);
        fs.Delete(path);
    }
}
