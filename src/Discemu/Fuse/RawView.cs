using Discemu.Block;
using Discemu.FileSystems;

namespace Discemu.Fuse;

/// <summary>
/// The block view (<c>--raw</c>): a directory holding one file, <c>NAME</c>, whose bytes are the device's. Reads run
/// concurrently; writes are serialised against each other and against reads (image drivers update metadata).
/// </summary>
internal sealed class RawView : FuseView
{
    private readonly BlockDevice _device;
    private readonly bool _writable;
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly SyntheticEntry _root;
    private readonly string _name;
    private readonly DateTimeOffset _time;

    /// <summary>Shows <paramref name="device"/> (which the caller keeps owning) as the file <paramref name="name"/>.</summary>
    public RawView(BlockDevice device, string name, bool writable, DateTimeOffset time)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Contains('/')) throw new ArgumentException("The name may not contain '/'.", nameof(name));
        _device = device;
        _writable = writable && device.CanWrite;
        _name = name;
        _time = time;
        _root = new SyntheticEntry { Name = "", Kind = FileSystemEntryKind.Directory, Mode = FuseConstants.SIfDir | 0x1ED, Links = 2, Modified = time, Size = 0 };
    }

    /// <inheritdoc/>
    public override bool Writable => _writable;

    /// <inheritdoc/>
    public override TimeSpan CacheTimeout => TimeSpan.FromHours(1);

    /// <inheritdoc/>
    public override bool KeepCache => true; // every change comes through the mount

    /// <inheritdoc/>
    public override FileSystemEntry Root => _root;

    private SyntheticEntry DiskEntry => new()
    {
        Name = _name,
        Kind = FileSystemEntryKind.File,
        Size = _device.Length,
        Mode = FuseConstants.SIfReg | (_writable ? 0x1A4u : 0x124u), // 0644 / 0444
        Links = 1,
        Modified = _time,
    };

    /// <inheritdoc/>
    public override FileSystemEntry? Lookup(FileSystemEntry parent, string parentPath, string name)
        => ReferenceEquals(parent, _root) && name == _name ? DiskEntry : null;

    /// <inheritdoc/>
    public override FileSystemEntry? Refresh(FileSystemEntry known, string path) => path == "/" ? _root : path == "/" + _name ? DiskEntry : null;

    /// <inheritdoc/>
    public override IReadOnlyList<FileSystemEntry> List(FileSystemEntry directory, string path) => [DiskEntry];

    /// <inheritdoc/>
    public override IFuseFile Open(FileSystemEntry file, Func<string> path, bool write)
    {
        if (write && !_writable) throw new FuseErrorException(Errno.EROFS);
        return new DiskFile(this);
    }

    /// <inheritdoc/>
    public override (long Total, long Free, int BlockSize) Space => (_device.Length, 0, 4096);

    /// <inheritdoc/>
    public override void Flush()
    {
        if (!_writable) return;
        _lock.EnterWriteLock();
        try { _device.Flush(); }
        finally { _lock.ExitWriteLock(); }
    }

    /// <inheritdoc/>
    public override void SetLength(FileSystemEntry file, string path, long length)
    {
        if (length != _device.Length) throw new FuseErrorException(Errno.EPERM, "The disk's size cannot change through the mount.");
    }

    /// <inheritdoc/>
    public override void SetTimes(FileSystemEntry entry, string path, DateTimeOffset? accessed, DateTimeOffset? modified) { }

    /// <inheritdoc/>
    public override void SetMode(FileSystemEntry entry, string path, uint mode) => throw new FuseErrorException(Errno.EPERM);

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing) _lock.Dispose();
    }

    private sealed class DiskFile(RawView view) : IFuseFile
    {
        public int Read(long offset, Span<byte> buffer)
        {
            var device = view._device;
            if (offset >= device.Length) return 0;
            int n = (int)Math.Min(buffer.Length, device.Length - offset);
            view._lock.EnterReadLock();
            try { device.Read(offset, buffer[..n]); }
            finally { view._lock.ExitReadLock(); }
            return n;
        }

        public void Write(long offset, ReadOnlySpan<byte> data)
        {
            var device = view._device;
            if (offset > device.Length || data.Length > device.Length - offset) throw new FuseErrorException(Errno.ENOSPC, "Writes cannot go past the end of the disk.");
            view._lock.EnterWriteLock();
            try { device.Write(offset, data); }
            finally { view._lock.ExitWriteLock(); }
        }

        public void Flush() => view.Flush();

        public bool TryMapToHost(long offset, int size, List<HostExtent> extents)
        {
            // Writable disks go through the lock (an image driver may move data while writing): no mapping for them.
            var device = view._device;
            long n = Math.Min(size, device.Length - offset);
            return !view._writable && n > 0 && HostMapping.TryMapAll(device, offset, n, extents, FuseSplicePipe.MaxExtents);
        }

        public void Dispose() { }
    }
}
