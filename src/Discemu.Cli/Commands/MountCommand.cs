using System.CommandLine;
using System.Runtime.InteropServices;
using Discemu.Block;
using Discemu.FileSystems;
using Discemu.Formats;
using Discemu.Fuse;
using Discemu.Partitions;

namespace Discemu.Cli.Commands;

/// <summary>
/// <c>mount [-r] [--raw] [--overlay FILE] [-f fmt] [--type fstype] [--allow-other] [--daemon] IMAGE[:N] MOUNTPOINT</c>: serves
/// the file system inside the image (or, with --raw, the image's virtual disk as one file) through FUSE until unmounted.
/// </summary>
internal static class MountCommand
{
    public static Command Build(CliContext ctx)
    {
        var common = new FsCommon();
        var readOnly = new Option<bool>("-r", "--read-only") { Description = "Mount read-only (file systems Discemu cannot write are always read-only)" };
        var raw = new Option<bool>("--raw") { Description = "Block view: show the image's virtual disk (or partition N) as one file, IMAGE-NAME.raw" };
        var overlay = new Option<string?>("--overlay") { Description = "Keep writes out of the image: they go to a qcow2 overlay FILE backed by the image (created when missing)", HelpName = "FILE" };
        var allowOther = new Option<bool>("--allow-other") { Description = "Let other users access the mount (allow_other)" };
        var threads = new Option<int?>("--threads") { Description = "Request threads (default: twice the processor count, 4 to 16)", HelpName = "N" };
        var daemon = new Option<bool>("--daemon") { Description = "Run in the background: return once mounted (printing the mounted line); the background process serves until unmounted" };
        var noAutoUnmount = new Option<bool>("--no-auto-unmount") { Description = "Do not have fusermount3 unmount should discemu be killed (by default a killed mount leaves no dead mount point)" };
        var directIo = new Option<bool>("--direct-io") { Description = "Read-only mounts: no FUSE page cache (large sequential reads get faster, small ones slower; shared mmap fails)" };
        var image = CommonOptions.File("IMAGE[:N]");
        var mountPoint = new Argument<string>("MOUNTPOINT") { Description = "An existing directory" };
        var cmd = new Command("mount", "Mount the file system in an image (or with --raw the image's disk) through FUSE; runs until unmounted")
        {
            readOnly, raw, overlay, allowOther, threads, daemon, directIo, noAutoUnmount, image, mountPoint,
        };
        common.AddTo(cmd);
        cmd.SetAction(parse => ctx.Guard(() =>
        {
            if (parse.GetValue(daemon) && !MountDaemon.IsChild) return MountDaemon.Start(ctx, parse);
            var arg = ImagePathArgument.Parse(parse.GetValue(image)!);
            if (arg.HasInnerPath) throw new BadArgumentException("mount takes IMAGE[:N], not a path inside the file system.", arg.Image);
            string target = parse.GetValue(mountPoint)!;
            bool ro = parse.GetValue(readOnly);
            string? overlayPath = parse.GetValue(overlay);
            if (overlayPath is not null && ro) throw new BadArgumentException("--overlay and -r exclude each other.");
            var owned = new Stack<IDisposable>();
            try
            {
                DiskImage disk;
                try
                {
                    disk = OpenDisk(ctx, parse.GetValue(common.Format), arg.Image, overlayPath, writable: !ro);
                }
                catch (ImageAccessException e) when (!ro && overlayPath is null && e.InnerException is UnauthorizedAccessException)
                {
                    // As mount(8) does with a write-protected device: say so and mount read-only (a user mounting an ISO
                    // or a shared image they may only read should not need -r).
                    disk = OpenDisk(ctx, parse.GetValue(common.Format), arg.Image, null, writable: false);
                    ro = true;
                    ctx.Err.WriteLine($"{Cli.ToolName}: {arg.Image} is write-protected, mounting read-only");
                }
                owned.Push(disk);
                FuseView view;
                string what;
                if (parse.GetValue(raw))
                {
                    BlockDevice device = disk;
                    string name = Path.GetFileNameWithoutExtension(arg.Image);
                    if (arg.Partition is { } n)
                    {
                        var table = PartitionTableRegistry.Default.Open(disk, new PartitionTableOpenOptions { Path = arg.Image });
                        var part = table.Open(n);
                        owned.Push(part);
                        device = part;
                        name += $"-p{n}";
                    }
                    view = new RawView(device, name + ".raw", writable: !ro, File.GetLastWriteTimeUtc(arg.Image));
                    what = $"disk as {name}.raw";
                }
                else
                {
                    var volume = VolumeLocator.Open(disk, arg.Partition, new FileSystemOpenOptions
                    {
                        Type = parse.GetValue(common.Type),
                        Session = parse.GetValue(common.Session),
                        Names = parse.GetValue(common.Names),
                        DisplayPath = arg.Image,
                        Writable = !ro,
                    });
                    owned.Push(volume);
                    view = new FileSystemView(volume.FileSystem, writable: !ro);
                    what = $"{volume.FileSystem.Type.Name} file system";
                }
                owned.Push(view);
                var options = new FuseMountOptions
                {
                    Source = Path.GetFullPath(arg.Image),
                    AllowOther = parse.GetValue(allowOther),
                    Threads = parse.GetValue(threads) ?? new FuseMountOptions().Threads,
                    DirectIo = parse.GetValue(directIo),
                    AutoUnmount = !parse.GetValue(noAutoUnmount),
                    Log = ctx.Debug ? line => { lock (ctx.Err) ctx.Err.WriteLine($"{Cli.ToolName}: {line}"); } : null,
                };
                using var server = FuseServer.Mount(view, target, options);
                void Stop(PosixSignalContext c)
                {
                    c.Cancel = true;
                    try { server.Unmount(); }
                    catch (DiscemuException e) { lock (ctx.Err) ctx.Err.WriteLine($"{Cli.ToolName}: {e.Message}"); }
                }
                using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
                using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
                using var sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, Stop);
                ctx.Out.WriteLine($"mounted {what} of {arg.Image} at {server.MountPoint} ({(view.Writable ? "read-write" : "read-only")})");
                ctx.Out.Flush();
                if (MountDaemon.IsChild) MountDaemon.DetachStdio(ctx);
                server.Stopped.Wait();
                view.Flush();
                return 0;
            }
            finally
            {
                while (owned.Count > 0) owned.Pop().Dispose();
            }
        }, file: parse.GetValue(image)));
        return cmd;
    }

    /// <summary>The image, or with an overlay the qcow2 overlay over it (created on first use).</summary>
    private static DiskImage OpenDisk(CliContext ctx, string? format, string image, string? overlayPath, bool writable)
    {
        if (format is not null) format = ctx.Registry.Find(format).Name;
        if (overlayPath is null) return ctx.Open(image, format, writable);
        if (!File.Exists(overlayPath))
        {
            string baseFormat;
            long size;
            using (var b = ctx.Open(image, format))
            {
                baseFormat = b.Format.Name;
                size = b.Length;
            }
            var request = new ImageCreateRequest(overlayPath, size, CreateOptions.Parse([]), ctx.Opener)
            {
                BackingFile = Path.GetFullPath(image),
                BackingFormat = baseFormat,
            };
            using var created = ctx.Registry.Find("qcow2").Create(request);
            created.Flush();
        }
        return ctx.Open(overlayPath, "qcow2", writable: true);
    }
}
