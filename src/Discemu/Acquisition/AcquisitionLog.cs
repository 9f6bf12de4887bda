using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Discemu.Acquisition;

/// <summary>
/// Writes an acquisition's logs: <c>PREFIX.json</c> (machine-readable; hashes under <c>"hashes": {"md5": "…"}</c>)
/// and <c>PREFIX.txt</c> (the same facts for people). Times are UTC ISO 8601.
/// </summary>
public static class AcquisitionLog
{
    private static readonly JsonWriterOptions JsonOptions = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Writes both logs.</summary>
    /// <exception cref="ImageAccessException">A log cannot be written.</exception>
    public static void Write(AcquisitionReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        WriteFile(report.JsonLogPath, Json(report));
        WriteFile(report.TextLogPath, Text(report));
    }

    private static void WriteFile(string path, string text)
    {
        try { File.WriteAllText(path, text, new UTF8Encoding(false)); }
        catch (IOException e) { throw new ImageAccessException(e.Message, path, e); }
        catch (UnauthorizedAccessException e) { throw new ImageAccessException("Permission denied.", path, e); }
    }

    private static string Time(DateTimeOffset t) => t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static string Status(AcquisitionStatus s) => s switch
    {
        AcquisitionStatus.Completed => "completed",
        AcquisitionStatus.Interrupted => "interrupted",
        _ => "failed",
    };

    /// <summary>The JSON log's text.</summary>
    public static string Json(AcquisitionReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, JsonOptions))
        {
            var r = report.Result;
            var o = report.Options;
            w.WriteStartObject();
            w.WriteStartObject("tool");
            w.WriteString("name", report.ToolName);
            w.WriteString("version", report.ToolVersion);
            w.WriteEndObject();
            w.WriteString("command_line", report.CommandLine);
            w.WriteString("status", Status(report.Status));
            if (report.Error is not null) w.WriteString("error", report.Error);
            w.WriteString("start_time", Time(report.StartTime));
            w.WriteString("end_time", Time(report.EndTime));
            w.WriteNumber("duration_seconds", Math.Round((report.EndTime - report.StartTime).TotalSeconds, 3));
            w.WriteString("mode", o.Sequential ? "sequential" : "rescue");
            w.WriteBoolean("resumed", report.Resumed);

            var s = report.Source;
            w.WriteStartObject("source");
            w.WriteString("path", s.Path);
            if (s.ResolvedPath is not null) w.WriteString("resolved_path", s.ResolvedPath);
            w.WriteString("kind", s.Kind);
            w.WriteString("format", s.Format);
            w.WriteNumber("size", s.Size);
            w.WriteNumber("sector_size", s.SectorSize);
            if (s.LogicalSectorSize is { } ls) w.WriteNumber("logical_sector_size", ls);
            if (s.PhysicalSectorSize is { } ps) w.WriteNumber("physical_sector_size", ps);
            WriteOptional(w, "device", s.DeviceName);
            WriteOptional(w, "device_numbers", s.DeviceNumbers);
            WriteOptional(w, "vendor", s.Vendor);
            WriteOptional(w, "model", s.Model);
            WriteOptional(w, "serial", s.Serial);
            w.WriteBoolean("direct_io", report.DirectIO);
            w.WriteEndObject();

            w.WriteStartObject("destination");
            w.WriteString("path", report.DestinationPath);
            w.WriteString("format", report.DestinationFormat);
            w.WriteStartArray("files");
            foreach (var f in report.DestinationFiles) w.WriteStringValue(f);
            w.WriteEndArray();
            if (report.SplitSize is { } split) w.WriteNumber("split_size", split);
            w.WriteEndObject();
            if (report.MapfilePath is not null) w.WriteString("mapfile", report.MapfilePath);

            w.WriteStartObject("case");
            WriteOptional(w, "case_number", report.Case.CaseNumber);
            WriteOptional(w, "evidence_number", report.Case.EvidenceNumber);
            WriteOptional(w, "examiner", report.Case.Examiner);
            WriteOptional(w, "description", report.Case.Description);
            WriteOptional(w, "notes", report.Case.Notes);
            w.WriteEndObject();

            w.WriteStartObject("options");
            w.WriteNumber("sector_size", o.SectorSize);
            w.WriteNumber("cluster_size", o.ClusterBytes);
            w.WriteNumber("retries", o.RetryPasses);
            w.WriteBoolean("reverse", o.Reverse);
            w.WriteBoolean("no_trim", o.NoTrim);
            w.WriteBoolean("no_scrape", o.NoScrape);
            w.WriteString("fill", Convert.ToHexStringLower(o.Fill.Span));
            w.WriteBoolean("sparse", o.Sparse);
            if (o.MinReadRate is { } rate) w.WriteNumber("min_read_rate", rate);
            if (o.ReadTimeout is { } timeout) w.WriteNumber("timeout_seconds", timeout.TotalSeconds);
            if (o.SkipInitial is { } skip) w.WriteNumber("skip_size", skip);
            w.WriteEndObject();

            if (r is not null)
            {
                w.WriteStartObject("statistics");
                w.WriteNumber("size", r.Size);
                w.WriteNumber("bytes_recovered", r.Recovered);
                w.WriteNumber("bytes_unrecovered", r.Unrecovered);
                w.WriteNumber("bad_sector_bytes", r.Map.TotalOf(RescueBlockStatus.BadSector));
                w.WriteNumber("bad_areas", r.Map.AreasOf(RescueBlockStatus.BadSector));
                w.WriteNumber("bytes_read", r.BytesRead);
                w.WriteNumber("reads", r.Reads);
                w.WriteNumber("read_errors", r.ReadErrors);
                w.WriteNumber("slow_reads", r.SlowReads);
                if (report.Status == AcquisitionStatus.Completed) w.WriteNumber("hashed_while_reading", r.HashedWhileReading);
                w.WriteEndObject();

                w.WriteStartArray("bad_ranges");
                foreach (var b in r.UnrecoveredRanges)
                {
                    w.WriteStartObject();
                    w.WriteNumber("offset", b.Offset);
                    w.WriteNumber("length", b.Length);
                    w.WriteNumber("first_sector", b.Offset / o.SectorSize);
                    w.WriteNumber("sectors", (b.End + o.SectorSize - 1) / o.SectorSize - b.Offset / o.SectorSize);
                    w.WriteString("status", RescueStatusChars.Describe(b.Status));
                    w.WriteEndObject();
                }
                w.WriteEndArray();

                w.WriteStartObject("hashes");
                foreach (var (name, hex) in r.Hashes) w.WriteString(name, hex);
                w.WriteEndObject();
            }

            if (report.DestinationVerification is not null || report.SourceVerification is not null)
            {
                w.WriteStartObject("verification");
                WriteVerification(w, "destination", report.DestinationVerification);
                WriteVerification(w, "source", report.SourceVerification);
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    private static void WriteOptional(Utf8JsonWriter w, string name, string? value)
    {
        if (value is not null) w.WriteString(name, value);
    }

    private static void WriteVerification(Utf8JsonWriter w, string name, VerificationResult? v)
    {
        if (v is null) return;
        w.WriteStartObject(name);
        w.WriteBoolean("match", v.Matches);
        w.WriteNumber("unreadable_bytes", v.UnreadableBytes);
        w.WriteStartObject("hashes");
        foreach (var (alg, hex) in v.Hashes) w.WriteString(alg, hex);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>The text log's content.</summary>
    public static string Text(AcquisitionReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var sb = new StringBuilder();
        var ci = CultureInfo.InvariantCulture;
        void Line(string label, object? value)
        {
            if (value is not null) sb.Append(ci, $"{label,-22}{value}\n");
        }
        var s = report.Source;
        var o = report.Options;
        var r = report.Result;
        sb.Append(ci, $"{report.ToolName} {report.ToolVersion} acquisition log\n\n");
        Line("Command line:", report.CommandLine);
        Line("Status:", Status(report.Status));
        Line("Error:", report.Error);
        Line("Start time (UTC):", Time(report.StartTime));
        Line("End time (UTC):", Time(report.EndTime));
        Line("Mode:", (o.Sequential ? "sequential" : "rescue") + (report.Resumed ? " (resumed from the mapfile)" : ""));
        sb.Append('\n');
        Line("Case number:", report.Case.CaseNumber);
        Line("Evidence number:", report.Case.EvidenceNumber);
        Line("Examiner:", report.Case.Examiner);
        Line("Description:", report.Case.Description);
        Line("Notes:", report.Case.Notes);
        if (!report.Case.IsEmpty) sb.Append('\n');
        Line("Source:", s.Path);
        Line("Resolved path:", s.ResolvedPath);
        Line("Kind:", $"{s.Kind} ({s.Format})");
        Line("Size:", $"{s.Size} bytes ({Util.SizeParser.Format(s.Size)})");
        Line("Sector size:", $"{s.SectorSize} bytes" + (s.PhysicalSectorSize is { } p ? $" (physical {p})" : ""));
        Line("Device:", s.DeviceName is null ? null : s.DeviceNumbers is null ? s.DeviceName : $"{s.DeviceName} ({s.DeviceNumbers})");
        Line("Vendor:", s.Vendor);
        Line("Model:", s.Model);
        Line("Serial:", s.Serial);
        Line("Direct I/O:", report.DirectIO ? "yes" : null);
        sb.Append('\n');
        Line("Destination:", report.DestinationPath);
        Line("Format:", report.DestinationFormat + (report.SplitSize is { } split ? $", split every {split} bytes" : ""));
        if (report.DestinationFiles.Count > 1 || (report.DestinationFiles.Count == 1 && report.DestinationFiles[0] != report.DestinationPath))
            Line("Files:", string.Join(", ", report.DestinationFiles));
        Line("Mapfile:", report.MapfilePath);
        Line("Options:", $"cluster {o.ClusterBytes} bytes, retries {o.RetryPasses}, fill 0x{Convert.ToHexStringLower(o.Fill.Span)}"
            + (o.Reverse ? ", reverse" : "") + (o.NoTrim ? ", no trim" : "") + (o.NoScrape ? ", no scrape" : "")
            + (o.MinReadRate is { } rate ? $", min read rate {rate} B/s" : "") + (o.ReadTimeout is { } t ? $", timeout {t.TotalSeconds} s" : ""));
        if (r is not null)
        {
            sb.Append('\n');
            double pct = r.Size == 0 ? 100 : r.Recovered * 100.0 / r.Size;
            Line("Recovered:", string.Create(ci, $"{r.Recovered} of {r.Size} bytes ({pct:F2}%)"));
            Line("Unrecovered:", $"{r.Unrecovered} bytes in {r.UnrecoveredRanges.Count} areas (written as fill)");
            Line("Read this run:", $"{r.BytesRead} bytes in {r.Reads} reads, {r.ReadErrors} failed, {r.SlowReads} slow");
            if (r.UnrecoveredRanges.Count > 0)
            {
                sb.Append("\nUnrecovered ranges (offset, length, sectors, state):\n");
                foreach (var b in r.UnrecoveredRanges)
                {
                    long first = b.Offset / o.SectorSize, last = (b.End - 1) / o.SectorSize;
                    sb.Append(ci, $"  {b.Offset,15}  {b.Length,12}  sectors {first}-{last}  {RescueStatusChars.Describe(b.Status)}\n");
                }
            }
            if (r.Hashes.Count > 0)
            {
                sb.Append('\n');
                foreach (var (name, hex) in r.Hashes) Line(name.ToUpperInvariant() + ":", hex);
            }
        }
        if (report.DestinationVerification is { } dv) Line("Verify destination:", dv.Matches ? "match" : "MISMATCH " + string.Join(", ", dv.Hashes.Select(kv => $"{kv.Key} {kv.Value}")));
        if (report.SourceVerification is { } sv)
            Line("Verify source:", (sv.Matches ? "match" : "MISMATCH " + string.Join(", ", sv.Hashes.Select(kv => $"{kv.Key} {kv.Value}")))
                + (sv.UnreadableBytes > 0 ? $" ({sv.UnreadableBytes} bytes unreadable, hashed as fill)" : ""));
        return sb.ToString();
    }
}
