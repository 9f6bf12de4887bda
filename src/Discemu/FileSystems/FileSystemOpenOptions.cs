namespace Discemu.FileSystems;

/// <summary>How <see cref="FileSystemRegistry.Open"/> and <see cref="FileSystemType.Open"/> open a file system.</summary>
public sealed record FileSystemOpenOptions
{
    /// <summary>The file system type name (<c>iso9660</c>); null detects it from the content.</summary>
    public string? Type { get; init; }

    /// <summary>
    /// For multi-session media: the session to open, 1 = the oldest; null opens the last one. A file system
    /// without sessions accepts only null or 1.
    /// </summary>
    public int? Session { get; init; }

    /// <summary>
    /// Which set of names to show, for file systems that record several: for ISO 9660 <c>rr</c> (Rock Ridge),
    /// <c>joliet</c> or <c>iso</c>; null picks the richest one present.
    /// </summary>
    public string? Names { get; init; }

    /// <summary>
    /// Open for editing: the file system then implements <see cref="IWritableFileSystem"/> (the device must be
    /// writable). A type that cannot write refuses with <see cref="UnsupportedFeatureException"/>.
    /// </summary>
    public bool Writable { get; init; }

    /// <summary>The file name used in error messages (the image's path); null takes it from the device when it is a <see cref="Formats.DiskImage"/>.</summary>
    public string? DisplayPath { get; init; }
}
