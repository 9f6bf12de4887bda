using System.CommandLine;
using System.Text.Json;
using Discemu.Cli.Output;
using Discemu.Formats.Cue;

namespace Discemu.Cli.Commands;

/// <summary>
/// <c>tracks [-f fmt] [--output human|json] [-x DIR [--prefix NAME] [-t N]...] IMAGE</c>: lists a CD image's tracks,
/// or extracts them as bchunk does (data tracks as <c>NAMEnn.iso</c> of 2048-byte sectors, audio as <c>NAMEnn.wav</c>).
/// </summary>
internal static class TracksCommand
{
    public static Command Build(CliContext ctx)
    {
        var format = CommonOptions.Format();
        var output = CommonOptions.Output();
        var extract = new Option<string?>("--extract", "-x") { Description = "Write each track into this folder (created if missing)", HelpName = "DIR" };
        var prefix = new Option<string>("--prefix") { Description = "File name prefix of extracted tracks", DefaultValueFactory = _ => "track", HelpName = "NAME" };
        var only = new Option<int[]>("--track", "-t") { Description = "Extract only this track (repeatable)", HelpName = "N", AllowMultipleArgumentsPerToken = false };
        var file = CommonOptions.File("IMAGE");
        var cmd = new Command("tracks", "List the tracks of a CD image (BIN/CUE), or extract them as .iso and .wav files") { format, output, extract, prefix, only, file };
        cmd.SetAction(parse => ctx.Guard(() =>
        {
            string path = parse.GetValue(file)!;
            using var image = ctx.Open(path, ctx.FormatOption(parse, format), openBacking: false);
            if (image is not CueImage cd) throw new BadArgumentException($"'{path}' is a {image.Format.Name} image, not a CD image with tracks.", path);
            bool json = parse.GetValue(output) == "json";
            if (parse.GetValue(extract) is not { } dir)
            {
                if (json) JsonOut.Write(ctx.Out, w => WriteJson(w, cd, null, null));
                else WriteHuman(ctx.Out, cd);
                return 0;
            }
            string name = parse.GetValue(prefix)!;
            if (name.IndexOfAny(['/', '\\', '\0']) >= 0 || name is "." or "..") throw new BadArgumentException($"Bad --prefix '{name}': it must be a plain file name.");
            var wanted = parse.GetValue(only) ?? [];
            foreach (int n in wanted)
                if (cd.Tracks.All(t => t.Number != n)) throw new BadArgumentException($"The image has no track {n}.", path);
            Directory.CreateDirectory(dir);
            var written = new List<(CueTrack Track, string File, long Bytes)>();
            foreach (var track in cd.Tracks)
            {
                if (wanted.Length > 0 && !wanted.Contains(track.Number)) continue;
                string target = Path.Combine(dir, CueImage.TrackFileName(track, name));
                long bytes;
                using (var stream = new FileStream(target, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 20))
                    bytes = cd.ExtractTrack(track, stream);
                written.Add((track, target, bytes));
                if (!json) ctx.Out.WriteLine($"{track.Number,2}: {target} ({bytes} bytes)");
            }
            if (json) JsonOut.Write(ctx.Out, w => WriteJson(w, cd, written, dir));
            return 0;
        }, file: parse.GetValue(file)));
        return cmd;
    }

    private static void WriteHuman(TextWriter o, CueImage cd)
    {
        o.WriteLine("Track  Mode        Start (MSF)      Length  Pregap  Postgap  File");
        foreach (var t in cd.Tracks)
        {
            string file = cd.Sheet.Files[t.FileIndex].Name;
            o.WriteLine($"{t.Number,5}  {t.ModeName,-10}  {t.Start,7} ({Msf.FormatLba(t.Start)})  {t.Length,7}  {t.Pregap,6}  {t.Postgap,7}  {file}");
        }
        if (cd.DataTrack is { } d) o.WriteLine($"Virtual disk: track {d.Number}, {d.Length} sectors of 2048 bytes");
        else o.WriteLine("Virtual disk: empty (no data track)");
    }

    private static void WriteJson(Utf8JsonWriter w, CueImage cd, List<(CueTrack Track, string File, long Bytes)>? written, string? dir)
    {
        w.WriteStartObject();
        if (cd.DataTrack is { } d) w.WriteNumber("data-track", d.Number);
        w.WriteStartArray("tracks");
        foreach (var t in cd.Tracks)
        {
            w.WriteStartObject();
            w.WriteNumber("number", t.Number);
            w.WriteString("mode", t.ModeName);
            w.WriteNumber("start", t.Start);
            w.WriteString("start-msf", Msf.FormatLba(t.Start));
            w.WriteNumber("length", t.Length);
            w.WriteNumber("pregap", t.Pregap);
            w.WriteNumber("postgap", t.Postgap);
            w.WriteString("file", cd.Sheet.Files[t.FileIndex].Name);
            w.WriteStartArray("indexes");
            foreach (var i in t.Indexes)
            {
                w.WriteStartObject();
                w.WriteNumber("number", i.Number);
                w.WriteNumber("start", i.Lba);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            if (written?.FirstOrDefault(x => x.Track == t) is { File: not null } x)
            {
                w.WriteString("extracted", x.File);
                w.WriteNumber("bytes", x.Bytes);
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
        if (dir is not null) w.WriteString("directory", dir);
        w.WriteEndObject();
    }
}
