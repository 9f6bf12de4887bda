namespace Discemu;

/// <summary>
/// Base of the typed errors Discemu raises for problems with images and arguments.
/// Front ends map each subclass to a one-line message and an exit code.
/// </summary>
public abstract class DiscemuException : Exception
{
    /// <summary>Creates the error.</summary>
    /// <param name="message">One-line description of the problem.</param>
    /// <param name="path">The file the problem concerns, when there is one.</param>
    /// <param name="inner">The underlying error, if any.</param>
    protected DiscemuException(string message, string? path = null, Exception? inner = null)
        : base(message, inner) => ImagePath = path;

    /// <summary>The file the problem concerns, or <c>null</c>.</summary>
    public string? ImagePath { get; }

    /// <summary>The message prefixed with the file name when one is known.</summary>
    public string Describe() => ImagePath is null ? Message : $"{ImagePath}: {Message}";
}

/// <summary>The image's bytes violate its format: a bad magic, field, table or checksum.</summary>
public sealed class CorruptImageException(string message, string? path = null, Exception? inner = null)
    : DiscemuException(message, path, inner);

/// <summary>The image is valid but uses a feature Discemu does not implement.</summary>
public sealed class UnsupportedFeatureException(string message, string? path = null, Exception? inner = null)
    : DiscemuException(message, path, inner);

/// <summary>A caller-supplied value (option, size, format name, path) is invalid.</summary>
public sealed class BadArgumentException(string message, string? path = null, Exception? inner = null)
    : DiscemuException(message, path, inner);

/// <summary>An image file could not be accessed (missing, permission, I/O error).</summary>
public sealed class ImageAccessException(string message, string? path = null, Exception? inner = null)
    : DiscemuException(message, path, inner);

/// <summary>A file system (or image) has no room left for what was asked; nothing that existed before was lost.</summary>
public sealed class DiskFullException(string message, string? path = null, Exception? inner = null)
    : DiscemuException(message, path, inner);
