using System.CommandLine;
using Discemu.Cli.Output;
using Discemu.FileSystems;

namespace Discemu.Cli.Commands;

/// <summary><c>tree IMAGE[:N][:/path]</c>: the directory tree drawn like the tree command, with its summary line.</summary>
internal static class TreeCommand
{
    public static Command Build(CliContext ctx)
    {
        var common = new FsCommon();
        var target = CommonOptions.File("IMAGE[:N][:/path]");
        var cmd = new Command("tree", "Show the directory tree of the file system in an image") { target };
        common.AddTo(cmd);
        cmd.SetAction(parse => ctx.Guard(() =>
        {
            var arg = ImagePathArgument.Parse(parse.GetValue(target)!);
            using var opened = common.Open(ctx, parse, arg);
            var fs = opened.FileSystem;
            string shown = LsCommand.NormalizePath(arg.InnerPath);
            var root = fs.Lookup(shown);
            using var output = new BufferedOutput(ctx.Out);
            output.WriteLine(LsCommand.Printable(shown) + Suffix(root));
            int dirs = 0, files = 0;
            if (root.IsDirectory) Draw(output, new WalkGuard(fs), root, shown, "", ref dirs, ref files);
            output.WriteLine();
            output.WriteLine($"{dirs} director{(dirs == 1 ? "y" : "ies")}, {files} file{(files == 1 ? "" : "s")}");
            return 0;
        }, file: parse.GetValue(target)));
        return cmd;
    }

    private static void Draw(TextWriter output, WalkGuard guard, FileSystemEntry dir, string shown, string indent, ref int dirs, ref int files)
    {
        var entries = guard.List(dir, shown);
        for (int i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            bool last = i == entries.Count - 1;
            output.WriteLine($"{indent}{(last ? "└── " : "├── ")}{LsCommand.Printable(e.Name)}{Suffix(e)}");
            if (e.IsDirectory)
            {
                dirs++;
                Draw(output, guard, e, shown.TrimEnd('/') + "/" + e.Name, indent + (last ? "    " : "│   "), ref dirs, ref files);
            }
            else files++;
        }
    }

    private static string Suffix(FileSystemEntry e)
        => e.Kind == FileSystemEntryKind.Symlink ? " -> " + LsCommand.Printable(e.SymlinkTarget ?? "") : "";
}
