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
            var (first, paths) = FsEdit.SameImage(parse.GetValue(targets)!);
            var (opened, fs) = FsEdit.OpenWritable(ctx, parse, common, first);
            using (opened)
            {
                try
                {
                    foreach (var path in paths)
                    {
                        var entry = opened.FileSystem.Lookup(path);
                        if (ReferenceEquals(entry, opened.FileSystem.Root) || LsCommand.NormalizePath(path) == "/")
                            throw new BadArgumentException("The root directory cannot be removed.", opened.FileSystem.DescribePath(path));
                        if (entry.IsDirectory && !parse.GetValue(recursive))
                            throw new BadArgumentException("Is a directory (use -r).", opened.FileSystem.DescribePath(path));
                        Remove(opened.FileSystem, fs, entry, path, 0);
                    }
                }
                finally
                {
                    fs.Flush();
                }
            }
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
