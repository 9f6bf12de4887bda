using Discemu.Block;

namespace Discemu.Formats;

/// <summary>
/// A registered image format: a name, a content detector and the driver's entry points.
/// Drivers override what they support; the defaults say "not supported".
/// </summary>
public abstract class ImageFormat
{
    /// <summary>The short name used on the command line (<c>raw</c>, <c>qcow2</c>).</summary>
    public abstract string Name { get; }

    /// <summary>A human description.</summary>
    public abstract string Description { get; }

    /// <summary>Other names accepted on the command line (<c>vhd</c> for <c>vpc</c>).</summary>
    public virtual IReadOnlyList<string> Aliases => [];

    /// <summary>Usual file name endings, without dots; used only to break ties between equal probe scores.</summary>
    public virtual IReadOnlyList<string> Extensions => [];

    /// <summary>How many leading bytes <see cref="Probe(ReadOnlySpan{byte}, long)"/> wants to see.</summary>
    public virtual int ProbeLength => 512;

    /// <summary>
    /// Scores how surely <paramref name="header"/> (the file's first bytes) is this format:
    /// 0 not this format, 1 could be anything (raw), 100 certain. Must not throw.
    /// </summary>
    public abstract int Probe(ReadOnlySpan<byte> header, long fileLength);

    /// <summary>
    /// How many trailing bytes the format wants to see (formats identified by a footer, like a fixed VHD
    /// or a DMG's koly block); 0 when the header is enough.
    /// </summary>
    public virtual int TrailerProbeLength => 0;

    /// <summary>
    /// Scores the file from its first bytes and its last bytes (<paramref name="trailer"/> holds up to
    /// <see cref="TrailerProbeLength"/> bytes ending at the end of the file; it may overlap the header in a
    /// small file). The default looks only at the header. Must not throw.
    /// </summary>
    public virtual int Probe(ReadOnlySpan<byte> header, ReadOnlySpan<byte> trailer, long fileLength) => Probe(header, fileLength);

    /// <summary>Opens an image of this format.</summary>
    /// <exception cref="CorruptImageException">The file is this format but damaged.</exception>
    /// <exception cref="UnsupportedFeatureException">The file uses a feature this driver lacks.</exception>
    /// <exception cref="ImageAccessException">The file (or its backing file) cannot be read.</exception>
    public abstract DiskImage Open(ImageOpenRequest request);

    /// <summary>True when <see cref="Create"/> is implemented.</summary>
    public virtual bool CanCreate => false;

    /// <summary>True when images of this format can have a backing file.</summary>
    public virtual bool SupportsBacking => false;

    /// <summary>
    /// True when images of this format accept compressed writes (<see cref="ICompressedWriter"/>),
    /// so a caller can refuse compression before creating anything.
    /// </summary>
    public virtual bool SupportsCompression => false;

    /// <summary>The <c>-o</c> options <see cref="Create"/> accepts.</summary>
    public virtual IReadOnlyList<CreateOptionInfo> CreateOptions => [];

    /// <summary>Creates a new image (overwriting any file at the path) and returns it opened for writing.</summary>
    /// <exception cref="BadArgumentException">An option or the size is invalid.</exception>
    /// <exception cref="NotSupportedException">The format cannot be created.</exception>
    public virtual DiskImage Create(ImageCreateRequest request) => throw new NotSupportedException($"Format '{Name}' cannot be created.");

    /// <summary>
    /// Computes the file size needed for a new image of <paramref name="virtualSize"/> bytes, or for
    /// converting <paramref name="source"/> (when given), like <c>qemu-img measure</c>.
    /// </summary>
    /// <exception cref="NotSupportedException">The format cannot be measured.</exception>
    public virtual MeasureResult Measure(long virtualSize, BlockDevice? source, CreateOptions options)
        => throw new NotSupportedException($"Format '{Name}' cannot be measured.");

    /// <inheritdoc/>
    public override string ToString() => Name;
}

/// <summary>What <see cref="ImageFormat.Open"/> is asked to open.</summary>
public sealed record ImageOpenRequest(string Path, bool Writable, ImageOpener Opener)
{
    /// <summary>Open the backing chain (false: leave <see cref="DiskImage.Backing"/> null; reads of unallocated ranges give zeros).</summary>
    public bool OpenBacking { get; init; } = true;

    /// <summary>How deep in a backing chain this image is (0 = the image the user named).</summary>
    public int ChainDepth { get; init; }

    /// <summary>Full paths already open in this chain, to refuse loops.</summary>
    public IReadOnlySet<string> ChainPaths { get; init; } = new HashSet<string>();
}

/// <summary>What <see cref="ImageFormat.Create"/> is asked to create.</summary>
public sealed record ImageCreateRequest(string Path, long Size, CreateOptions Options, ImageOpener Opener)
{
    /// <summary>Backing file name to store, or null.</summary>
    public string? BackingFile { get; init; }

    /// <summary>Backing file format to store, or null to probe it.</summary>
    public string? BackingFormat { get; init; }
}

/// <summary>Describes one <c>-o</c> option of a format.</summary>
public sealed record CreateOptionInfo(string Name, string Type, string Help);

/// <summary>The answer of <c>measure</c>: bytes needed now and when fully allocated.</summary>
public sealed record MeasureResult(long Required, long FullyAllocated, long? BitmapsSize = null);
