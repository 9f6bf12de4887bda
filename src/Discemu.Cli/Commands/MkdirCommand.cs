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
            bool withParents = parse.GetValue(parents);
            FsEdit.EditEach(ctx, parse, common, parse.GetValue(targets)!, (view, fs, path) =>
            {
                if (!withParents)
                {
                    fs.CreateDirectory(path);
                    return;
                }
                string walk = "";
                foreach (var part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
                {
                    walk += "/" + part;
                    var e = view.TryLookup(walk);
                    if (e is null) fs.CreateDirectory(walk);
                    else if (!e.IsDirectory) throw new BadArgumentException("Not a directory.", view.DescribePath(walk));
                }
            });
            return 0;
        }));
        return cmd;
    }
}
