using System.CommandLine;
using System.Net;
using System.Runtime.InteropServices;
using Discemu.Block;
using Discemu.Formats;
using Discemu.Nbd;
using Discemu.Util;

namespace Discemu.Cli.Commands;

/// <summary>
/// <c>serve [-r] [--snapshot] [-l SNAPSHOT] [--export NAME=IMAGE]... [--bind ADDR] [--port N] [--socket PATH] [--memory SIZE] [-f FMT] [IMAGE...]</c>:
/// an NBD server until SIGINT/SIGTERM.
/// </summary>
internal static class ServeCommand
{
    /// <summary>The IANA port of NBD.</summary>
    private const int DefaultPort = 10809;

    public static Command Build(CliContext ctx)
    {
        var readOnly = new Option<bool>("-r", "--read-only") { Description = "Refuse writes" };
        var snapshot = new Option<bool>("--snapshot", "-s") { Description = "Writes go to a temporary in-memory overlay; the images are not modified" };
        var loadSnapshot = new Option<string?>("--load-snapshot", "-l") { Description = "Serve an internal snapshot of each image, read-only (snapshot.id=ID,snapshot.name=NAME, or an id or name)", HelpName = "snapshot_param" };
        var exports = new Option<string[]>("--export", "-x") { Description = "Serve IMAGE under NAME (repeatable)", HelpName = "NAME=IMAGE", AllowMultipleArgumentsPerToken = false };
        var bind = new Option<string?>("--bind", "-b") { Description = "Address to listen on (default 127.0.0.1)", HelpName = "addr" };
        var port = new Option<int?>("--port", "-p") { Description = $"TCP port (default {DefaultPort}; 0 picks a free one)", HelpName = "port" };
        var socket = new Option<string?>("--socket", "-k") { Description = "Listen on a Unix socket at this path (instead of TCP unless --port/--bind is given)", HelpName = "path" };
        var memory = new Option<string?>("--memory") { Description = "Also export a RAM disk of this size, named 'memory'", HelpName = "size" };
        var format = CommonOptions.Format();
        var images = new Argument<string[]>("image") { Arity = ArgumentArity.ZeroOrMore, Description = "Images to export, each under its file name" };
        var cmd = new Command("serve", "Serve images over NBD (TCP or Unix socket) until interrupted")
            { readOnly, snapshot, loadSnapshot, exports, bind, port, socket, memory, format, images };
        cmd.SetAction(parse => ctx.Guard(() =>
        {
            var specs = new List<(string Name, string Path)>();
            foreach (var path in parse.GetValue(images) ?? []) specs.Add((Path.GetFileName(path), path));
            foreach (var spec in parse.GetValue(exports) ?? [])
            {
                int eq = spec.IndexOf('=');
                if (eq < 0) throw new BadArgumentException($"--export takes NAME=IMAGE, not '{spec}'.");
                specs.Add((spec[..eq], spec[(eq + 1)..]));
            }
            string? memorySize = parse.GetValue(memory);
            if (specs.Count == 0 && memorySize is null) throw new BadArgumentException("Nothing to serve: give an IMAGE, --export NAME=IMAGE or --memory SIZE.");
            var names = specs.Select(s => s.Name).Concat(memorySize is null ? [] : ["memory"]).ToList();
            if (names.GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
                throw new BadArgumentException($"Two exports are named '{twice.Key}'.");
            var opened = new List<BlockDevice>();
            try
            {
                var list = new List<NbdExport>();
                bool ro = parse.GetValue(readOnly), snap = parse.GetValue(snapshot);
                string? fmt = ctx.FormatOption(parse, format);
                string? inner = SnapshotParameter.Parse(parse.GetValue(loadSnapshot));
                foreach (var (name, path) in specs)
                {
                    BlockDevice device;
                    bool writable = snap;
                    if (inner is not null)
                    {
                        // Like qemu-nbd -l: the snapshot is served read-only (or through an overlay with --snapshot).
                        var image = ctx.Open(path, fmt);
                        opened.Add(image);
                        device = SnapshotParameter.Open(image, inner);
                        if (snap) device = new OverlayDevice(device);
                    }
                    else device = OpenExport(ctx, path, fmt, ro, snap, out writable);
                    opened.Add(device);
                    list.Add(new NbdExport(name, device, readOnly: !writable, description: path));
                }
                if (memorySize is not null)
                {
                    var ram = new MemoryDevice(SizeParser.Parse(memorySize, "memory size"));
                    opened.Add(ram);
                    list.Add(new NbdExport("memory", ram, ro, "RAM disk"));
                }
                return Serve(ctx, list, parse.GetValue(bind), parse.GetValue(port), parse.GetValue(socket));
            }
            finally
            {
                for (int i = opened.Count - 1; i >= 0; i--) opened[i].Dispose(); // views before the images under them
            }
        }));
        return cmd;
    }

    private static BlockDevice OpenExport(CliContext ctx, string path, string? format, bool readOnly, bool snapshot, out bool writable)
    {
        if (readOnly || snapshot)
        {
            var image = ctx.Open(path, format);
            writable = snapshot;
            return snapshot ? new OverlayDevice(image) : image;
        }
        DiskImage rw;
        try { rw = ctx.Open(path, format, writable: true); }
        catch (Exception e) when (e is UnsupportedFeatureException or NotSupportedException)
        {
            ctx.Err.WriteLine($"{Cli.ToolName}: {path}: not writable in this format, serving read-only ({e.Message})");
            rw = ctx.Open(path, format);
        }
        writable = rw.CanWrite;
        return rw;
    }

    private static int Serve(CliContext ctx, List<NbdExport> exports, string? bind, int? port, string? socketPath)
    {
        using var stopped = new ManualResetEventSlim();
        // Requests run device I/O synchronously on pool threads: start with enough threads for several
        // connections' requests in flight instead of waiting for the pool to grow one thread at a time.
        ThreadPool.GetMinThreads(out int workers, out int io);
        ThreadPool.SetMinThreads(Math.Max(workers, 64), io);
        var server = new NbdServer(exports) { Log = line => ctx.Err.WriteLine($"{Cli.ToolName}: {line}") };
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        try
        {
            var uris = new List<string>();
            if (socketPath is null || bind is not null || port is not null)
            {
                var address = bind is null ? IPAddress.Loopback : ParseAddress(bind);
                var ep = server.ListenTcp(address, port ?? DefaultPort);
                string host = ep.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{ep.Address}]" : ep.Address.ToString();
                uris.AddRange(exports.Select(e => $"nbd://{host}:{ep.Port}/{Uri.EscapeDataString(e.Name)}"));
            }
            if (socketPath is not null)
            {
                server.ListenUnix(socketPath);
                string full = Path.GetFullPath(socketPath);
                uris.AddRange(exports.Select(e => $"nbd+unix:///{Uri.EscapeDataString(e.Name)}?socket={full}"));
            }
            foreach (var e in exports)
                ctx.Err.WriteLine($"{Cli.ToolName}: export '{e.Name}': {e.Device.Length} bytes, {(e.ReadOnly ? "read-only" : "writable")}");
            foreach (var uri in uris) ctx.Out.WriteLine(uri);
            ctx.Out.Flush();
            stopped.Wait();
        }
        finally
        {
            server.StopAsync().GetAwaiter().GetResult();
        }
        return 0;

        void Stop(PosixSignalContext signal)
        {
            signal.Cancel = true;
            stopped.Set();
        }
    }

    private static IPAddress ParseAddress(string text)
    {
        if (IPAddress.TryParse(text.Trim('[', ']'), out var address)) return address;
        try { return Dns.GetHostAddresses(text).First(); }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or InvalidOperationException)
        {
            throw new BadArgumentException($"Cannot resolve the bind address '{text}'.");
        }
    }
}
