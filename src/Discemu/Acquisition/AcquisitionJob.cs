using System.Reflection;
using Discemu.Block;
using Discemu.Formats;
using Discemu.Util;

namespace Discemu.Acquisition;

/// <summary>Everything an acquisition job needs (what <c>discemu acquire</c> passes).</summary>
public sealed record AcquisitionRequest
{
    /// <summary>The source: a block device, a file, or any image Discemu opens.</summary>
    public required string Source { get; init; }

    /// <summary>The source's format; null probes it.</summary>
    public string? SourceFormat { get; init; }

    /// <summary>Read the source with O_DIRECT (raw files and block devices only).</summary>
    public bool DirectIO { get; init; }

    /// <summary>The destination as named by the user (for a split set, the name the pieces derive from).</summary>
    public required string Destination { get; init; }

    /// <summary>The destination format; null picks it from the destination's extension, else raw.</summary>
    public string? DestinationFormat { get; init; }

    /// <summary>Options of the destination format (<c>-o</c>).</summary>
    public CreateOptions DestinationOptions { get; init; } = CreateOptions.Empty;

    /// <summary>Split a raw destination into pieces of this size (segment size for segmented formats).</summary>
    public long? SplitSize { get; init; }

    /// <summary>The mapfile; null for <c>DESTINATION.map</c>. When it exists the job resumes from it.</summary>
    public string? MapfilePath { get; init; }

    /// <summary>The logs' path prefix (<c>PREFIX.json</c>, <c>PREFIX.txt</c>); null for <c>DESTINATION.log</c>.</summary>
    public string? LogPrefix { get; init; }

    /// <summary>Overwrite an existing destination and ignore an existing mapfile.</summary>
    public bool Force { get; init; }

    /// <summary>Re-read the finished destination and compare its hashes.</summary>
    public bool Verify { get; init; }

    /// <summary>Re-read the source and compare its hashes (unreadable sectors hashed as fill).</summary>
    public bool VerifySource { get; init; }

    /// <summary>The sector size; null for the device's logical sector size, or 512.</summary>
    public int? SectorSize { get; init; }

    /// <summary>Case metadata for the logs and the image.</summary>
    public CaseMetadata Case { get; init; } = new();

    /// <summary>The engine's options (the job sets the sector size, mapfile and sequential mode itself).</summary>
    public AcquisitionOptions Options { get; init; } = new();

    /// <summary>The program name recorded in the mapfile and logs.</summary>
    public string ToolName { get; init; } = "discemu";

    /// <summary>The program version recorded; null for the library's version.</summary>
    public string? ToolVersion { get; init; }

    /// <summary>The command line recorded.</summary>
    public string CommandLine { get; init; } = "";

    /// <summary>Opens and creates images.</summary>
    public ImageOpener Opener { get; init; } = ImageOpener.Default;
}

/// <summary>How an acquisition job ended.</summary>
public enum AcquisitionStatus
{
    /// <summary>Every phase ran; unreadable areas (if any) are filled and listed.</summary>
    Completed,
    /// <summary>Cancelled; the mapfile records where to resume.</summary>
    Interrupted,
    /// <summary>An error stopped the job.</summary>
    Failed,
}

/// <summary>
/// Runs a whole acquisition: opens the source and identifies it, creates the destination (or reopens it to
/// resume from the mapfile), runs the <see cref="AcquisitionEngine"/>, verifies, and writes the JSON and text logs.
/// </summary>
public static class AcquisitionJob
{
    /// <summary>Runs the job. Returns a report for completed and interrupted runs; errors are logged, then thrown.</summary>
    /// <exception cref="BadArgumentException">An option is invalid, or the destination exists (without <see cref="AcquisitionRequest.Force"/>).</exception>
    /// <exception cref="ImageAccessException">A file cannot be opened or written.</exception>
    public static AcquisitionReport Run(AcquisitionRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var start = DateTimeOffset.UtcNow;
        using var source = OpenSource(request, out var identity);
        int sectorSize = request.SectorSize ?? identity.LogicalSectorSize ?? 512;
        identity = identity with { SectorSize = sectorSize };
        string format = AcquisitionSinks.ResolveFormat(request.DestinationFormat, request.Destination, request.Opener.Registry);
        string mapPath = request.MapfilePath ?? request.Destination + ".map";
        string logPrefix = request.LogPrefix ?? request.Destination + ".log";
        var sinkRequest = new SinkRequest(request.Destination, source.Length, format, request.Opener)
        {
            SplitSize = request.SplitSize,
            Options = request.DestinationOptions,
            SectorSize = sectorSize,
            Case = request.Case,
        };
        var options = request.Options with
        {
            SectorSize = sectorSize,
            MapfilePath = mapPath,
            MapfileHeader = new MapfileHeader(request.ToolName, ToolVersion(request), request.CommandLine, start),
            Sequential = request.Options.Sequential || AcquisitionSinks.IsSequential(format),
            Hashes = request.Options.Hashes.Count == 0 && (request.Verify || request.VerifySource) ? [AcquisitionHashAlgorithm.Md5] : request.Options.Hashes,
        };
        options.Validate();
        RefuseOverlap(request.Source, [.. AcquisitionSinks.PlannedFiles(sinkRequest), mapPath, logPrefix + ".json", logPrefix + ".txt"]);
        var resume = LoadResume(request, mapPath, source.Length);
        bool reopen = CheckDestination(request, sinkRequest, resume, mapPath);
        var report = new AcquisitionReport
        {
            ToolName = request.ToolName,
            ToolVersion = ToolVersion(request),
            CommandLine = request.CommandLine,
            StartTime = start,
            Source = identity,
            DestinationPath = request.Destination,
            DestinationFormat = format,
            DestinationFiles = AcquisitionSinks.PlannedFiles(sinkRequest),
            SplitSize = request.SplitSize,
            MapfilePath = mapPath,
            Resumed = resume is not null && resume.Map.TotalOf(RescueBlockStatus.NonTried) != resume.Map.Size,
            Case = request.Case,
            Options = options,
            DirectIO = request.DirectIO,
            JsonLogPath = logPrefix + ".json",
            TextLogPath = logPrefix + ".txt",
        };
        try
        {
            using (var sink = AcquisitionSinks.Create(sinkRequest with { Resume = reopen }))
            {
                report.DestinationFiles = sink.Files;
                try
                {
                    report.Result = AcquisitionEngine.Run(source, sink, options, resume);
                    report.Status = AcquisitionStatus.Completed;
                }
                catch (AcquisitionInterruptedException e)
                {
                    report.Result = e.Partial;
                    report.Status = AcquisitionStatus.Interrupted;
                }
            }
            if (report.Status == AcquisitionStatus.Completed && report.Result!.Hashes.Count > 0)
                Verify(request, report, source, options);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            report.Status = AcquisitionStatus.Failed;
            report.Error = e is DiscemuException d ? d.Describe() : e.Message;
            report.EndTime = DateTimeOffset.UtcNow;
            TryWriteLogs(report);
            throw;
        }
        catch (OperationCanceledException)
        {
            report.Status = AcquisitionStatus.Interrupted;
        }
        report.EndTime = DateTimeOffset.UtcNow;
        AcquisitionLog.Write(report);
        return report;
    }

    private static BlockDevice OpenSource(AcquisitionRequest request, out SourceIdentity identity)
    {
        bool isDevice = IsBlockDevice(request.Source);
        if (request.DirectIO)
        {
            if (request.SourceFormat is { } f && !string.Equals(request.Opener.Registry.Find(f).Name, "raw", StringComparison.Ordinal))
                throw new BadArgumentException("Direct I/O reads raw files and block devices only.");
            var direct = DirectSourceDevice.Open(request.Source);
            identity = SourceIdentity.Describe(request.Source, "raw", direct.Length, direct.IsBlockDevice);
            return direct;
        }
        // A disk is imaged as it is: its content is never probed (a failing first or last sector would stop the
        // job before it started, and a disk holding an image file's header is still a disk).
        string? format = request.SourceFormat ?? (isDevice ? "raw" : null);
        var image = request.Opener.Open(request.Source, new ImageOpenOptions { Format = format });
        identity = SourceIdentity.Describe(request.Source, image.Format.Name, image.Length, isDevice);
        return image;
    }

    /// <summary>Refuses a destination, mapfile or log that is the source itself (the same file, through any link).</summary>
    private static void RefuseOverlap(string source, IReadOnlyList<string> outputs)
    {
        string src = Canonical(source);
        foreach (var output in outputs)
            if (string.Equals(Canonical(output), src, StringComparison.Ordinal))
                throw new BadArgumentException($"{output} is the source itself: refusing to overwrite the evidence.");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var output in outputs)
            if (!seen.Add(Canonical(output)))
                throw new BadArgumentException($"{output} is named twice among the destination, mapfile and logs.");
    }

    private static string Canonical(string path)
    {
        try
        {
            var full = Path.GetFullPath(path);
            return new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? full;
        }
        catch (IOException) { return Path.GetFullPath(path); }
    }

    private static bool IsBlockDevice(string path)
    {
        try
        {
            using var handle = FileDevice.OpenHandle(path, FileMode.Open, writable: false);
            return LinuxNative.BlockDeviceSize(handle) is not null;
        }
        catch (ImageAccessException) { return false; }
    }

    private static MapfileState? LoadResume(AcquisitionRequest request, string mapPath, long size)
    {
        if (!File.Exists(mapPath)) return null;
        if (request.Force)
        {
            File.Delete(mapPath);
            return null;
        }
        var state = Mapfile.Load(mapPath);
        if (state.Map.Size > size)
            throw new BadArgumentException($"The mapfile covers {state.Map.Size} bytes but the source has {size}: is it the mapfile of another rescue?", mapPath);
        return state;
    }

    /// <summary>Decides whether the destination is reopened (resume) or created, refusing to overwrite without --force.</summary>
    private static bool CheckDestination(AcquisitionRequest request, SinkRequest sink, MapfileState? resume, string mapPath)
    {
        var planned = AcquisitionSinks.PlannedFiles(sink);
        var existing = planned.Where(File.Exists).ToList();
        if (resume is not null)
        {
            bool progress = resume.Map.TotalOf(RescueBlockStatus.NonTried) != resume.Map.Size;
            if (existing.Count == planned.Count) return true;
            if (progress || existing.Count > 0)
            {
                string missing = planned.First(p => !File.Exists(p));
                throw new ImageAccessException($"The mapfile {mapPath} records an earlier run, but the destination file {missing} is missing (use --force to start over).", request.Destination);
            }
            return false;
        }
        if (existing.Count > 0 && !request.Force)
            throw new BadArgumentException($"{existing[0]} already exists (use --force to overwrite it; keep its mapfile to resume instead).");
        return false;
    }

    private static void Verify(AcquisitionRequest request, AcquisitionReport report, BlockDevice source, AcquisitionOptions options)
    {
        var result = report.Result!;
        var progress = options.Progress;
        if (request.Verify)
        {
            using var image = OpenDestination(request, report);
            using var view = image.Length == source.Length ? null : new SubRangeDevice(image, 0, source.Length);
            report.DestinationVerification = MediaHasher.Verify(view ?? (BlockDevice)image, result.Hashes, options.SectorSize, fill: null,
                Progressor(progress, AcquisitionStage.VerifyingDestination), options.CancellationToken);
        }
        if (request.VerifySource)
        {
            report.SourceVerification = MediaHasher.Verify(source, result.Hashes, options.SectorSize, options.Fill,
                Progressor(progress, AcquisitionStage.VerifyingSource), options.CancellationToken);
        }
    }

    private static DiskImage OpenDestination(AcquisitionRequest request, AcquisitionReport report)
    {
        string first = report.DestinationFiles.Count > 0 ? report.DestinationFiles[0] : request.Destination;
        return request.Opener.Open(first, new ImageOpenOptions { Format = report.DestinationFormat, OpenBacking = false });
    }

    private static Action<long, long>? Progressor(Action<AcquisitionProgress>? progress, AcquisitionStage stage)
    {
        if (progress is null) return null;
        var clock = new StopwatchClock();
        return (done, total) =>
        {
            double seconds = clock.Elapsed.TotalSeconds;
            double rate = seconds > 0 ? done / seconds : 0;
            progress(new AcquisitionProgress
            {
                Stage = stage,
                Position = done,
                Size = total,
                StageDone = done,
                StageTotal = total,
                AverageRate = rate,
                CurrentRate = rate,
                Elapsed = clock.Elapsed,
                Remaining = rate > 0 ? TimeSpan.FromSeconds((total - done) / rate) : null,
            });
        };
    }

    private static void TryWriteLogs(AcquisitionReport report)
    {
        try { AcquisitionLog.Write(report); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or DiscemuException) { }
    }

    private static string ToolVersion(AcquisitionRequest request)
    {
        if (request.ToolVersion is not null) return request.ToolVersion;
        var asm = typeof(AcquisitionJob).Assembly;
        var info = asm.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        if (info is not null && info.IndexOf('+', StringComparison.Ordinal) is var plus and > 0) info = info[..plus];
        return info ?? asm.GetName().Version?.ToString() ?? "0.0.0";
    }
}
