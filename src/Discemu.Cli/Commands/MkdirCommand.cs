using System.CommandLine;

namespace Discemu.Cli.Commands;

/// <summary><c>mkdir [-p] IMAGE[:N]:/path...</c>: creates directories in the file system of an image.</summary>
internal static class MkdirCommand
{
    public static Command Build(CliContext ctx)
    {
        var common = new FsCommon();
        var parents = new Option<bool>("-p", "--parents") { Description = "Create missing parents; no error when the directory exists" };
        var targets = new Argument<string[]>("IMAGE[:N]:/path") { Description = "Directories to create", Arity = ArgumentArity.OneOrMore };
        var cmd = new Command("mkdir", "Create directories in the file system of an image") { parents, targets };
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
                        if (!parse.GetValue(parents))
                        {
                            fs.CreateDirectory(path);
                            continue;
                        }
                        string walk = "";
                        foreach (var part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
                        {
                            walk += "/" + part;
                            var e = opened.FileSystem.TryLookup(walk);
                            if (e is null) fs.CreateDirectory(walk);
                            else if (!e.IsDirectory) throw new BadArgumentException("Not a directory.", opened.FileSystem.DescribePath(walk));
                        }
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
}
