namespace Discemu.Formats;

/// <summary>
/// The formats Discemu knows, registered explicitly (no reflection). <see cref="Default"/> lists every
/// built-in format; hosts may build their own registry with a subset or extra formats.
/// </summary>
public sealed class FormatRegistry
{
    private readonly List<ImageFormat> _formats = [];

    /// <summary>Creates a registry holding <paramref name="formats"/>.</summary>
    /// <exception cref="ArgumentException">Two formats share a name.</exception>
    public FormatRegistry(params IEnumerable<ImageFormat> formats)
    {
        foreach (var f in formats) Register(f);
    }

    /// <summary>Every built-in format. Add a new format here.</summary>
    public static FormatRegistry Default { get; } = new(
        Raw.RawFormat.Instance,
        Qcow2.Qcow2Format.Instance,
        Dmg.DmgFormat.Instance,
        Vhdx.VhdxFormat.Instance,
        Vmdk.VmdkFormat.Instance,
        Ewf.EwfFormat.Instance,
        Vhd.VhdFormat.Instance,
        Vdi.VdiFormat.Instance,
        Cue.CueFormat.Instance);

    /// <summary>The registered formats in registration order.</summary>
    public IReadOnlyList<ImageFormat> Formats => _formats;

    /// <summary>Adds a format.</summary>
    /// <exception cref="ArgumentException">A format of that name is already registered.</exception>
    public void Register(ImageFormat format)
    {
        ArgumentNullException.ThrowIfNull(format);
        if (TryFind(format.Name) is not null) throw new ArgumentException($"Format '{format.Name}' is already registered.", nameof(format));
        _formats.Add(format);
    }

    /// <summary>The format named <paramref name="name"/> (case-insensitive), or null.</summary>
    public ImageFormat? TryFind(string name)
        => _formats.FirstOrDefault(f => string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase))
           ?? _formats.FirstOrDefault(f => f.Aliases.Contains(name, StringComparer.OrdinalIgnoreCase));

    /// <summary>The format named <paramref name="name"/>.</summary>
    /// <exception cref="BadArgumentException">No such format is registered.</exception>
    public ImageFormat Find(string name)
        => TryFind(name) ?? throw new BadArgumentException($"Unknown format '{name}'. Known formats: {string.Join(", ", _formats.Select(f => f.Name))}.");

    /// <summary>Bytes of header every probe needs.</summary>
    public int ProbeLength => _formats.Count == 0 ? 512 : _formats.Max(f => f.ProbeLength);

    /// <summary>Bytes of trailer (the end of the file) the probes need.</summary>
    public int TrailerProbeLength => _formats.Count == 0 ? 0 : _formats.Max(f => f.TrailerProbeLength);

    /// <summary>
    /// Picks the format whose probe scores <paramref name="header"/> highest; equal scores are broken
    /// by <paramref name="fileName"/>'s extension, then by registration order.
    /// </summary>
    /// <returns>The best format and its score, or null when no format claims the bytes.</returns>
    public (ImageFormat Format, int Score)? Probe(ReadOnlySpan<byte> header, long fileLength, string? fileName = null)
        => Probe(header, [], fileLength, fileName);

    /// <summary>
    /// Picks the format whose probe scores the file's first bytes (<paramref name="header"/>) and last bytes
    /// (<paramref name="trailer"/>, at most <see cref="TrailerProbeLength"/>) highest; ties as in
    /// <see cref="Probe(ReadOnlySpan{byte}, long, string?)"/>.
    /// </summary>
    /// <returns>The best format and its score, or null when no format claims the bytes.</returns>
    public (ImageFormat Format, int Score)? Probe(ReadOnlySpan<byte> header, ReadOnlySpan<byte> trailer, long fileLength, string? fileName = null)
    {
        string ext = fileName is null ? "" : System.IO.Path.GetExtension(fileName).TrimStart('.');
        ImageFormat? best = null;
        int bestScore = 0;
        bool bestExt = false;
        foreach (var f in _formats)
        {
            int score;
            try { score = f.Probe(header, trailer, fileLength); }
            catch (Exception) { score = 0; }
            bool extMatch = ext.Length > 0 && f.Extensions.Contains(ext, StringComparer.OrdinalIgnoreCase);
            if (score > bestScore || (score == bestScore && score > 0 && extMatch && !bestExt))
            {
                best = f;
                bestScore = score;
                bestExt = extMatch;
            }
        }
        return best is null ? null : (best, bestScore);
    }
}
