using System.CommandLine;

namespace Discemu.Cli.Commands;

/// <summary><c>label IMAGE[:N] [LABEL] [--clear]</c>: prints, sets or removes the volume label.</summary>
internal static class LabelCommand
{
    public static Command Build(CliContext ctx)
    {
        var common = new FsCommon();
        var clear = new Option<bool>("--clear") { Description = "Remove the label" };
        var target = CommonOptions.File("IMAGE[:N]");
        var label = new Argument<string?>("LABEL") { Description = "The new label (printed when omitted)", Arity = ArgumentArity.ZeroOrOne };
        var cmd = new Command("label", "Print, set or remove the volume label of the file system in an image") { clear, target, label };
        common.AddTo(cmd);
        cmd.SetAction(parse => ctx.Guard(() =>
        {
            var arg = ImagePathArgument.Parse(parse.GetValue(target)!);
            string? value = parse.GetValue(label);
            bool remove = parse.GetValue(clear);
            if (value is null && !remove)
            {
                using var ro = common.Open(ctx, parse, arg);
                ctx.Out.WriteLine(ro.FileSystem.Label ?? "");
                return 0;
            }
            if (value is not null && remove) throw new BadArgumentException("Give a label or --clear, not both.");
            var (opened, fs) = FsEdit.OpenWritable(ctx, parse, common, arg);
            using (opened)
            {
                fs.SetLabel(remove ? null : value);
                fs.Flush();
            }
            return 0;
        }, file: parse.GetValue(target)));
        return cmd;
    }
}
