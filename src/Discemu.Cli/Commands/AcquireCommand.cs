using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using Discemu.Acquisition;
using Discemu.Cli.Output;
using Discemu.Formats;
using Discemu.Util;

namespace Discemu.Cli.Commands;

/// <summary>
/// <c>acquire [options] SOURCE DEST</c>: forensic imaging of a disk, file or image with GNU ddrescue's rescue
/// algorithm (or a sequential forensic pass), a ddrescue mapfile to resume from, hashes and logs.
/// </summary>
internal static class AcquireCommand
{
    /// <summary>Exit code when the verification found different hashes.</summary>
    public const int VerifyMismatchExit = 2;

    /// <summary>Exit code after an interruption (the mapfile was saved; the same command resumes).</summary>
    public const int InterruptedExit = 130;

    public static Command Build(CliContext ctx)
    {
        var format = CommonOptions.Format("-f", "Source format (probed when omitted)");
        var outFormat = CommonOptions.Format("-O", "Destination format: raw (default), any writable format (qcow2...); picked from DEST's extension when omitted");
        var options = CommonOptions.CreateOptions();
        var split = new Option<string?>("--split") { Description = "Split a raw destination into pieces DEST.001, DEST.002... of this size", HelpName = "size" };
        var map = new Option<string?>("--map") { Description = "GNU ddrescue mapfile kept up to date and resumed from (default DEST.map)", HelpName = "file" };
        var log = new Option<string?>("--log") { Description = "Write the logs to PREFIX.json and PREFIX.txt (default DEST.log)", HelpName = "prefix" };
        var hash = new Option<string>("--hash") { Description = "Hashes of the acquired image: md5, sha1, sha256, sha512, any list, or none", DefaultValueFactory = _ => "md5", HelpName = "list" };
        var sectorSize = new Option<int?>("--sector-size", "-b") { Description = "Sector size in bytes (default: the device's, else 512)", HelpName = "bytes" };
        var clusterSize = new Option<int?>("--cluster-size", "-c") { Description = "Sectors per read in the copying passes (default 64 KiB worth)", HelpName = "sectors" };
        var skipSize = new Option<string?>("--skip-size", "-K") { Description = "Initial[,max] skip after an error or slow read (0 disables skipping)", HelpName = "initial[,max]" };
        var minRate = new Option<string?>("--min-read-rate", "-a") { Description = "Reads slower than this (bytes/s, k/M/G suffixes) skip ahead in the first passes; 0 = a tenth of the average", HelpName = "rate" };
        var timeout = new Option<string?>("--timeout", "-T") { Description = "A read taking longer than this (seconds, or with s/m/h/d) counts as a slow area", HelpName = "interval" };
        var retries = new Option<int>("--retries", "-r") { Description = "Retry passes over bad sectors (sequential mode: extra tries per sector)", HelpName = "n" };
        var reverse = new Option<bool>("--reverse", "-R") { Description = "Run every pass in the opposite direction" };
        var noTrim = new Option<bool>("--no-trim", "-N") { Description = "Skip the trimming phase" };
        var noScrape = new Option<bool>("--no-scrape", "-n") { Description = "Skip the scraping phase" };
        var fill = new Option<string?>("--fill") { Description = "Hex byte(s) written over unreadable sectors (default 00)", HelpName = "hex" };
        var sequential = new Option<bool>("--sequential") { Description = "Forensic sequential mode: read in order, retry failures sector by sector, never go back" };
        var noSparse = new Option<bool>("--no-sparse") { Description = "Write zero runs as data (a fully allocated raw file) instead of as holes" };
        var direct = new Option<bool>("--direct", "-d") { Description = "Read the source with O_DIRECT (no page cache, exact sector errors)" };
        var verify = new Option<bool>("--verify") { Description = "Re-read the destination and compare its hashes" };
        var verifySource = new Option<bool>("--verify-source") { Description = "Re-read the source and compare its hashes" };
        var mapInterval = new Option<string?>("--map-interval")
        {
            Description = "Seconds between mapfile saves, and between saves that also flush the destination and fsync the mapfile (default 5,300)",
            HelpName = "save[,sync]",
        };
        var force = new Option<bool>("--force") { Description = "Overwrite an existing destination and ignore its mapfile" };
        var quiet = CommonOptions.Quiet();
        var caseNumber = new Option<string?>("--case") { Description = "Case number (logs; stored in formats that hold it)", HelpName = "text" };
        var examiner = new Option<string?>("--examiner") { Description = "Examiner name", HelpName = "text" };
        var evidence = new Option<string?>("--evidence") { Description = "Evidence number", HelpName = "text" };
        var description = new Option<string?>("--description") { Description = "Description of the evidence", HelpName = "text" };
        var notes = new Option<string?>("--notes") { Description = "Notes", HelpName = "text" };
        var source = CommonOptions.File("SOURCE");
        source.Description = "Block device, file or image to acquire";
        var dest = CommonOptions.File("DEST");
        dest.Description = "Destination image (or split-set name)";
        var cmd = new Command("acquire", "Image a (possibly failing) disk, file or image with a rescue mapfile, hashes and logs")
        {
            format, outFormat, options, split, map, log, hash, sectorSize, clusterSize, skipSize, minRate, timeout, retries, reverse,
            noTrim, noScrape, fill, sequential, noSparse, direct, verify, verifySource, mapInterval, force, quiet,
            caseNumber, examiner, evidence, description, notes, source, dest,
        };
        cmd.SetAction(parse => ctx.Guard(() =>
        {
            string destination = parse.GetValue(dest)!;
            var (skipInitial, skipMax) = ParseSkip(parse.GetValue(skipSize));
            var (saveInterval, syncInterval) = ParseMapInterval(parse.GetValue(mapInterval));
            using var cts = new CancellationTokenSource();
            using var signals = new SignalHandlers(cts);
            var request = new AcquisitionRequest
            {
                Source = parse.GetValue(source)!,
                SourceFormat = ctx.FormatOption(parse, format),
                DirectIO = parse.GetValue(direct),
                Destination = destination,
                DestinationFormat = parse.GetValue(outFormat),
                DestinationOptions = CreateOptions.Parse(parse.GetValue(options) ?? []),
                SplitSize = parse.GetValue(split) is { } s ? SizeParser.Parse(s, "split size") : null,
                MapfilePath = parse.GetValue(map),
                LogPrefix = parse.GetValue(log),
                Force = parse.GetValue(force),
                Verify = parse.GetValue(verify),
                VerifySource = parse.GetValue(verifySource),
                SectorSize = parse.GetValue(sectorSize),
                Case = new CaseMetadata
                {
                    CaseNumber = parse.GetValue(caseNumber),
                    EvidenceNumber = parse.GetValue(evidence),
                    Examiner = parse.GetValue(examiner),
                    Description = parse.GetValue(description),
                    Notes = parse.GetValue(notes),
                },
                Options = new AcquisitionOptions
                {
                    ClusterSectors = parse.GetValue(clusterSize),
                    SkipInitial = skipInitial,
                    SkipMax = skipMax,
                    MinReadRate = parse.GetValue(minRate) is { } rate ? SizeParser.Parse(rate, "minimum read rate") : null,
                    ReadTimeout = parse.GetValue(timeout) is { } t ? ParseInterval(t) : null,
                    RetryPasses = parse.GetValue(retries),
                    Reverse = parse.GetValue(reverse),
                    NoTrim = parse.GetValue(noTrim),
                    NoScrape = parse.GetValue(noScrape),
                    Sequential = parse.GetValue(sequential),
                    Sparse = !parse.GetValue(noSparse),
                    Fill = ParseFill(parse.GetValue(fill)),
                    Hashes = AcquisitionHashes.Parse(parse.GetValue(hash)),
                    MapfileInterval = saveInterval,
                    SyncInterval = syncInterval,
                    CancellationToken = cts.Token,
                },
                ToolName = Cli.ToolName,
                ToolVersion = Cli.Version,
                CommandLine = CommandLine(parse),
                Opener = ctx.Opener,
            };
            var report = AcquireProgress.Run(ctx.Err, parse.GetValue(quiet),
                progress => AcquisitionJob.Run(request with { Options = request.Options with { Progress = progress } }));
            return Summarize(ctx, report);
        }));
        return cmd;
    }

    /// <summary>Prints the outcome on stdout (or the interruption on stderr) and picks the exit code.</summary>
    private static int Summarize(CliContext ctx, AcquisitionReport report)
    {
        var r = report.Result;
        if (report.Status == AcquisitionStatus.Interrupted)
        {
            ctx.Err.WriteLine($"{Cli.ToolName}: interrupted; {report.MapfilePath} records the progress: run the same command again to resume.");
            return InterruptedExit;
        }
        var o = ctx.Out;
        if (r is not null)
        {
            double pct = r.Size == 0 ? 100 : r.Recovered * 100.0 / r.Size;
            o.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Recovered {r.Recovered} of {r.Size} bytes ({pct:F2}%); {r.Unrecovered} bytes unreadable in {r.UnrecoveredRanges.Count} areas{(r.Unrecovered > 0 ? " (filled; listed in the log)" : "")}."));
            foreach (var (name, hex) in r.Hashes) o.WriteLine($"{name,-7} {hex}");
        }
        if (report.DestinationVerification is { } dv) o.WriteLine($"Verification of the destination: {(dv.Matches ? "match" : "MISMATCH")}");
        if (report.SourceVerification is { } sv)
            o.WriteLine($"Verification of the source: {(sv.Matches ? "match" : "MISMATCH")}{(sv.UnreadableBytes > 0 ? $" ({sv.UnreadableBytes} bytes unreadable, hashed as fill)" : "")}");
        o.WriteLine($"Logs: {report.JsonLogPath}, {report.TextLogPath}; mapfile: {report.MapfilePath}");
        if (!report.VerificationPassed)
        {
            ctx.Err.WriteLine($"{Cli.ToolName}: verification failed: the hashes differ.");
            return VerifyMismatchExit;
        }
        return 0;
    }

    /// <summary>ddrescue's --skip-size syntax: <c>initial[,max]</c>, sizes with suffixes.</summary>
    private static (long? Initial, long? Max) ParseSkip(string? text)
    {
        if (text is null) return (null, null);
        var parts = text.Split(',');
        if (parts.Length > 2) throw new BadArgumentException($"Invalid --skip-size '{text}': expected initial[,max].");
        long? initial = parts[0].Length == 0 ? null : SizeParser.Parse(parts[0], "skip size");
        long? max = parts.Length == 2 && parts[1].Length > 0 ? SizeParser.Parse(parts[1], "maximum skip size") : null;
        return (initial, max);
    }

    /// <summary><c>save[,sync]</c> in seconds (fractions allowed); the sync interval is never shorter than the save interval.</summary>
    private static (TimeSpan Save, TimeSpan Sync) ParseMapInterval(string? text)
    {
        if (text is null) return (TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5));
        var parts = text.Split(',');
        static double Seconds(string s, string text)
            => double.TryParse(s, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double v) && v >= 0 && v < 1e9
                ? v : throw new BadArgumentException($"Invalid --map-interval '{text}': expected save[,sync] in seconds.");
        if (parts.Length > 2) throw new BadArgumentException($"Invalid --map-interval '{text}': expected save[,sync] in seconds.");
        double save = Seconds(parts[0], text);
        double sync = parts.Length == 2 ? Seconds(parts[1], text) : Math.Max(save, 300);
        return (TimeSpan.FromSeconds(save), TimeSpan.FromSeconds(Math.Max(save, sync)));
    }

    /// <summary>ddrescue's interval syntax: a number of seconds, or with an s, m, h or d suffix.</summary>
    private static TimeSpan ParseInterval(string text)
    {
        string s = text.Trim();
        double unit = 1;
        if (s.Length > 0 && char.IsAsciiLetter(s[^1]))
        {
            unit = char.ToLowerInvariant(s[^1]) switch
            {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                'd' => 86400,
                _ => throw new BadArgumentException($"Invalid interval '{text}': use s, m, h or d."),
            };
            s = s[..^1];
        }
        if (!double.TryParse(s, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double v) || v <= 0 || v * unit > TimeSpan.MaxValue.TotalSeconds / 2)
            throw new BadArgumentException($"Invalid interval '{text}'.");
        return TimeSpan.FromSeconds(v * unit);
    }

    /// <summary>The fill pattern: hex digits (an optional 0x prefix), one byte or more.</summary>
    private static byte[] ParseFill(string? text)
    {
        if (text is null) return [0];
        string s = text.Trim();
        if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase)) s = s[2..];
        if (s.Length == 1) s = "0" + s;
        try
        {
            var bytes = Convert.FromHexString(s);
            if (bytes.Length is >= 1 and <= 4096) return bytes;
        }
        catch (FormatException) { }
        throw new BadArgumentException($"Invalid --fill '{text}': expected 1 to 4096 bytes in hex, like 00 or DEADBEEF.");
    }

    private static string CommandLine(ParseResult parse)
        => string.Join(' ', new[] { Cli.ToolName }.Concat(parse.Tokens.Select(t => Quote(t.Value))));

    private static string Quote(string s)
        => s.Length > 0 && s.All(c => char.IsAsciiLetterOrDigit(c) || "-_./:=,+@%".Contains(c)) ? s : "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    /// <summary>
    /// Turns the first SIGINT or SIGTERM into a clean stop (the mapfile is saved); a second one ends the
    /// process the usual way, for a read that hangs in the kernel.
    /// </summary>
    private sealed class SignalHandlers : IDisposable
    {
        private readonly List<PosixSignalRegistration> _registrations = [];
        private int _count;

        public SignalHandlers(CancellationTokenSource cts)
        {
            foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM })
            {
                _registrations.Add(PosixSignalRegistration.Create(signal, context =>
                {
                    if (Interlocked.Increment(ref _count) > 1) return;
                    context.Cancel = true;
                    cts.Cancel();
                }));
            }
        }

        public void Dispose()
        {
            foreach (var r in _registrations) r.Dispose();
        }
    }
}
