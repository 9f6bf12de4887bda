using Discemu.Block;

namespace Discemu.FileSystems;

/// <summary>
/// A registered file system type: a name, a content detector and the driver's entry point. Like
/// <see cref="Formats.ImageFormat"/> for images, detection is by content only.
/// </summary>
public abstract class FileSystemType
{
    /// <summary>The short name used on the command line (<c>iso9660</c>).</summary>
    public abstract string Name { get; }

    /// <summary>A human description.</summary>
    public abstract string Description { get; }

    /// <summary>Other accepted names (<c>iso</c> for <c>iso9660</c>).</summary>
    public virtual IReadOnlyList<string> Aliases => [];

    /// <summary>
    /// Scores how surely <paramref name="device"/> holds this file system: 0 not this type, 100 certain.
    /// Reads only a few sectors. Must not throw for any content (a device read error scores 0).
    /// </summary>
    public abstract int Probe(BlockDevice device);

    /// <summary>Opens the file system on <paramref name="device"/> (which the caller keeps owning: dispose the file system first).</summary>
    /// <exception cref="CorruptImageException">The file system's structures are damaged.</exception>
    /// <exception cref="UnsupportedFeatureException">It uses a feature Discemu lacks.</exception>
    /// <exception cref="BadArgumentException">An option does not apply (no such session, no such name set).</exception>
    public abstract FileSystem Open(BlockDevice device, FileSystemOpenOptions options);

    /// <inheritdoc/>
    public override string ToString() => Name;
}
