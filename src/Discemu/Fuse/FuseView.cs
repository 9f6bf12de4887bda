using Discemu.Block;
using Discemu.FileSystems;

namespace Discemu.Fuse;

/// <summary>
/// What a FUSE mount shows: a tree of <see cref="FileSystemEntry"/> addressed by absolute paths ("/" is the root).
/// The server maps kernel node ids to paths; the view answers per path. Every member may be called from several
/// threads at once. Failures are <see cref="FuseErrorException"/> (or library exceptions the server maps to errno).
/// </summary>
internal abstract class FuseView : IDisposable
{
    /// <summary>True when the editing operations work; a read-only view is mounted read-only.</summary>
    public abstract bool Writable { get; }

    /// <summary>How long the kernel may cache names and attributes.</summary>
    public abstract TimeSpan CacheTimeout { get; }

    /// <summary>True when file contents never change behind the kernel's back (open replies keep the page cache).</summary>
    public abstract bool KeepCache { get; }

    /// <summary>The root directory.</summary>
    public abstract FileSystemEntry Root { get; }

    /// <summary>The child <paramref name="name"/> of the directory <paramref name="parent"/> at <paramref name="parentPath"/>, or null.</summary>
    public abstract FileSystemEntry? Lookup(FileSystemEntry parent, string parentPath, string name);

    /// <summary>The current state of the entry at <paramref name="path"/> (<paramref name="known"/> is the last one seen), or null when it is gone.</summary>
    public abstract FileSystemEntry? Refresh(FileSystemEntry known, string path);

    /// <summary>The entries of the directory at <paramref name="path"/>.</summary>
    public abstract IReadOnlyList<FileSystemEntry> List(FileSystemEntry directory, string path);

    /// <summary>Opens a regular file; <paramref name="path"/> gives its current path (it follows renames).</summary>
    public abstract IFuseFile Open(FileSystemEntry file, Func<string> path, bool write);

    /// <summary>Total and free bytes, and the block size to report.</summary>
    public abstract (long Total, long Free, int BlockSize) Space { get; }

    /// <summary>Writes pending changes to the image.</summary>
    public virtual void Flush() { }

    /// <summary>Creates an empty regular file.</summary>
    public virtual FileSystemEntry CreateFile(string path) => throw new FuseErrorException(Errno.EROFS);

    /// <summary>Creates an empty directory.</summary>
    public virtual FileSystemEntry CreateDirectory(string path) => throw new FuseErrorException(Errno.EROFS);

    /// <summary>Removes a file or an empty directory.</summary>
    public virtual void Delete(string path) => throw new FuseErrorException(Errno.EROFS);

    /// <summary>Moves an entry (replacing the target when allowed).</summary>
    public virtual void Move(string from, string to, bool replace) => throw new FuseErrorException(Errno.EROFS);

    /// <summary>Changes a regular file's size.</summary>
    public virtual void SetLength(FileSystemEntry file, string path, long length) => throw new FuseErrorException(Errno.EROFS);

    /// <summary>Sets times (null: unchanged).</summary>
    public virtual void SetTimes(FileSystemEntry entry, string path, DateTimeOffset? accessed, DateTimeOffset? modified) => throw new FuseErrorException(Errno.EROFS);

    /// <summary>Applies a chmod (as far as the file system records permissions).</summary>
    public virtual void SetMode(FileSystemEntry entry, string path, uint mode) => throw new FuseErrorException(Errno.EROFS);

    /// <inheritdoc/>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases what the view owns.</summary>
    protected virtual void Dispose(bool disposing) { }
}

/// <summary>An open regular file of a <see cref="FuseView"/>.</summary>
internal interface IFuseFile : IDisposable
{
    /// <summary>Reads at <paramref name="offset"/>; returns the bytes read (short at the end of the file).</summary>
    int Read(long offset, Span<byte> buffer);

    /// <summary>Writes at <paramref name="offset"/>.</summary>
    void Write(long offset, ReadOnlySpan<byte> data);

    /// <summary>Writes pending data to the image.</summary>
    void Flush();

    /// <summary>
    /// For zero-copy READ replies: fills <paramref name="extents"/> with the host file ranges holding what
    /// <see cref="Read"/> at <paramref name="offset"/> of <paramref name="size"/> bytes would return (fewer bytes at the
    /// end of the file), in order. False when some of those bytes are not stored verbatim in a host file (or the
    /// read is empty): the caller then uses <see cref="Read"/>. Files whose content may change while mounted say false.
    /// </summary>
    bool TryMapToHost(long offset, int size, List<HostExtent> extents) => false;
}

/// <summary>An entry a view makes up (the raw view's root and disk file).</summary>
internal sealed class SyntheticEntry : FileSystemEntry
{
}
