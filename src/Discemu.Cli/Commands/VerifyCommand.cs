using System.CommandLine;
using System.Security.Cryptography;
using System.Text.Json;
using Discemu.Cli.Output;
using Discemu.Formats.Ewf;
using Discemu.Operations;

namespace Discemu.Cli.Commands;

/// <summary>
/// <c>verify [-f fmt] [--log FILE] [--output human|json] [-p] filename</c>: recomputes the media hashes
/// and compares them with the ones stored in the image (E01 MD5/SHA-1) and in the acquisition hash
/// log (<c>IMAGE.log.json</c> or <c>--log</c>). Exit 0 all match, 1 a mismatch or an error, 2 nothing to verify.
/// </summary>
internal static class VerifyCommand
{
    /// <summary>Exit code when there is nothing to verify.</summary>
    public const int NothingToVerifyExit = 2;

    private sealed record Expected(HashAlgorithmName Algorithm, string Source, byte[] Value);

    public static Command Build(CliContext ctx)
    {
        var format = CommonOptions.Format();
        var log = new Option<string?>("--log") { Description = "Hash log (JSON with a \"hashes\" object) to verify against; default IMAGE.log.json when present", HelpName = "file" };
        var output = CommonOptions.Output();
        var progress = CommonOptions.Progress();
        var share = CommonOptions.ForceShare();
        var file = CommonOptions.File();
        var cmd = new Command("verify", "Recompute an image's media hashes and compare them with the stored ones") { format, log, output, progress, share, file };
        cmd.SetAction(parse => ctx.Guard(() =>
        {
            string path = parse.GetValue(file)!;
            using var image = ctx.Open(path, ctx.FormatOption(parse, format), openBacking: true);
            var expected = new List<Expected>();
            if (image is EwfImage ewf)
            {
                if (ewf.StoredMd5 is { } md5) expected.Add(new(HashAlgorithmName.MD5, "image", md5));
                if (ewf.StoredSha1 is { } sha1) expected.Add(new(HashAlgorithmName.SHA1, "image", sha1));
            }
            string? logPath = parse.GetValue(log) ?? FindLog(path);
            if (logPath is not null) expected.AddRange(ReadLog(logPath));
            if (expected.Count == 0)
            {
                ctx.Err.WriteLine($"{Cli.ToolName}: {path}: nothing to verify: the image stores no hashes and there is no hash log ({path}.log.json; use --log FILE).");
                return NothingToVerifyExit;
            }
            var algorithms = expected.Select(e => e.Algorithm).Distinct().ToList();
            var computed = ctx.WithProgress(parse.GetValue(progress), "Verifying", cb => MultiHasher.HashDevice(image, algorithms, cb));
            var byAlgorithm = algorithms.Select((a, i) => (a, i)).ToDictionary(x => x.a, x => computed[x.i]);
            bool allMatch = expected.All(e => byAlgorithm[e.Algorithm].AsSpan().SequenceEqual(e.Value));
            if (parse.GetValue(output) == "json") WriteJson(ctx.Out, path, image.Format.Name, expected, byAlgorithm, allMatch);
            else
            {
                foreach (var e in expected)
                {
                    var c = byAlgorithm[e.Algorithm];
                    bool ok = c.AsSpan().SequenceEqual(e.Value);
                    ctx.Out.WriteLine($"{MultiHasher.ShortName(e.Algorithm),-7} computed {Convert.ToHexStringLower(c)}  stored ({e.Source}) {Convert.ToHexStringLower(e.Value)}  {(ok ? "OK" : "MISMATCH")}");
                }
                ctx.Out.WriteLine(allMatch ? "Verification succeeded." : "Verification FAILED: the media does not match its stored hashes.");
            }
            return allMatch ? 0 : 1;
        }, file: parse.GetValue(file)));
        return cmd;
    }

    /// <summary><c>IMAGE.log.json</c>, or for a numbered piece of a split set (<c>disk.000</c>) also <c>disk.log.json</c>.</summary>
    private static string? FindLog(string path)
    {
        string direct = path + ".log.json";
        if (File.Exists(direct)) return direct;
        string ext = Path.GetExtension(path).TrimStart('.');
        if (ext.Length == 3 && ext.All(char.IsAsciiDigit))
        {
            string stem = path[..^(ext.Length + 1)] + ".log.json";
            if (File.Exists(stem)) return stem;
        }
        return null;
    }

    private static List<Expected> ReadLog(string logPath)
    {
        var list = new List<Expected>();
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllBytes(logPath)); }
        catch (FileNotFoundException e) { throw new ImageAccessException("No such hash log.", logPath, e); }
        catch (DirectoryNotFoundException e) { throw new ImageAccessException("No such hash log.", logPath, e); }
        catch (JsonException e) { throw new BadArgumentException($"The hash log is not valid JSON: {e.Message}", logPath, e); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("hashes", out var hashes) || hashes.ValueKind != JsonValueKind.Object)
                throw new BadArgumentException("The hash log has no \"hashes\" object.", logPath);
            foreach (var p in hashes.EnumerateObject())
            {
                if (!MultiHasher.TryParse(p.Name, out var algorithm)) continue;
                if (p.Value.ValueKind != JsonValueKind.String) throw new BadArgumentException($"The hash log's \"{p.Name}\" is not a string.", logPath);
                byte[] value;
                try { value = Convert.FromHexString(p.Value.GetString()!.Trim()); }
                catch (FormatException e) { throw new BadArgumentException($"The hash log's \"{p.Name}\" is not hexadecimal.", logPath, e); }
                int expectedLength = algorithm == HashAlgorithmName.MD5 ? 16 : algorithm == HashAlgorithmName.SHA1 ? 20 : algorithm == HashAlgorithmName.SHA256 ? 32 : algorithm == HashAlgorithmName.SHA384 ? 48 : 64;
                if (value.Length != expectedLength) throw new BadArgumentException($"The hash log's \"{p.Name}\" has {value.Length} bytes instead of {expectedLength}.", logPath);
                list.Add(new Expected(algorithm, "log", value));
            }
        }
        return list;
    }

    private static void WriteJson(TextWriter o, string path, string format, List<Expected> expected, Dictionary<HashAlgorithmName, byte[]> computed, bool allMatch)
    {
        JsonOut.Write(o, w =>
        {
            w.WriteStartObject();
            w.WriteString("filename", path);
            w.WriteString("format", format);
            w.WriteStartArray("hashes");
            foreach (var e in expected)
            {
                var c = computed[e.Algorithm];
                w.WriteStartObject();
                w.WriteString("algorithm", MultiHasher.ShortName(e.Algorithm));
                w.WriteString("source", e.Source);
                w.WriteString("computed", Convert.ToHexStringLower(c));
                w.WriteString("stored", Convert.ToHexStringLower(e.Value));
                w.WriteBoolean("match", c.AsSpan().SequenceEqual(e.Value));
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteBoolean("verified", allMatch);
            w.WriteEndObject();
        });
    }
}
