namespace Discemu.Formats;

/// <summary>Options for <see cref="ImageOpener.Open(string, ImageOpenOptions?)"/>.</summary>
public sealed record ImageOpenOptions
{
    /// <summary>The format name; null probes the content.</summary>
    public string? Format { get; init; }

    /// <summary>Open for writing.</summary>
    public bool Writable { get; init; }

    /// <summary>Open the backing chain (default true).</summary>
    public bool OpenBacking { get; init; } = true;
}

/// <summary>
/// Opens image files: detects the format from content, opens backing chains (relative names are
/// resolved against the image's folder), and refuses loops.
/// </summary>
public sealed class ImageOpener
{
    /// <summary>The deepest backing chain accepted.</summary>
    public const int MaxChainDepth = 1000;

    /// <summary>An opener over <see cref="FormatRegistry.Default"/>.</summary>
    public static ImageOpener Default { get; } = new(FormatRegistry.Default);

    /// <summary>Creates an opener over <paramref name="registry"/>.</summary>
    public ImageOpener(FormatRegistry registry) => Registry = registry ?? throw new ArgumentNullException(nameof(registry));

    /// <summary>The formats this opener knows.</summary>
    public FormatRegistry Registry { get; }

    /// <summary>Opens <paramref name="path"/>.</summary>
    /// <exception cref="BadArgumentException">The named format is unknown.</exception>
    /// <exception cref="ImageAccessException">The file cannot be read.</exception>
    /// <exception cref="CorruptImageException">The image is damaged.</exception>
    /// <exception cref="UnsupportedFeatureException">The image uses a feature Discemu lacks.</exception>
    public DiskImage Open(string path, ImageOpenOptions? options = null)
    {
        options ??= new ImageOpenOptions();
        var request = new ImageOpenRequest(path, options.Writable, this)
        {
            OpenBacking = options.OpenBacking,
            ChainPaths = new HashSet<string>([Path.GetFullPath(path)], StringComparer.Ordinal),
        };
        return Open(request, options.Format);
    }

    /// <summary>Opens with a prepared request (drivers use this for backing files).</summary>
    public DiskImage Open(ImageOpenRequest request, string? format)
    {
        ArgumentNullException.ThrowIfNull(request);
        var fmt = format is null ? Detect(request.Path) : Registry.Find(format);
        return fmt.Open(request);
    }

    /// <summary>Detects the format of the file at <paramref name="path"/> from its content.</summary>
    /// <exception cref="ImageAccessException">The file cannot be read.</exception>
    /// <exception cref="UnsupportedFeatureException">No registered format claims it.</exception>
    public ImageFormat Detect(string path)
    {
        byte[] header = new byte[Registry.ProbeLength];
        byte[] trailer = new byte[Registry.TrailerProbeLength];
        long length;
        int headerLength, trailerLength = 0;
        using (var handle = Block.FileDevice.OpenHandle(path, FileMode.Open, writable: false))
        {
            length = Util.LinuxNative.BlockDeviceSize(handle) ?? RandomAccess.GetLength(handle);
            headerLength = ReadFully(handle, header, 0, path);
            if (trailer.Length > 0 && length > 0)
            {
                long start = Math.Max(0, length - trailer.Length);
                trailerLength = ReadFully(handle, trailer.AsSpan(0, (int)(length - start)), start, path);
            }
        }
        var best = Registry.Probe(header.AsSpan(0, headerLength), trailer.AsSpan(0, trailerLength), length, path);
        return best?.Format ?? throw new UnsupportedFeatureException("Could not determine the image format.", path);
    }

    private static int ReadFully(Microsoft.Win32.SafeHandles.SafeFileHandle handle, Span<byte> buffer, long offset, string path)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n;
            try { n = RandomAccess.Read(handle, buffer[total..], offset + total); }
            catch (IOException e) { throw new ImageAccessException(e.Message, path, e); }
            catch (UnauthorizedAccessException e) { throw new ImageAccessException("Permission denied (is it a directory?).", path, e); }
            if (n <= 0) break;
            total += n;
        }
        return total;
    }

    /// <summary>
    /// Opens the backing file of an image being opened by <paramref name="parent"/>: resolves the
    /// stored name relative to the parent, enforces the chain depth and refuses loops. Backing files
    /// are opened read-only.
    /// </summary>
    /// <exception cref="ImageAccessException">The backing file is missing; the message names the path looked for.</exception>
    /// <exception cref="CorruptImageException">The chain loops or is too deep.</exception>
    public DiskImage OpenBacking(ImageOpenRequest parent, string storedName, string? storedFormat)
    {
        ArgumentNullException.ThrowIfNull(parent);
        if (string.IsNullOrEmpty(storedName) || storedName.Contains('\0'))
            throw new CorruptImageException("The backing file name is empty or contains a NUL character.", parent.Path);
        string resolved, full;
        try
        {
            resolved = DiskImage.ResolveRelative(parent.Path, storedName);
            full = Path.GetFullPath(resolved);
        }
        catch (Exception e) when (e is ArgumentException or PathTooLongException or NotSupportedException)
        {
            throw new CorruptImageException($"The backing file name '{storedName}' is not a valid path.", parent.Path, e);
        }
        if (parent.ChainPaths.Contains(full))
            throw new CorruptImageException($"Backing chain loops back to '{resolved}'.", parent.Path);
        if (parent.ChainDepth + 1 > MaxChainDepth)
            throw new CorruptImageException($"Backing chain is deeper than {MaxChainDepth} images.", parent.Path);
        if (!File.Exists(resolved) && !Directory.Exists(resolved) && !IsDevice(resolved))
            throw new ImageAccessException($"Could not open backing file '{resolved}': No such file.", parent.Path);
        var request = new ImageOpenRequest(resolved, false, this)
        {
            ChainDepth = parent.ChainDepth + 1,
            ChainPaths = new HashSet<string>(parent.ChainPaths.Append(full), StringComparer.Ordinal),
        };
        try
        {
            return Open(request, storedFormat);
        }
        catch (BadArgumentException e)
        {
            throw new CorruptImageException($"Backing file '{resolved}': {e.Message}", parent.Path, e);
        }
    }

    private static bool IsDevice(string path) => path.StartsWith("/dev/", StringComparison.Ordinal) && Path.Exists(path);
}
