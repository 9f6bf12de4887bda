using System.CommandLine;

namespace Discemu.Cli.Commands;

/// <summary><c>mv IMAGE[:N]:/from /to</c>: moves or renames an entry inside the file system of an image (into <c>/to</c> when it is a directory).</summary>
internal static class MvCommand
{
    public static Command Build(CliContext ctx)
    {
        var common = new FsCommon();
        var source = new Argument<string>("IMAGE[:N]:/from") { Description = "The entry to move" };
        var dest = new Argument<string>("/to") { Description = "The new path (in the same file system; IMAGE[:N]:/to also accepted)" };
        var cmd = new Command("mv", "Move or rename a file or directory in the file system of an image") { source, dest };
        common.AddTo(cmd);
        cmd.SetAction(parse => ctx.Guard(() =>
        {
            var arg = ImagePathArgument.Parse(parse.GetValue(source)!);
            if (!arg.HasInnerPath) throw new BadArgumentException("mv needs IMAGE[:N]:/from.");
            string to = parse.GetValue(dest)!;
            if (!to.StartsWith('/'))
            {
                var t = ImagePathArgument.Parse(to);
                if (t.Image != arg.Image || t.Partition != arg.Partition) throw new BadArgumentException("mv moves inside one file system; the target must be /path.");
                to = t.InnerPath;
            }
            var (opened, fs) = FsEdit.OpenWritable(ctx, parse, common, arg);
            using (opened)
            {
                var src = opened.FileSystem.Lookup(arg.InnerPath);
                var target = opened.FileSystem.TryLookup(to);
                if (target is { IsDirectory: true } && !ReferenceEquals(target, src) && !(src.IsDirectory && target.Identity is not null && Equals(target.Identity, src.Identity)))
                    to = FsEdit.Join(to, src.Name);
                fs.Move(arg.InnerPath, to, replace: true);
                fs.Flush();
            }
            return 0;
        }));
        return cmd;
    }
}
