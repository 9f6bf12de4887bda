using System.Globalization;
using Discemu.Block;
using Discemu.Formats;
using Discemu.Util;

namespace Discemu.Acquisition;

/// <summary>Case metadata recorded in the logs (and, by formats that store it, in the image).</summary>
public sealed record CaseMetadata
{
    /// <summary>The case number or name.</summary>
    public string? CaseNumber { get; init; }

    /// <summary>The evidence number or name.</summary>
    public string? EvidenceNumber { get; init; }

    /// <summary>The examiner's name.</summary>
    public string? Examiner { get; init; }

    /// <summary>A description of the evidence.</summary>
    public string? Description { get; init; }

    /// <summary>Free-form notes.</summary>
    public string? Notes { get; init; }

    /// <summary>True when no field is set.</summary>
    public bool IsEmpty => CaseNumber is null && EvidenceNumber is null && Examiner is null && Description is null && Notes is null;
}

/// <summary>What <see cref="AcquisitionSinks.Create"/> is asked to open or create.</summary>
/// <param name="Path">The destination as the user named it.</param>
/// <param name="Size">The media size in bytes.</param>
/// <param name="Format">The format name (see <see cref="AcquisitionSinks.ResolveFormat"/>).</param>
/// <param name="Opener">Opens and creates images.</param>
public sealed record SinkRequest(string Path, long Size, string Format, ImageOpener Opener)
{
    /// <summary>Split size for raw (pieces <c>.001, .002…</c>) or segment size for segmented formats; null for one file.</summary>
    public long? SplitSize { get; init; }

    /// <summary>Format options (<c>-o</c>).</summary>
    public CreateOptions Options { get; init; } = CreateOptions.Empty;

    /// <summary>Reopen the existing destination to resume instead of creating it.</summary>
    public bool Resume { get; init; }

    /// <summary>The source's sector size.</summary>
    public int SectorSize { get; init; } = 512;

    /// <summary>Case metadata, for formats that store it.</summary>
    public CaseMetadata Case { get; init; } = new();
}

/// <summary>
/// Creates acquisition destinations: raw (one file, an existing block device, or a split set whose pieces
/// the raw driver opens as one disk), any writable registered image format, or a sequential sink
/// registered with <see cref="RegisterSequential"/>.
/// </summary>
public static class AcquisitionSinks
{
    private static readonly Dictionary<string, Func<SinkRequest, SequentialSink>> Sequential = new(StringComparer.OrdinalIgnoreCase);
    private static readonly Lock Gate = new();

    /// <summary>The widest split-piece number accepted (3 digits: up to 999 pieces).</summary>
    public const int SplitDigits = 3;

    /// <summary>Registers a format written by a sequential sink (such as E01), replacing any earlier one of that name.</summary>
    public static void RegisterSequential(string format, Func<SinkRequest, SequentialSink> factory)
    {
        ArgumentException.ThrowIfNullOrEmpty(format);
        ArgumentNullException.ThrowIfNull(factory);
        lock (Gate) Sequential[format] = factory;
    }

    /// <summary>True when <paramref name="format"/> is written by a sequential sink.</summary>
    public static bool IsSequential(string format)
    {
        lock (Gate) return Sequential.ContainsKey(format);
    }

    /// <summary>
    /// The format to write: <paramref name="format"/> when given (a sequential sink's name or a registered
    /// format that can be created), else the format whose usual extension the destination has, else raw.
    /// </summary>
    /// <exception cref="BadArgumentException">The format is unknown or cannot be written.</exception>
    public static string ResolveFormat(string? format, string destination, FormatRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(registry);
        if (format is not null)
        {
            if (IsSequential(format)) return format.ToLowerInvariant();
            var fmt = registry.Find(format);
            if (IsSequential(fmt.Name)) return fmt.Name;
            if (!fmt.CanCreate) throw new BadArgumentException($"Format '{fmt.Name}' cannot be written.");
            return fmt.Name;
        }
        string ext = System.IO.Path.GetExtension(destination).TrimStart('.');
        if (ext.Length > 0)
            foreach (var f in registry.Formats)
                if (f.Extensions.Contains(ext, StringComparer.OrdinalIgnoreCase) && (f.CanCreate || IsSequential(f.Name))) return f.Name;
        return "raw";
    }

    /// <summary>The files a destination consists of (for existence checks before creating it).</summary>
    /// <exception cref="BadArgumentException">The split size is invalid.</exception>
    public static IReadOnlyList<string> PlannedFiles(SinkRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return IsRaw(request.Format) && request.SplitSize is { } split ? SplitNames(request.Path, request.Size, split) : [request.Path];
    }

    /// <summary>Creates the destination, or reopens it when <see cref="SinkRequest.Resume"/> is set.</summary>
    /// <exception cref="BadArgumentException">An option is invalid, or a reopened destination has the wrong size.</exception>
    /// <exception cref="ImageAccessException">A file cannot be created or opened.</exception>
    /// <exception cref="UnsupportedFeatureException">A sequential format was asked to resume.</exception>
    public static AcquisitionSink Create(SinkRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        Func<SinkRequest, SequentialSink>? sequential;
        lock (Gate) Sequential.TryGetValue(request.Format, out sequential);
        if (sequential is not null)
        {
            if (request.Resume) throw new UnsupportedFeatureException($"A {request.Format} image is written front to back and cannot be resumed.", request.Path);
            return sequential(request);
        }
        if (IsRaw(request.Format))
        {
            request.Options.ThrowOnUnused("raw");
            return request.SplitSize is { } split ? CreateSplit(request, split) : CreateRaw(request);
        }
        if (request.SplitSize is not null) throw new BadArgumentException($"--split applies to raw destinations, not {request.Format}.");
        var fmt = request.Opener.Registry.Find(request.Format);
        DiskImage image = request.Resume
            ? request.Opener.Open(request.Path, new ImageOpenOptions { Format = fmt.Name, Writable = true, OpenBacking = false })
            : fmt.Create(new ImageCreateRequest(request.Path, request.Size, request.Options, request.Opener));
        try
        {
            if (image.Length != request.Size)
                throw new BadArgumentException($"The destination holds {image.Length} bytes but the source has {request.Size}.", request.Path);
        }
        catch
        {
            image.Dispose();
            throw;
        }
        return new DeviceSink(image, request.Path, fmt.Name);
    }

    private static bool IsRaw(string format) => string.Equals(format, "raw", StringComparison.OrdinalIgnoreCase);

    private static DeviceSink CreateRaw(SinkRequest request)
    {
        bool device = File.Exists(request.Path) && IsBlockDevice(request.Path);
        var dev = request.Resume || device ? FileDevice.Open(request.Path, writable: true) : FileDevice.Create(request.Path, request.Size);
        try
        {
            // ddrescue leaves its output file only as long as what it wrote: a resumed file may be shorter.
            if (request.Resume && !dev.IsBlockDevice && dev.Length < request.Size) dev.Resize(request.Size);
            if (dev.Length < request.Size)
                throw new BadArgumentException($"The destination holds {dev.Length} bytes but the source has {request.Size}.", request.Path);
        }
        catch
        {
            dev.Dispose();
            throw;
        }
        BlockDevice target = dev.Length == request.Size ? dev : new SubRangeDevice(dev, 0, request.Size, ownsInner: true);
        return new DeviceSink(target, request.Path, "raw", writesThrough: true);
    }

    private static DeviceSink CreateSplit(SinkRequest request, long split)
    {
        var names = SplitNames(request.Path, request.Size, split);
        var parts = new List<BlockDevice>(names.Count);
        try
        {
            for (int i = 0; i < names.Count; i++)
            {
                long length = Math.Min(split, request.Size - i * split);
                var part = request.Resume ? FileDevice.Open(names[i], writable: true) : FileDevice.Create(names[i], Math.Max(length, 0));
                parts.Add(part);
                if (part.Length != Math.Max(length, 0))
                    throw new BadArgumentException($"The piece holds {part.Length} bytes, expected {length}.", names[i]);
            }
            return new DeviceSink(new ConcatDevice(parts), request.Path, "raw", names, writesThrough: true);
        }
        catch
        {
            foreach (var p in parts) p.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The pieces of a split raw destination: <c>DEST.001, DEST.002…</c>, or, when DEST already ends in
    /// <c>.000</c> or <c>.001</c>, that name and its successors (the numbering the raw driver reads back as one disk).
    /// </summary>
    /// <exception cref="BadArgumentException">The split size is not positive or needs more than 999 pieces.</exception>
    public static IReadOnlyList<string> SplitNames(string path, long size, long split)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (split <= 0) throw new BadArgumentException("The split size must be positive.");
        long count = Math.Max(1, size / split + (size % split != 0 ? 1 : 0));
        string ext = System.IO.Path.GetExtension(path);
        string stem = path;
        int first = 1;
        if (ext is ".000" or ".001")
        {
            stem = path[..^ext.Length];
            first = ext[^1] - '0';
        }
        long max = 1;
        for (int i = 0; i < SplitDigits; i++) max *= 10;
        if (first + count - 1 >= max)
            throw new BadArgumentException($"Splitting {size} bytes into pieces of {split} needs {count} pieces, more than {max - 1 - first + 1}: use a larger --split.");
        var names = new List<string>((int)count);
        for (int i = 0; i < count; i++)
            names.Add($"{stem}.{(first + i).ToString(CultureInfo.InvariantCulture).PadLeft(SplitDigits, '0')}");
        return names;
    }

    private static bool IsBlockDevice(string path)
    {
        try
        {
            using var h = FileDevice.OpenHandle(path, FileMode.Open, writable: false);
            return LinuxNative.BlockDeviceSize(h) is not null;
        }
        catch (ImageAccessException) { return false; }
    }
}
