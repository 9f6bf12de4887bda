using System.CommandLine;
using System.Text;
using Discemu.Cli.Output;
using Discemu.Formats;
using Discemu.Operations;
using Discemu.Util;

namespace Discemu.Cli.Commands;

/// <summary><c>map [-f fmt] [--start-offset=offset] [--max-length=len] [--output=ofmt] [-U] filename</c></summary>
internal static class MapCommand
{
    public static Command Build(CliContext ctx)
    {
        var format = CommonOptions.Format();
        var output = CommonOptions.Output();
        var start = new Option<string?>("--start-offset") { Description = "First byte to map", HelpName = "offset" };
        var maxLength = new Option<string?>("--max-length") { Description = "Bytes to map at most", HelpName = "len" };
        var share = CommonOptions.ForceShare();
        var file = CommonOptions.File();
        var cmd = new Command("map", "Show how an image's data is stored") { format, output, start, maxLength, share, file };
        cmd.SetAction(parse => ctx.Guard(() =>
        {
            string path = parse.GetValue(file)!;
            long from = parse.GetValue(start) is { } s ? SizeParser.Parse(s, "start offset") : 0;
            long? length = parse.GetValue(maxLength) is { } l ? SizeParser.Parse(l, "max length") : null;
            using var image = ctx.Open(path, ctx.FormatOption(parse, format));
            var entries = from >= image.Length
                ? [new MapEntry(from, 0, 0, false, false, false, false, null)]
                : ImageMapper.Map(image, from, length).ToList();
            if (parse.GetValue(output) == "json")
            {
                ctx.Out.Write(Json(entries));
                return 0;
            }
            return WriteHuman(ctx, entries, LayerNames(image, path));
        }, file: parse.GetValue(file)));
        return cmd;
    }

    /// <summary>The display name of every layer of the chain, by depth.</summary>
    private static List<string> LayerNames(DiskImage image, string path)
    {
        var names = new List<string>();
        string name = path;
        for (DiskImage? layer = image; layer is not null; layer = layer.Backing)
        {
            names.Add(name);
            if (layer.BackingFileName is { } b) name = InfoCommand.CombinePath(name, b);
        }
        return names;
    }

    /// <summary>qemu-img's JSON map: one entry per line inside brackets.</summary>
    public static string Json(IReadOnlyList<MapEntry> entries)
    {
        var sb = new StringBuilder("[");
        for (int i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            if (i > 0) sb.Append(",\n");
            sb.Append($"{{ \"start\": {e.Start}, \"length\": {e.Length}, \"depth\": {e.Depth}, \"present\": {B(e.Present)}, \"zero\": {B(e.Zero)}, \"data\": {B(e.Data)}, \"compressed\": {B(e.Compressed)}");
            if (e.Offset is { } off) sb.Append($", \"offset\": {off}");
            sb.Append('}');
        }
        return sb.Append("]\n").ToString();
    }

    private static string B(bool value) => value ? "true" : "false";

    private static int WriteHuman(CliContext ctx, IReadOnlyList<MapEntry> entries, List<string> names)
    {
        var rows = new List<(long Start, long Length, long Offset, int Depth)>();
        foreach (var e in entries)
        {
            if (!e.Data || e.Zero) continue;
            if (e.Offset is not { } off)
            {
                ctx.Err.WriteLine($"{Cli.ToolName}: File contains external, encrypted or compressed clusters.");
                return 1;
            }
            if (rows.Count > 0 && rows[^1] is var last && last.Depth == e.Depth && last.Start + last.Length == e.Start && last.Offset + last.Length == off)
                rows[^1] = last with { Length = last.Length + e.Length };
            else rows.Add((e.Start, e.Length, off, e.Depth));
        }
        ctx.Out.WriteLine($"{"Offset",-16}{"Length",-16}{"Mapped to",-16}File");
        foreach (var r in rows)
        {
            string fileName = r.Depth < names.Count ? names[r.Depth] : names[^1];
            ctx.Out.WriteLine($"{HumanFormat.Hex(r.Start),-16}{HumanFormat.Hex(r.Length),-16}{HumanFormat.Hex(r.Offset),-16}{fileName}");
        }
        return 0;
    }
}
