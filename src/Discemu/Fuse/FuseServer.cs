using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;

namespace Discemu.Fuse;

/// <summary>How <see cref="FuseServer.Mount"/> mounts.</summary>
internal sealed record FuseMountOptions
{
    /// <summary>The mount's source as /proc/mounts shows it (the image path).</summary>
    public string Source { get; init; } = "discemu";

    /// <summary>Let other users than the mounting one in (<c>allow_other</c>).</summary>
    public bool AllowOther { get; init; }

    /// <summary>Request threads, each blocking on read(2) of /dev/fuse.</summary>
    public int Threads { get; init; } = Math.Clamp(Environment.ProcessorCount * 2, 4, 16);

    /// <summary>The largest WRITE and READ (a power of two, 128 KiB to 1 MiB).</summary>
    public int MaxIo { get; init; } = 1 << 20;

    /// <summary>Receives one line per failed request or problem (null: silent).</summary>
    public Action<string>? Log { get; init; }

    /// <summary>
    /// Answer READs of files stored verbatim in a host file (raw images, partitions, ISO/UDF/FAT files of read-only
    /// mounts) with splice(2), without copying the data through the server; other READs are copied as before.
    /// </summary>
    public bool Splice { get; init; } = true;

    /// <summary>
    /// Open the files of read-only views with FOPEN_DIRECT_IO: no FUSE page cache, so a reader's read(2) is answered
    /// straight into its buffer (with <see cref="Splice"/>, one copy from the image's page cache, as for a plain file)
    /// and large reads go out as several READs at once (ASYNC_DIO). The price: no read-ahead (small reads cost a
    /// round trip each) and shared mmap(2) of those files fails (ENODEV; private mappings, e.g. executables, work).
    /// </summary>
    public bool DirectIo { get; init; }

    /// <summary>
    /// Leave no dead mount behind should this process die without unmounting (SIGKILL, a crash): the mount is made by
    /// fusermount3 with <c>auto_unmount</c> (for root too), which stays running, watching a socket only this process
    /// holds, and unmounts (lazily) once it closes. Root without fusermount3 mounts with mount(2) and without this
    /// guard (said through <see cref="Log"/>).
    /// </summary>
    public bool AutoUnmount { get; init; }
}

/// <summary>
/// A FUSE file system server speaking the kernel protocol on /dev/fuse directly (no libfuse): mounts a
/// <see cref="FuseView"/> with mount(2) (root) or fusermount3, serves requests on several threads and unmounts.
/// </summary>
internal sealed partial class FuseServer : IDisposable
{
    private readonly FuseView _view;
    private readonly FuseMountOptions _options;
    private readonly FuseNodeTable _nodes;
    private readonly ConcurrentDictionary<ulong, object> _handles = new();
    private readonly ManualResetEventSlim _initDone = new(false);
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<Thread> _threads = [];
    private readonly uint _uid;
    private readonly uint _gid;
    private readonly bool _viaFusermount;
    private FuseMounter.Watcher? _watcher;
    private int _fd;
    private int _running;
    private long _nextHandle;
    private int _unmounted;
    private uint _maxWrite;

    private FuseServer(FuseView view, string mountPoint, FuseMountOptions options, int fd, bool viaFusermount)
    {
        _view = view;
        MountPoint = mountPoint;
        _options = options;
        _fd = fd;
        _viaFusermount = viaFusermount;
        _uid = FuseNative.GetUid();
        _gid = FuseNative.GetGid();
        _nodes = new FuseNodeTable(view.Root);
    }

    /// <summary>The absolute mount point.</summary>
    public string MountPoint { get; }

    /// <summary>Completes when the file system is unmounted (by <see cref="Unmount"/>, umount(8) or fusermount3 -u).</summary>
    public Task Stopped => _stopped.Task;

    /// <summary>The nodes the kernel currently holds (for tests).</summary>
    internal int NodeCount => _nodes.Count;

    /// <summary>The open file and directory handles (for tests).</summary>
    internal int HandleCount => _handles.Count;

    /// <summary>
    /// Mounts <paramref name="view"/> at <paramref name="mountPoint"/> and returns once the kernel's INIT is answered
    /// (the mount is usable). Read-only views are mounted read-only.
    /// </summary>
    /// <exception cref="UnsupportedFeatureException">Not Linux, a big-endian host, or FUSE is not available.</exception>
    /// <exception cref="BadArgumentException">The mount point is not a directory.</exception>
    /// <exception cref="ImageAccessException">/dev/fuse cannot be opened or the mount is refused.</exception>
    public static FuseServer Mount(FuseView view, string mountPoint, FuseMountOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(view);
        ArgumentException.ThrowIfNullOrEmpty(mountPoint);
        options ??= new FuseMountOptions();
        if (!OperatingSystem.IsLinux()) throw new UnsupportedFeatureException("FUSE mounts need Linux.");
        if (!BitConverter.IsLittleEndian) throw new UnsupportedFeatureException("FUSE mounts need a little-endian host.");
        if (options.MaxIo is < 128 * 1024 or > 1 << 20 || (options.MaxIo & (options.MaxIo - 1)) != 0) throw new ArgumentException("MaxIo must be a power of two from 128 KiB to 1 MiB.", nameof(options));
        if (options.Threads is < 1 or > 64) throw new ArgumentException("Threads must be 1 to 64.", nameof(options));
        string target = Path.GetFullPath(mountPoint);
        if (!Directory.Exists(target)) throw new BadArgumentException("The mount point is not a directory.", mountPoint);

        int fd = -1;
        FuseMounter.Watcher? watcher = null;
        bool root = FuseNative.GetEuid() == 0;
        bool viaFusermount = !root || options.AutoUnmount;
        if (viaFusermount)
        {
            try
            {
                (fd, watcher) = FuseMounter.MountWithFusermount(target, options, view.Writable);
            }
            catch (UnsupportedFeatureException) when (root)
            {
                options.Log?.Invoke($"{FuseMounter.Fusermount} is not installed: mounting with mount(2), which cannot unmount should this process be killed");
                viaFusermount = false;
            }
        }
        if (!viaFusermount)
        {
            fd = FuseNative.Open("/dev/fuse", FuseNative.ORdWr | FuseNative.OCloExec);
            if (fd < 0)
            {
                int err = FuseNative.LastErrno;
                throw new ImageAccessException($"Cannot open /dev/fuse: {FuseNative.Describe(err)}.", "/dev/fuse");
            }
            string data = $"fd={fd},rootmode=40000,user_id={FuseNative.GetUid()},group_id={FuseNative.GetGid()},default_permissions" + (options.AllowOther ? ",allow_other" : "");
            ulong flags = FuseNative.MsNoSuid | FuseNative.MsNoDev | (view.Writable ? 0 : FuseNative.MsRdOnly);
            if (FuseNative.Mount(options.Source, target, "fuse.discemu", flags, data) != 0)
            {
                int err = FuseNative.LastErrno;
                FuseNative.Close(fd);
                throw new ImageAccessException($"mount(2) failed: {FuseNative.Describe(err)}.", mountPoint);
            }
        }

        var server = new FuseServer(view, target, options, fd, viaFusermount) { _watcher = watcher };
        server.Start();
        if (!server.WaitForInit())
        {
            server.Dispose();
            throw new ImageAccessException("The kernel did not start the FUSE session.", mountPoint);
        }
        if (root) RaiseReadahead(target);
        return server;
    }

    /// <summary>Read-ahead the mount's bdi gets (the kernel's default, 128 KiB, caps every READ at 128 KiB).</summary>
    private const int ReadaheadKiB = 4096;

    /// <summary>
    /// Raises the read-ahead of the new mount's backing device info (root only: /sys/class/bdi/MAJ:MIN/read_ahead_kb),
    /// so sequential reads arrive as several 1 MiB READs in flight rather than one 128 KiB READ at a time: about 1.7x
    /// the throughput on a 256 MiB file. The INIT reply cannot do this (it may only lower the kernel's value). Best effort.
    /// </summary>
    private static void RaiseReadahead(string target)
    {
        try
        {
            string? device = null;
            foreach (var line in File.ReadLines("/proc/self/mountinfo"))
            {
                var f = line.Split(' ');
                if (f.Length > 4 && f[4].Replace("\\040", " ", StringComparison.Ordinal) == target) device = f[2]; // the last mount there wins
            }
            if (device is not null) File.WriteAllText($"/sys/class/bdi/{device}/read_ahead_kb", ReadaheadKiB.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    private void Start()
    {
        _running = _options.Threads;
        var pipes = CreateSplicePipes(_options.Threads);
        for (int i = 0; i < _options.Threads; i++)
        {
            var t = new Thread(Worker) { IsBackground = true, Name = $"fuse-{i}" };
            _threads.Add(t);
            t.Start(pipes[i]);
        }
    }

    private bool WaitForInit()
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (_initDone.Wait(50)) return true;
            if (Stopped.IsCompleted) return false;
        }
        return false;
    }

    /// <summary>Unmounts (lazily when busy); the serving threads end once the kernel closes the session. Safe to call more than once.</summary>
    public void Unmount()
    {
        if (Interlocked.Exchange(ref _unmounted, 1) != 0) return;
        UnmountPath(MountPoint, _viaFusermount, lazyIfBusy: true);
    }

    /// <summary>Unmounts any FUSE mount at <paramref name="mountPoint"/> (umount2, falling back to a lazy unmount when busy; fusermount3 -u when not root).</summary>
    /// <exception cref="ImageAccessException">The unmount failed.</exception>
    public static void UnmountPath(string mountPoint, bool viaFusermount, bool lazyIfBusy)
    {
        string target = Path.GetFullPath(mountPoint);
        if (viaFusermount || FuseNative.GetEuid() != 0)
        {
            FuseMounter.FusermountUnmount(target, lazyIfBusy);
            return;
        }
        if (FuseNative.Umount2(target, 0) == 0) return;
        int err = FuseNative.LastErrno;
        if (err == Errno.EBUSY && lazyIfBusy && FuseNative.Umount2(target, FuseNative.MntDetach) == 0) return;
        if (err == Errno.EINVAL) throw new BadArgumentException("Not a mount point.", mountPoint);
        throw new ImageAccessException($"umount failed: {FuseNative.Describe(err)}.", mountPoint);
    }

    /// <summary>Unmounts (when still mounted), waits for the threads and closes the session.</summary>
    public void Dispose()
    {
        try
        {
            if (!Stopped.IsCompleted) Unmount(); // else it was unmounted from outside already
        }
        catch (DiscemuException e) { _options.Log?.Invoke($"unmount: {e.Message}"); }
        foreach (var t in _threads) t.Join(TimeSpan.FromSeconds(10));
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0) FuseNative.Close(fd);
        Interlocked.Exchange(ref _watcher, null)?.Release(); // unmounted already: the watcher finds nothing to do and ends
        foreach (var h in _handles.Values) (h as IDisposable)?.Dispose();
        _handles.Clear();
        _initDone.Dispose();
    }

    private unsafe void Worker(object? splicePipe)
    {
        int inSize = _options.MaxIo + 64 * 1024; // headers and the largest WRITE's data
        byte[] input = GC.AllocateUninitializedArray<byte>(inSize, pinned: true);
        byte[] output = GC.AllocateUninitializedArray<byte>(_options.MaxIo + 4096, pinned: true);
        using var pipe = splicePipe as FuseSplicePipe;
        try
        {
            fixed (byte* inPtr = input)
            {
                while (true)
                {
                    int fd = Volatile.Read(ref _fd);
                    if (fd < 0) return;
                    nint n = FuseNative.Read(fd, inPtr, input.Length);
                    if (n < 0)
                    {
                        int err = FuseNative.LastErrno;
                        if (err is Errno.EINTR or Errno.EAGAIN or Errno.ENOENT) continue; // interrupted or aborted request
                        if (err != Errno.ENODEV) _options.Log?.Invoke($"reading /dev/fuse: {FuseNative.Describe(err)}");
                        return; // ENODEV: unmounted
                    }
                    if (n < FuseConstants.InHeaderSize) continue;
                    Handle(input.AsSpan(0, (int)n), output, pipe);
                }
            }
        }
        finally
        {
            if (Interlocked.Decrement(ref _running) == 0) _stopped.TrySetResult();
        }
    }

    /// <summary>Sends a reply whose body (of <paramref name="bodyLength"/> bytes) is already in <paramref name="output"/> after the header.</summary>
    private unsafe void Reply(byte[] output, ulong unique, int bodyLength, int errno = 0)
    {
        int len = FuseConstants.OutHeaderSize + (errno == 0 ? bodyLength : 0);
        BinaryPrimitives.WriteUInt32LittleEndian(output, (uint)len);
        BinaryPrimitives.WriteInt32LittleEndian(output.AsSpan(4), -errno);
        BinaryPrimitives.WriteUInt64LittleEndian(output.AsSpan(8), unique);
        fixed (byte* p = output)
        {
            int fd = Volatile.Read(ref _fd);
            if (fd < 0) return;
            if (FuseNative.Write(fd, p, len) < 0)
            {
                int err = FuseNative.LastErrno;
                if (err is not Errno.ENOENT and not Errno.ENODEV) _options.Log?.Invoke($"replying to request {unique}: {FuseNative.Describe(err)}");
            }
        }
    }

    private ulong AddHandle(object handle)
    {
        ulong id = (ulong)Interlocked.Increment(ref _nextHandle);
        _handles[id] = handle;
        return id;
    }

    private T GetHandle<T>(ulong fh) where T : class
        => _handles.TryGetValue(fh, out var h) && h is T t ? t : throw new FuseErrorException(Errno.EBADF);
}
