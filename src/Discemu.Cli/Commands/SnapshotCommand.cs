using System.CommandLine;
using Discemu.Cli.Output;
using Discemu.Formats;

namespace Discemu.Cli.Commands;

/// <summary><c>snapshot [-f fmt] [-U] [-q] (-l | -a snapshot | -c snapshot | -d snapshot) filename</c>, as qemu-img.</summary>
internal static class SnapshotCommand
{
    public static Command Build(CliContext ctx)
    {
        var format = CommonOptions.Format();
        var list = new Option<bool>("-l") { Description = "List the snapshots" };
        var apply = new Option<string?>("-a") { Description = "Revert the disk to a snapshot (by id, else name)", HelpName = "snapshot" };
        var create = new Option<string?>("-c") { Description = "Create a snapshot of the disk as it is now", HelpName = "snapshot" };
        var delete = new Option<string?>("-d") { Description = "Delete a snapshot (by id, else name)", HelpName = "snapshot" };
        var share = CommonOptions.ForceShare();
        var quiet = CommonOptions.Quiet();
        var file = CommonOptions.File();
        var cmd = new Command("snapshot", "List, create, apply or delete internal snapshots") { format, list, apply, create, delete, share, quiet, file };
        cmd.SetAction(parse => ctx.Guard(() =>
        {
            string? a = parse.GetValue(apply), c = parse.GetValue(create), d = parse.GetValue(delete);
            bool l = parse.GetValue(list);
            int actions = (l ? 1 : 0) + (a is null ? 0 : 1) + (c is null ? 0 : 1) + (d is null ? 0 : 1);
            if (actions > 1) throw new BadArgumentException("Cannot mix '-l', '-a', '-c', '-d'.");
            if (actions == 0) l = true; // qemu-img lists when no action is given
            string path = parse.GetValue(file)!;
            using var image = ctx.Open(path, ctx.FormatOption(parse, format), writable: !l, openBacking: false);
            if (l)
            {
                if (image is ISnapshotImage { Snapshots.Count: > 0 } snaps && !parse.GetValue(quiet))
                    HumanFormat.WriteSnapshots(ctx.Out, snaps.Snapshots);
                return 0;
            }
            if (image is not IEditableSnapshotImage editable)
                throw new UnsupportedFeatureException($"The {image.Format.Name} format has no internal snapshots.", path);
            if (c is not null) editable.CreateSnapshot(c);
            else if (a is not null) editable.ApplySnapshot(a);
            else editable.DeleteSnapshot(d!);
            image.Flush();
            return 0;
        }, file: parse.GetValue(file)));
        return cmd;
    }
}
