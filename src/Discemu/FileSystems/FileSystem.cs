using Discemu.Block;
using Discemu.Formats;

namespace Discemu.FileSystems;

/// <summary>
/// An opened file system: a tree of <see cref="FileSystemEntry"/> starting at <see cref="Root"/>, directory
/// listings, path lookup and file content as a read-only <see cref="BlockDevice"/>.
/// </summary>
/// <remarks>
/// <para>Every member is safe to call from several threads at once. Nothing is cached without bound: each
/// <see cref="ListDirectory"/> call reads the directory again, and file content is read on demand
/// (a file is never loaded whole).</para>
/// <para>The file system reads from a device the caller owns: dispose the file system (and any
/// device returned by <see cref="OpenFile"/>) before the device.</para>
/// <para>Writable file systems will add their operations as a separate capability interface, as image
/// formats do with <see cref="ICheckableImage"/> and friends.</para>
/// </remarks>
public abstract class FileSystem : IDisposable
{
    /// <summary>The deepest path <see cref="Lookup"/> follows.</summary>
    public const int MaxPathDepth = 1024;

    /// <summary>The type that opened this file system.</summary>
    public abstract FileSystemType Type { get; }

    /// <summary>The device the file system was opened on.</summary>
    public abstract BlockDevice Device { get; }

    /// <summary>The volume label, when there is one.</summary>
    public virtual string? Label => null;

    /// <summary>The root directory (its name is empty).</summary>
    public abstract FileSystemEntry Root { get; }

    /// <summary>How <see cref="Lookup"/> compares names: ordinal for case-sensitive file systems, ordinal-ignore-case otherwise.</summary>
    public abstract StringComparison NameComparison { get; }

    /// <summary>What the file system records about itself, for <c>fsinfo</c> (JSON-friendly values: string, number, bool, nested lists and dictionaries).</summary>
    public virtual IReadOnlyList<KeyValuePair<string, object?>> Info => [];

    /// <summary>The file name used in error messages, or null.</summary>
    public abstract string? DisplayPath { get; }

    /// <summary>The entries of <paramref name="directory"/> (without <c>.</c> and <c>..</c>), in the order the file system stores them.</summary>
    /// <exception cref="ArgumentException"><paramref name="directory"/> is not a directory of this file system.</exception>
    /// <exception cref="CorruptImageException">The directory is damaged (or loops back onto one of its ancestors).</exception>
    public abstract IReadOnlyList<FileSystemEntry> ListDirectory(FileSystemEntry directory);

    /// <summary>
    /// Opens the content of a regular file as a read-only device of <see cref="FileSystemEntry.Size"/> bytes
    /// (positional, concurrency-safe, streaming). Dispose it when done.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="file"/> is not a regular file of this file system.</exception>
    /// <exception cref="CorruptImageException">The file's allocation is damaged (out of the device, overlapping).</exception>
    /// <exception cref="UnsupportedFeatureException">The file is stored in a way Discemu cannot read.</exception>
    public abstract BlockDevice OpenFile(FileSystemEntry file);

    /// <summary>
    /// Finds the entry at <paramref name="path"/> (components separated by <c>/</c>; empty and <c>.</c>
    /// components are skipped, <c>..</c> goes up, never above the root). Symbolic links are not followed.
    /// </summary>
    /// <returns>The entry, or null when a component does not exist.</returns>
    /// <exception cref="BadArgumentException">A component before the last is not a directory, or the path is too deep.</exception>
    /// <exception cref="CorruptImageException">A directory on the way is damaged.</exception>
    public FileSystemEntry? TryLookup(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var stack = new List<FileSystemEntry> { Root };
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length > MaxPathDepth) throw new BadArgumentException($"The path is deeper than {MaxPathDepth} components.", DescribePath(path));
        foreach (var part in parts)
        {
            if (part == ".") continue;
            if (part == "..")
            {
                if (stack.Count > 1) stack.RemoveAt(stack.Count - 1);
                continue;
            }
            var current = stack[^1];
            if (!current.IsDirectory) throw new BadArgumentException("Not a directory.", DescribePath(path));
            var child = FindChild(current, part);
            if (child is null) return null;
            stack.Add(child);
        }
        return stack[^1];
    }

    /// <summary>Like <see cref="TryLookup"/>, but a missing entry is an error.</summary>
    /// <exception cref="BadArgumentException">Nothing exists at <paramref name="path"/>, or a component before the last is not a directory.</exception>
    /// <exception cref="CorruptImageException">A directory on the way is damaged.</exception>
    public FileSystemEntry Lookup(string path)
        => TryLookup(path) ?? throw new BadArgumentException("No such file or directory.", DescribePath(path));

    /// <summary>How errors name a path inside this file system: <c>image:/path</c> when the image is known.</summary>
    public string DescribePath(string path) => DisplayPath is null ? path : $"{DisplayPath}:{path}";

    /// <summary>
    /// The child of <paramref name="directory"/> called <paramref name="name"/>: an exact match first, then a
    /// match under <see cref="NameComparison"/>. Drivers may override it to accept other spellings of a name.
    /// </summary>
    protected virtual FileSystemEntry? FindChild(FileSystemEntry directory, string name)
    {
        var entries = ListDirectory(directory);
        return entries.FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.Ordinal))
               ?? entries.FirstOrDefault(e => string.Equals(e.Name, name, NameComparison));
    }

    /// <summary>The display path for errors: the options' name, else the image's path, else null.</summary>
    internal static string? DisplayPathOf(BlockDevice device, FileSystemOpenOptions options)
        => options.DisplayPath ?? (device as DiskImage)?.Path;

    /// <summary>Releases what the driver holds (never the device).</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases resources; override when the driver holds any.</summary>
    protected virtual void Dispose(bool disposing) { }
}
