using System.CommandLine;
using Discemu.Cli.Output;
using Discemu.Formats;

namespace Discemu.Cli.Commands;

/// <summary><c>snapshot [-f fmt] [-U] -l filename</c> (listing only).</summary>
internal static class SnapshotCommand
{
    public static Command Build(CliContext ctx)
    {
        var format = CommonOptions.Format();
        var list = new Option<bool>("-l") { Description = "List the snapshots" };
        var apply = new Option<string?>("-a") { Description = "Apply a snapshot (not supported)", HelpName = "snapshot" };
        var create = new Option<string?>("-c") { Description = "Create a snapshot (not supported)", HelpName = "snapshot" };
        var delete = new Option<string?>("-d") { Description = "Delete a snapshot (not supported)", HelpName = "snapshot" };
        var share = CommonOptions.ForceShare();
        var quiet = CommonOptions.Quiet();
        var file = CommonOptions.File();
        var cmd = new Command("snapshot", "List internal snapshots") { format, list, apply, create, delete, share, quiet, file };
        cmd.SetAction(parse => ctx.Guard(() =>
        {
            if (parse.GetValue(apply) is not null || parse.GetValue(create) is not null || parse.GetValue(delete) is not null)
                throw new NotSupportedException("Only listing snapshots (-l) is supported.");
            if (!parse.GetValue(list)) throw new BadArgumentException("Expected -l.");
            using var image = ctx.Open(parse.GetValue(file)!, ctx.FormatOption(parse, format), openBacking: false);
            if (image is ISnapshotImage { Snapshots.Count: > 0 } snaps && !parse.GetValue(quiet))
                HumanFormat.WriteSnapshots(ctx.Out, snaps.Snapshots);
            return 0;
        }, file: parse.GetValue(file)));
        return cmd;
    }
}
