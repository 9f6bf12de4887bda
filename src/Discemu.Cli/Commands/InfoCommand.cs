using System.CommandLine;
using System.Text.Json;
using Discemu.Cli.Output;
using Discemu.Formats;

namespace Discemu.Cli.Commands;

/// <summary><c>info [-f fmt] [--output human|json] [--backing-chain] [-U] filename</c></summary>
internal static class InfoCommand
{
    public static Command Build(CliContext ctx)
    {
        var format = CommonOptions.Format();
        var output = CommonOptions.Output();
        var chain = new Option<bool>("--backing-chain") { Description = "Show every image of the backing chain" };
        var share = CommonOptions.ForceShare();
        var file = CommonOptions.File();
        var cmd = new Command("info", "Show information about an image") { format, output, chain, share, file };
        cmd.SetAction(parse => ctx.Guard(() =>
        {
            string path = parse.GetValue(file)!;
            bool wholeChain = parse.GetValue(chain);
            var layers = new List<(DiskImage Image, string Name)>();
            try
            {
                OpenLayers(ctx, path, ctx.FormatOption(parse, format), wholeChain, layers);
                Print(ctx, parse.GetValue(output) == "json", wholeChain, layers);
            }
            catch (MissingBackingFileException e)
            {
                // Names the missing file itself, as qemu-img does: no prefix with the top image.
                return ctx.Report(e, 1, null);
            }
            finally
            {
                foreach (var (layer, _) in layers) layer.Dispose();
            }
            return 0;
        }, file: parse.GetValue(file)));
        return cmd;
    }

    /// <summary>
    /// Opens the image and, for <c>--backing-chain</c>, each backing file in turn (each on its own,
    /// without its chain), so a missing one is named in qemu-img's words before anything is printed.
    /// </summary>
    private static void OpenLayers(CliContext ctx, string path, string? format, bool wholeChain, List<(DiskImage Image, string Name)> layers)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal) { Path.GetFullPath(path) };
        string name = path;
        string? layerFormat = format;
        string file = path;
        while (true)
        {
            var layer = ctx.Open(file, layerFormat, openBacking: false);
            layers.Add((layer, name));
            if (!wholeChain || layer.BackingFileName is not { } backing) return;
            name = CombinePath(name, backing);
            file = DiskImage.ResolveRelative(file, backing);
            layerFormat = layer.BackingFormatName;
            if (!File.Exists(file))
                throw new MissingBackingFileException($"Could not open '{name}': Could not open '{name}': No such file or directory");
            if (!seen.Add(Path.GetFullPath(file)))
                throw new CorruptImageException($"Backing chain loops back to '{name}'.", layer.Path);
            if (layers.Count >= ImageOpener.MaxChainDepth)
                throw new CorruptImageException($"Backing chain is deeper than {ImageOpener.MaxChainDepth} images.", path);
        }
    }

    private static void Print(CliContext ctx, bool json, bool wholeChain, List<(DiskImage Image, string Name)> layers)
    {
        if (json)
        {
            JsonOut.Write(ctx.Out, w =>
            {
                if (wholeChain) w.WriteStartArray();
                foreach (var (layer, n) in layers) WriteJson(w, layer, n);
                if (wholeChain) w.WriteEndArray();
            });
        }
        else
        {
            for (int i = 0; i < layers.Count; i++)
            {
                if (i > 0) ctx.Out.WriteLine();
                WriteHuman(ctx.Out, layers[i].Image, layers[i].Name);
            }
        }
    }

    /// <summary>Joins a stored backing name to the folder of the image that names it, keeping relative paths relative (as qemu-img prints them).</summary>
    public static string CombinePath(string imagePath, string backingName)
    {
        if (Path.IsPathRooted(backingName) || backingName.Contains("://", StringComparison.Ordinal)) return backingName;
        string? dir = Path.GetDirectoryName(imagePath);
        return string.IsNullOrEmpty(dir) ? backingName : Path.Combine(dir, backingName);
    }

    private static void WriteHuman(TextWriter o, DiskImage image, string name)
    {
        o.WriteLine($"image: {name}");
        o.WriteLine($"file format: {image.Format.Name}");
        o.WriteLine($"virtual size: {HumanFormat.SizeWithBytes(image.Length)}");
        o.WriteLine($"disk size: {(image.ActualSize is { } a ? Util.SizeParser.Format(a) : "unavailable")}");
        if (image.ClusterSize is { } cs) o.WriteLine($"cluster_size: {cs}");
        if (image.BackingFileName is { } backing)
        {
            string full = CombinePath(name, backing);
            o.WriteLine(full == backing ? $"backing file: {backing}" : $"backing file: {backing} (actual path: {full})");
            if (image.BackingFormatName is { } bf) o.WriteLine($"backing file format: {bf}");
        }
        if (image.IsDirty) o.WriteLine("cleanly shut down: no");
        if (image is ISnapshotImage { Snapshots.Count: > 0 } snaps) HumanFormat.WriteSnapshots(o, snaps.Snapshots);
        var specific = image.FormatSpecific;
        if (specific.Count > 0)
        {
            o.WriteLine("Format specific information:");
            HumanFormat.WriteTree(o, specific, 4);
        }
    }

    private static void WriteJson(Utf8JsonWriter w, DiskImage image, string name)
    {
        w.WriteStartObject();
        w.WriteNumber("virtual-size", image.Length);
        w.WriteString("filename", name);
        if (image.ClusterSize is { } cs) w.WriteNumber("cluster-size", cs);
        w.WriteString("format", image.Format.Name);
        if (image.ActualSize is { } a) w.WriteNumber("actual-size", a);
        if (image.BackingFileName is { } backing)
        {
            w.WriteString("backing-filename", backing);
            w.WriteString("full-backing-filename", CombinePath(name, backing));
            if (image.BackingFormatName is { } bf) w.WriteString("backing-filename-format", bf);
        }
        if (image is ISnapshotImage { Snapshots.Count: > 0 } snaps)
        {
            w.WriteStartArray("snapshots");
            foreach (var s in snaps.Snapshots) WriteSnapshotJson(w, s);
            w.WriteEndArray();
        }
        var specific = image.FormatSpecific;
        if (specific.Count > 0)
        {
            w.WriteStartObject("format-specific");
            w.WriteString("type", image.Format.Name);
            w.WritePropertyName("data");
            JsonOut.WriteValue(w, specific);
            w.WriteEndObject();
        }
        w.WriteBoolean("dirty-flag", image.IsDirty);
        w.WriteEndObject();
    }

    /// <summary>One snapshot with qemu-img's JSON field names.</summary>
    public static void WriteSnapshotJson(Utf8JsonWriter w, SnapshotInfo s)
    {
        w.WriteStartObject();
        w.WriteString("id", s.Id);
        w.WriteString("name", s.Name);
        w.WriteNumber("vm-state-size", s.VmStateSize);
        long ticks = s.Date.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        w.WriteNumber("date-sec", Math.DivRem(ticks, TimeSpan.TicksPerSecond, out long dateRest));
        w.WriteNumber("date-nsec", dateRest * 100);
        w.WriteNumber("vm-clock-sec", Math.DivRem(s.VmClock.Ticks, TimeSpan.TicksPerSecond, out long clockRest));
        w.WriteNumber("vm-clock-nsec", clockRest * 100);
        if (s.IcountOrMinusOne != ulong.MaxValue) w.WriteNumber("icount", s.IcountOrMinusOne);
        w.WriteEndObject();
    }

    /// <summary>A backing file of the chain does not exist (reported in qemu-img's words).</summary>
    private sealed class MissingBackingFileException(string message) : Exception(message);
}
