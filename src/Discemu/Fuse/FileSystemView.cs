using Discemu.Block;
using Discemu.FileSystems;

namespace Discemu.Fuse;

/// <summary>
/// The file view: the tree of a <see cref="FileSystem"/>, writable when it implements
/// <see cref="IWritableFileSystem"/> (and <c>writable</c> is asked for). Read-only trees never change, so entries
/// and attributes are cached by the kernel for long; writable ones are looked up again by path.
/// </summary>
internal sealed class FileSystemView : FuseView
{
    private readonly FileSystem _fs;
    private readonly IWritableFileSystem? _wfs;
    private long _generation;

    /// <summary>Shows <paramref name="fs"/> (which the caller keeps owning); editable when <paramref name="writable"/> and the file system can be written.</summary>
    public FileSystemView(FileSystem fs, bool writable)
    {
        ArgumentNullException.ThrowIfNull(fs);
        _fs = fs;
        _wfs = writable ? fs as IWritableFileSystem : null;
    }

    /// <inheritdoc/>
    public override bool Writable => _wfs is not null;

    /// <inheritdoc/>
    public override TimeSpan CacheTimeout => Writable ? TimeSpan.FromSeconds(1) : TimeSpan.FromHours(1);

    /// <inheritdoc/>
    public override bool KeepCache => !Writable;

    /// <inheritdoc/>
    public override FileSystemEntry Root => _fs.Root;

    /// <summary>Bumped by every change: open files reopen their content when it moved.</summary>
    internal long Generation => Interlocked.Read(ref _generation);

    private void Changed() => Interlocked.Increment(ref _generation);

    /// <inheritdoc/>
    public override FileSystemEntry? Lookup(FileSystemEntry parent, string parentPath, string name)
    {
        if (Writable) return _fs.TryLookup(Join(parentPath, name));
        var entries = _fs.ListDirectory(parent);
        return entries.FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.Ordinal))
               ?? entries.FirstOrDefault(e => string.Equals(e.Name, name, _fs.NameComparison));
    }

    /// <inheritdoc/>
    public override FileSystemEntry? Refresh(FileSystemEntry known, string path)
        => Writable ? (path == "/" ? _fs.Root : _fs.TryLookup(path)) : known;

    /// <inheritdoc/>
    public override IReadOnlyList<FileSystemEntry> List(FileSystemEntry directory, string path)
    {
        if (Writable)
        {
            var current = path == "/" ? _fs.Root : _fs.TryLookup(path) ?? throw new FuseErrorException(Errno.ENOENT);
            return _fs.ListDirectory(current);
        }
        return _fs.ListDirectory(directory);
    }

    /// <inheritdoc/>
    public override IFuseFile Open(FileSystemEntry file, Func<string> path, bool write)
    {
        if (write && !Writable) throw new FuseErrorException(Errno.EROFS);
        return Writable ? new WritableFile(this, path) : new ReadOnlyFile(_fs.OpenFile(file));
    }

    /// <inheritdoc/>
    public override (long Total, long Free, int BlockSize) Space => (_fs.Device.Length, _wfs?.FreeBytes ?? 0, 4096);

    /// <inheritdoc/>
    public override void Flush() => _wfs?.Flush();

    private IWritableFileSystem W => _wfs ?? throw new FuseErrorException(Errno.EROFS);

    /// <inheritdoc/>
    public override FileSystemEntry CreateFile(string path)
    {
        var e = W.CreateFile(path);
        Changed();
        return e;
    }

    /// <inheritdoc/>
    public override FileSystemEntry CreateDirectory(string path)
    {
        var e = W.CreateDirectory(path);
        Changed();
        return e;
    }

    /// <inheritdoc/>
    public override void Delete(string path)
    {
        W.Delete(path);
        Changed();
    }

    /// <inheritdoc/>
    public override void Move(string from, string to, bool replace)
    {
        W.Move(from, to, replace);
        Changed();
    }

    /// <inheritdoc/>
    public override void SetLength(FileSystemEntry file, string path, long length)
    {
        W.SetLength(path, length);
        Changed();
    }

    /// <inheritdoc/>
    public override void SetTimes(FileSystemEntry entry, string path, DateTimeOffset? accessed, DateTimeOffset? modified)
    {
        W.SetTimes(path, new EntryTimes(Modified: modified, Accessed: accessed));
        Changed();
    }

    /// <inheritdoc/>
    public override void SetMode(FileSystemEntry entry, string path, uint mode)
    {
        if (entry.IsDirectory) return; // FAT records no directory permissions: nothing to change.
        var attrs = entry.Attributes == FileAttributes.Normal ? 0 : entry.Attributes;
        attrs = (mode & 0x92) == 0 ? attrs | FileAttributes.ReadOnly : attrs & ~FileAttributes.ReadOnly; // no write bit at all => read-only
        W.SetAttributes(path, attrs == 0 ? FileAttributes.Normal : attrs);
        Changed();
    }

    internal static string Join(string parent, string name) => parent == "/" ? "/" + name : parent + "/" + name;

    private sealed class ReadOnlyFile(BlockDevice content) : IFuseFile
    {
        public int Read(long offset, Span<byte> buffer)
        {
            if (offset >= content.Length) return 0;
            int n = (int)Math.Min(buffer.Length, content.Length - offset);
            content.Read(offset, buffer[..n]);
            return n;
        }

        public void Write(long offset, ReadOnlySpan<byte> data) => throw new FuseErrorException(Errno.EBADF);

        public void Flush() { }

        public bool TryMapToHost(long offset, int size, List<HostExtent> extents)
        {
            long n = Math.Min(size, content.Length - offset);
            return n > 0 && HostMapping.TryMapAll(content, offset, n, extents, FuseSplicePipe.MaxExtents);
        }

        public void Dispose() => content.Dispose();
    }

    /// <summary>A file of a writable tree: writes go through the path; reads reopen the content after any change.</summary>
    private sealed class WritableFile(FileSystemView view, Func<string> path) : IFuseFile
    {
        private readonly Lock _lock = new();
        private BlockDevice? _content;
        private long _seen = -1;

        public int Read(long offset, Span<byte> buffer)
        {
            lock (_lock)
            {
                long generation = view.Generation;
                if (_content is null || _seen != generation)
                {
                    _content?.Dispose();
                    _content = null;
                    var entry = view._fs.TryLookup(path()) ?? throw new FuseErrorException(Errno.ENOENT);
                    if (entry.Kind != FileSystemEntryKind.File) throw new FuseErrorException(Errno.EISDIR);
                    _content = view._fs.OpenFile(entry);
                    _seen = generation;
                }
                if (offset >= _content.Length) return 0;
                int n = (int)Math.Min(buffer.Length, _content.Length - offset);
                _content.Read(offset, buffer[..n]);
                return n;
            }
        }

        public void Write(long offset, ReadOnlySpan<byte> data)
        {
            view.W.Write(path(), offset, data);
            view.Changed();
        }

        public void Flush() => view.W.Flush();

        public void Dispose()
        {
            lock (_lock)
            {
                _content?.Dispose();
                _content = null;
            }
        }
    }
}
