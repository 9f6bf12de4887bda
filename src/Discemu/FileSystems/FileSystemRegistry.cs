using Discemu.Block;

namespace Discemu.FileSystems;

/// <summary>
/// The file system types Discemu knows, registered explicitly (no reflection), as
/// <see cref="Formats.FormatRegistry"/> does for image formats. <see cref="Default"/> lists every built-in type.
/// </summary>
public sealed class FileSystemRegistry
{
    private readonly List<FileSystemType> _types = [];

    /// <summary>Creates a registry holding <paramref name="types"/>.</summary>
    /// <exception cref="ArgumentException">Two types share a name.</exception>
    public FileSystemRegistry(params IEnumerable<FileSystemType> types)
    {
        foreach (var t in types) Register(t);
    }

    /// <summary>Every built-in file system type. Add a new one here.</summary>
    public static FileSystemRegistry Default { get; } = new(
        Iso9660.IsoFileSystemType.Instance,
        Udf.UdfFileSystemType.Instance,
        Fat.FatFileSystemType.Instance);

    /// <summary>The registered types in registration order.</summary>
    public IReadOnlyList<FileSystemType> Types => _types;

    /// <summary>Adds a type.</summary>
    /// <exception cref="ArgumentException">A type of that name is already registered.</exception>
    public void Register(FileSystemType type)
    {
        ArgumentNullException.ThrowIfNull(type);
        if (TryFind(type.Name) is not null) throw new ArgumentException($"File system '{type.Name}' is already registered.", nameof(type));
        _types.Add(type);
    }

    /// <summary>The type named <paramref name="name"/> (or one of its aliases, case-insensitive), or null.</summary>
    public FileSystemType? TryFind(string name)
        => _types.FirstOrDefault(t => string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase))
           ?? _types.FirstOrDefault(t => t.Aliases.Contains(name, StringComparer.OrdinalIgnoreCase));

    /// <summary>The type named <paramref name="name"/>.</summary>
    /// <exception cref="BadArgumentException">No such type is registered.</exception>
    public FileSystemType Find(string name)
        => TryFind(name) ?? throw new BadArgumentException($"Unknown file system '{name}'. Known file systems: {string.Join(", ", _types.Select(t => t.Name))}.");

    /// <summary>The type whose probe scores <paramref name="device"/> highest (registration order breaks ties), or null.</summary>
    public FileSystemType? Detect(BlockDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        FileSystemType? best = null;
        int bestScore = 0;
        foreach (var t in _types)
        {
            int score;
            try { score = t.Probe(device); }
            catch (Exception e) when (e is not ObjectDisposedException) { score = 0; }
            if (score > bestScore)
            {
                best = t;
                bestScore = score;
            }
        }
        return best;
    }

    /// <summary>Opens the file system on <paramref name="device"/>: the type named in the options, else the detected one.</summary>
    /// <exception cref="UnsupportedFeatureException">No registered type recognises the content.</exception>
    /// <exception cref="BadArgumentException">The named type is unknown or an option does not apply.</exception>
    /// <exception cref="CorruptImageException">The file system is damaged.</exception>
    public FileSystem Open(BlockDevice device, FileSystemOpenOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        options ??= new FileSystemOpenOptions();
        var type = options.Type is null ? Detect(device) : Find(options.Type);
        if (type is null)
            throw new UnsupportedFeatureException($"No known file system found (known: {string.Join(", ", _types.Select(t => t.Name))}).", FileSystem.DisplayPathOf(device, options));
        return type.Open(device, options);
    }
}
