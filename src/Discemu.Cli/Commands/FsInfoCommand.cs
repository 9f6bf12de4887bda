using System.CommandLine;
using Discemu.Cli.Output;

namespace Discemu.Cli.Commands;

/// <summary><c>fsinfo [--output human|json] IMAGE</c>: the file system's own facts (volume ids, name sets, sessions, El Torito, isohybrid).</summary>
internal static class FsInfoCommand
{
    public static Command Build(CliContext ctx)
    {
        var common = new FsCommon();
        var output = CommonOptions.Output();
        var target = CommonOptions.File("IMAGE");
        var cmd = new Command("fsinfo", "Show what the file system in an image records about itself") { output, target };
        common.AddTo(cmd);
        cmd.SetAction(parse => ctx.Guard(() =>
        {
            var arg = ImagePathArgument.Parse(parse.GetValue(target)!);
            using var opened = common.Open(ctx, parse, arg);
            var fs = opened.FileSystem;
            var facts = new List<KeyValuePair<string, object?>>
            {
                new("file-system", fs.Type.Name),
                new("label", fs.Label),
            };
            facts.AddRange(fs.Info);
            if (parse.GetValue(output) == "json")
                JsonOut.Write(ctx.Out, w => JsonOut.WriteValue(w, facts));
            else
                HumanFormat.WriteTree(ctx.Out, facts, 0);
            return 0;
        }, file: parse.GetValue(target)));
        return cmd;
    }
}
