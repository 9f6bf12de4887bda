namespace Discemu.FileSystems;

/// <summary>What a directory entry is.</summary>
public enum FileSystemEntryKind
{
    /// <summary>A regular file: <see cref="FileSystem.OpenFile"/> reads its content.</summary>
    File,
    /// <summary>A directory: <see cref="FileSystem.ListDirectory"/> lists it.</summary>
    Directory,
    /// <summary>A symbolic link: <see cref="FileSystemEntry.SymlinkTarget"/> holds the target.</summary>
    Symlink,
    /// <summary>A device node, FIFO or socket (see <see cref="FileSystemEntry.Mode"/>).</summary>
    Other,
}

/// <summary>
/// One entry of a file system: a name and what is known about it. Drivers subclass it to carry their own
/// reference to the node (the caller hands the entry back to <see cref="FileSystem.ListDirectory"/> and
/// <see cref="FileSystem.OpenFile"/>); callers only read the properties.
/// </summary>
/// <remarks>
/// <para><see cref="Name"/> is never empty, but it is the name as the image stores it: a damaged or hostile
/// image may hold names like <c>..</c> or names with <c>/</c>, NUL or control characters (such entries cannot
/// be reached by <see cref="FileSystem.Lookup"/>, only listed). A front end that creates host files from names
/// must sanitise them (as <see cref="Operations.FileExtractor"/> does).</para>
/// <para>Optional facts are null when the file system does not record them (ISO 9660 without Rock Ridge
/// has no POSIX mode, owner or link count).</para>
/// </remarks>
public abstract class FileSystemEntry
{
    /// <summary>The name within its directory (the root's name is empty).</summary>
    public required string Name { get; init; }

    /// <summary>File, directory, symbolic link or other.</summary>
    public required FileSystemEntryKind Kind { get; init; }

    /// <summary>The content size in bytes (what <see cref="FileSystem.OpenFile"/> returns; for directories, the size the file system records).</summary>
    public long Size { get; init; }

    /// <summary>Last modification time.</summary>
    public DateTimeOffset? Modified { get; init; }

    /// <summary>Last access time.</summary>
    public DateTimeOffset? Accessed { get; init; }

    /// <summary>Creation time.</summary>
    public DateTimeOffset? Created { get; init; }

    /// <summary>Last status (attribute) change time, POSIX <c>ctime</c>.</summary>
    public DateTimeOffset? Changed { get; init; }

    /// <summary>The POSIX <c>st_mode</c>: file type bits and permissions.</summary>
    public uint? Mode { get; init; }

    /// <summary>The owner's user id.</summary>
    public uint? Uid { get; init; }

    /// <summary>The owner's group id.</summary>
    public uint? Gid { get; init; }

    /// <summary>The hard link count.</summary>
    public long? Links { get; init; }

    /// <summary>The file serial number (inode number) the file system records.</summary>
    public ulong? Inode { get; init; }

    /// <summary>For device nodes: the device number (<c>st_rdev</c>, major and minor in Linux's encoding).</summary>
    public ulong? DeviceNumber { get; init; }

    /// <summary>The target of a symbolic link, as stored.</summary>
    public string? SymlinkTarget { get; init; }

    /// <summary>DOS-style attributes (read-only, hidden, system, archive); <see cref="FileAttributes.Normal"/>
    /// when there are none.</summary>
    public FileAttributes Attributes { get; init; } = FileAttributes.Normal;

    /// <summary>
    /// Identifies the node: two entries with equal non-null identities are the same file or directory (hard
    /// links, or a damaged image reaching a directory twice). Tree walkers use it to visit each directory once.
    /// Null when the file system cannot tell.
    /// </summary>
    public object? Identity { get; init; }

    /// <summary>True for directories.</summary>
    public bool IsDirectory => Kind == FileSystemEntryKind.Directory;

    /// <inheritdoc/>
    public override string ToString() => $"{Kind} {Name} ({Size} bytes)";
}
