using System.CommandLine;
using Discemu.Fuse;

namespace Discemu.Cli.Commands;

/// <summary><c>umount [-l] MOUNTPOINT</c>: unmounts a <c>discemu mount</c> (umount2 as root, else fusermount3 -u); the serving process then exits.</summary>
internal static class UmountCommand
{
    public static Command Build(CliContext ctx)
    {
        var lazy = new Option<bool>("-l", "--lazy") { Description = "Detach now even when busy; finish when the last user is gone" };
        var mountPoint = new Argument<string>("MOUNTPOINT") { Description = "Where the image is mounted" };
        var cmd = new Command("umount", "Unmount an image mounted with 'discemu mount'") { lazy, mountPoint };
        cmd.SetAction(parse => ctx.Guard(() =>
        {
            FuseServer.UnmountPath(parse.GetValue(mountPoint)!, viaFusermount: false, lazyIfBusy: parse.GetValue(lazy));
            return 0;
        }, file: parse.GetValue(mountPoint)));
        return cmd;
    }
}
