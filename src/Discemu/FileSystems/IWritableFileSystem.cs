namespace Discemu.FileSystems;

/// <summary>
/// The editing operations of a file system Discemu can write (FAT). A <see cref="FileSystem"/> opened with
/// <see cref="FileSystemOpenOptions.Writable"/> on a writable device implements this interface; callers test
/// for it (<c>fs as IWritableFileSystem</c>), as they do for the optional interfaces of image formats.
/// </summary>
/// <remarks>
/// <para>Operations take paths (as <see cref="FileSystem.Lookup"/> reads them) and return fresh entries:
/// a <see cref="FileSystemEntry"/> is a snapshot, so after a change look the path up again rather than
/// reuse an entry taken before it.</para>
/// <para>Every operation leaves the file system consistent when it fails part-way (disk full, I/O error):
/// what existed before is still there and readable; at worst some clusters are left allocated to nothing,
/// which a check reports as lost. Operations are serialised internally: calling them from several threads
/// at once is safe (reads may run alongside).</para>
/// </remarks>
public interface IWritableFileSystem
{
    /// <summary>Creates an empty regular file at <paramref name="path"/> (its parent must exist).</summary>
    /// <param name="path">The new file's path.</param>
    /// <param name="times">Times to record; null fields take the current time.</param>
    /// <returns>The new entry.</returns>
    /// <exception cref="BadArgumentException">Something already exists there, the parent is missing or not a directory, or the name is not valid for this file system.</exception>
    /// <exception cref="DiskFullException">No room is left for the directory entry.</exception>
    /// <exception cref="CorruptImageException">A structure on the way is damaged.</exception>
    FileSystemEntry CreateFile(string path, EntryTimes? times = null);

    /// <summary>
    /// Creates a regular file at <paramref name="path"/> (its parent must exist) holding <paramref name="content"/>,
    /// with <paramref name="times"/> as given (the write does not change them): the bulk form of
    /// <see cref="CreateFile(string, EntryTimes?)"/>, <see cref="Write"/> and <see cref="SetTimes"/>, which a file
    /// system can do with one look-up and one directory update. A failure part-way leaves no file behind.
    /// </summary>
    /// <param name="path">The new file's path.</param>
    /// <param name="content">The whole content.</param>
    /// <param name="times">Times to record; null fields take the current time.</param>
    /// <returns>The new entry.</returns>
    /// <exception cref="BadArgumentException">Something already exists there, the parent is missing or not a directory, the name is not valid for this file system, or the content is larger than a file may be.</exception>
    /// <exception cref="DiskFullException">No room is left for the content or the directory entry.</exception>
    /// <exception cref="CorruptImageException">A structure on the way is damaged.</exception>
    FileSystemEntry CreateFile(string path, ReadOnlySpan<byte> content, EntryTimes? times = null)
    {
        var created = CreateFile(path, times);
        try
        {
            if (!content.IsEmpty) Write(path, 0, content);
            if (times is not null) SetTimes(path, times);
        }
        catch
        {
            try { Delete(path); }
            catch (DiscemuException) { /* the original error is reported */ }
            throw;
        }
        return (this as FileSystem)?.TryLookup(path) ?? created;
    }

    /// <summary>Creates an empty directory at <paramref name="path"/> (its parent must exist).</summary>
    /// <param name="path">The new directory's path.</param>
    /// <param name="times">Times to record; null fields take the current time.</param>
    /// <returns>The new entry.</returns>
    /// <exception cref="BadArgumentException">Something already exists there, the parent is missing or not a directory, or the name is not valid.</exception>
    /// <exception cref="DiskFullException">No room is left.</exception>
    /// <exception cref="CorruptImageException">A structure on the way is damaged.</exception>
    FileSystemEntry CreateDirectory(string path, EntryTimes? times = null);

    /// <summary>
    /// Writes <paramref name="data"/> into the regular file at <paramref name="path"/> at byte
    /// <paramref name="offset"/>, growing the file when the write ends past its size (a gap reads as zeros).
    /// </summary>
    /// <exception cref="BadArgumentException">No regular file is there, or the offset is negative or past the largest file the file system allows.</exception>
    /// <exception cref="DiskFullException">No room is left; the file keeps its old size and content up to what was written.</exception>
    /// <exception cref="CorruptImageException">The file's allocation is damaged.</exception>
    void Write(string path, long offset, ReadOnlySpan<byte> data);

    /// <summary>Truncates or extends (with zeros) the regular file at <paramref name="path"/> to <paramref name="length"/> bytes.</summary>
    /// <exception cref="BadArgumentException">No regular file is there, or the length is negative or too large.</exception>
    /// <exception cref="DiskFullException">No room is left to extend it.</exception>
    /// <exception cref="CorruptImageException">The file's allocation is damaged.</exception>
    void SetLength(string path, long length);

    /// <summary>Removes the regular file, symbolic link or empty directory at <paramref name="path"/> and frees its space.</summary>
    /// <exception cref="BadArgumentException">Nothing is there, it is the root, or it is a directory that is not empty.</exception>
    /// <exception cref="CorruptImageException">A structure on the way is damaged.</exception>
    void Delete(string path);

    /// <summary>
    /// Moves or renames the entry at <paramref name="from"/> to <paramref name="to"/>. An existing regular file at
    /// <paramref name="to"/> is replaced when <paramref name="replace"/> is true (as rename(2) does); a directory is
    /// never replaced unless it is empty.
    /// </summary>
    /// <exception cref="BadArgumentException">The source is missing, the target exists and may not be replaced, or a directory would move into itself.</exception>
    /// <exception cref="DiskFullException">The target directory must grow and no room is left.</exception>
    /// <exception cref="CorruptImageException">A structure on the way is damaged.</exception>
    void Move(string from, string to, bool replace = false);

    /// <summary>Sets the times of the entry at <paramref name="path"/>; null fields are left as they are.</summary>
    /// <exception cref="BadArgumentException">Nothing is there.</exception>
    void SetTimes(string path, EntryTimes times);

    /// <summary>Sets the DOS attributes (read-only, hidden, system, archive) of the entry at <paramref name="path"/>.</summary>
    /// <exception cref="BadArgumentException">Nothing is there, or an attribute cannot be set (directory, volume label).</exception>
    void SetAttributes(string path, FileAttributes attributes);

    /// <summary>Sets (or with null removes) the volume label.</summary>
    /// <exception cref="BadArgumentException">The label is not valid for this file system.</exception>
    void SetLabel(string? label);

    /// <summary>The bytes still free for file content.</summary>
    long FreeBytes { get; }

    /// <summary>Writes every pending change to the device and flushes it.</summary>
    void Flush();

    /// <summary>
    /// Write-back mode for bulk copies: when true, a file system may hold the metadata of new files and
    /// directories (allocation tables, directory entries) in memory until <see cref="Flush"/> or disposal, and
    /// write it then in a crash-safe order. Until then the device still holds the file system as it was (plus
    /// content in free space). Operations that remove or move entries write everything pending first and then
    /// run write-through. Setting it to false writes what is pending. File systems without it ignore it.
    /// </summary>
    bool WriteBack { get => false; set { } }
}

/// <summary>Times to set on an entry; a null field means "leave it" (or "now" when creating).</summary>
/// <param name="Modified">Last modification.</param>
/// <param name="Accessed">Last access.</param>
/// <param name="Created">Creation.</param>
public sealed record EntryTimes(DateTimeOffset? Modified = null, DateTimeOffset? Accessed = null, DateTimeOffset? Created = null);
