using System.Collections.Concurrent;
using System.IO.Enumeration;
using System.Numerics;
using Discemu.FileSystems;
using HostDirEntry = System.IO.Enumeration.FileSystemEntry;

namespace Discemu.Cli.Commands;

/// <summary>What <see cref="HostTreeReader"/> hands over, in copy order.</summary>
internal enum HostItemKind
{
    /// <summary>A directory starts (the tree's root first): create it, then its items follow.</summary>
    EnterDirectory,

    /// <summary>A regular file, with its content when it is small.</summary>
    File,

    /// <summary>The directory entered last is complete: set its times.</summary>
    LeaveDirectory,

    /// <summary>Listing or reading failed here: nothing follows.</summary>
    Failed,
}

/// <summary>One step of a host tree: a directory boundary or a file (its content read ahead when small), or the error met.</summary>
/// <param name="Kind">What it is.</param>
/// <param name="Name">The name inside its parent (the root's is unused).</param>
/// <param name="Path">The host path.</param>
/// <param name="Length">A file's size as listed.</param>
/// <param name="Times">The times to record.</param>
/// <param name="Content">A small file's content (in a buffer of the reader's pool), or null to stream it.</param>
/// <param name="ContentLength">The bytes of <paramref name="Content"/> that are the file.</param>
/// <param name="Error">For <see cref="HostItemKind.Failed"/>, what failed.</param>
internal sealed record HostItem(HostItemKind Kind, string Name, string Path, long Length, EntryTimes Times,
    byte[]? Content = null, int ContentLength = 0, Exception? Error = null);

/// <summary>
/// Walks a host directory tree on a second thread in the order <c>put -r</c> copies it (depth first, entries in
/// ordinal name order, symbolic links skipped, as FAT has none) and reads small files ahead, so listing and reading
/// the host overlaps with writing the image. Items are handed over in batches of <see cref="Batch"/> (one hand-over
/// per batch, not per file); at most <see cref="Ahead"/> batches of items (each holding under <see cref="SmallFile"/>
/// bytes) wait in memory; larger files are left to the writer to stream.
/// </summary>
internal sealed class HostTreeReader : IDisposable
{
    /// <summary>Files under this size are read ahead whole.</summary>
    public const int SmallFile = 64 << 10;

    private const int Batch = 64;
    private const int Ahead = 4;
    private const int MinBufferBits = 10;
    private readonly BlockingCollection<List<HostItem>> _queue = new(Ahead);
    private List<HostItem> _batch = new(Batch);

    // Buffers by power-of-two size (1 KiB up to SmallFile * 2), reused as the writer hands them back: at most the
    // items in flight are out at once, so each list stays bounded by (Ahead + 2) * Batch.
    private readonly ConcurrentQueue<byte[]>[] _free = [.. Enumerable.Range(0, 8).Select(_ => new ConcurrentQueue<byte[]>())];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _producer;

    /// <summary>Starts walking <paramref name="root"/>.</summary>
    public HostTreeReader(string root) => _producer = Task.Run(() => Produce(root));

    /// <summary>The items in copy order, as they become ready (blocking until then).</summary>
    public IEnumerable<HostItem> Items => _queue.GetConsumingEnumerable().SelectMany(batch => batch);

    /// <summary>Gives a file item's buffer back to the reader once its content is written.</summary>
    public void Return(HostItem item)
    {
        if (item.Content is { } c) _free[BitOperations.Log2((uint)c.Length) - MinBufferBits].Enqueue(c);
    }

    private byte[] Rent(int length)
    {
        int bits = Math.Max(MinBufferBits, BitOperations.Log2((uint)Math.Max(1, length - 1)) + 1);
        return _free[bits - MinBufferBits].TryDequeue(out var buffer) ? buffer : new byte[1 << bits];
    }

    /// <summary>
    /// Reads a file of <paramref name="length"/> bytes (as listed) whole into <paramref name="into"/>, which must hold
    /// length + 1 bytes: one read call normally, since asking for one byte more tells whether it grew since.
    /// </summary>
    /// <returns>The bytes read, or -1 when the file is now longer than listed (stream it instead).</returns>
    public static int ReadWhole(string path, long length, byte[] into)
    {
        // On Linux a bare descriptor saves the status call and the lock File.OpenHandle makes; on failure the
        // portable path below runs and reports the error.
        if (Discemu.Util.LinuxNative.ReadFileStart(path, into.AsSpan(0, (int)length + 1), (int)length) is { } read)
            return read > length ? -1 : read;
        using var input = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        int got = 0, n;
        while ((n = RandomAccess.Read(input, into.AsSpan(got, (int)length + 1 - got), got)) > 0)
        {
            got += n;
            if (got >= length) break;
        }
        return got > length ? -1 : got;
    }

    private void Produce(string root)
    {
        try
        {
            Walk(root, "");
            Send();
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // The writer stopped (it failed or finished early): nothing more is wanted.
        }
        catch (Exception e)
        {
            try
            {
                _batch.Add(new HostItem(HostItemKind.Failed, "", root, 0, new EntryTimes(), Error: e));
                Send();
            }
            catch (OperationCanceledException) { /* the writer stopped first */ }
        }
        finally
        {
            _queue.CompleteAdding();
        }
    }

    private void Walk(string dir, string name)
    {
        Add(new HostItem(HostItemKind.EnterDirectory, name, dir, 0, DirectoryTimes(dir)));
        foreach (var entry in List(dir))
        {
            if (entry.Kind == HostItemKind.EnterDirectory) Walk(entry.Path, entry.Name);
            else Add(ReadAhead(entry));
        }
        Add(new HostItem(HostItemKind.LeaveDirectory, name, dir, 0, DirectoryTimes(dir)));
    }

    private void Add(HostItem item)
    {
        _batch.Add(item);
        if (_batch.Count >= Batch) Send();
    }

    /// <summary>Hands the items gathered so far to the writer (waiting while <see cref="Ahead"/> batches are queued).</summary>
    private void Send()
    {
        if (_batch.Count == 0) return;
        _queue.Add(_batch, _stop.Token);
        _batch = new List<HostItem>(Batch);
    }

    private HostItem ReadAhead(HostItem file)
    {
        if (file.Length >= SmallFile) return file;
        var buffer = Rent((int)file.Length + 1);
        int got = ReadWhole(file.Path, file.Length, buffer);
        return got >= 0 ? file with { Content = buffer, ContentLength = got } : file;
    }

    /// <summary>The times put records for a host file or directory.</summary>
    public static EntryTimes Times(FileSystemInfo info)
        => new(new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero), new DateTimeOffset(info.LastAccessTimeUtc, TimeSpan.Zero), new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero));

    private static EntryTimes DirectoryTimes(string dir) => Times(new DirectoryInfo(dir));

    /// <summary>
    /// The entries of <paramref name="dir"/> in ordinal name order without symbolic links: directories as
    /// <see cref="HostItemKind.EnterDirectory"/>, files with size and times from the listing's one status call.
    /// </summary>
    private static List<HostItem> List(string dir)
    {
        var options = new EnumerationOptions { AttributesToSkip = 0, IgnoreInaccessible = false, RecurseSubdirectories = false };
        var listing = new FileSystemEnumerable<HostItem?>(dir, (ref HostDirEntry e) =>
        {
            string path = e.ToFullPath();
            if ((e.Attributes & FileAttributes.ReparsePoint) != 0 && e.ToFileSystemInfo().LinkTarget is not null) return null;
            if (e.IsDirectory) return new HostItem(HostItemKind.EnterDirectory, e.FileName.ToString(), path, 0, new EntryTimes());
            return new HostItem(HostItemKind.File, e.FileName.ToString(), path, e.Length, new EntryTimes(e.LastWriteTimeUtc, e.LastAccessTimeUtc, e.LastWriteTimeUtc));
        }, options);
        var entries = new List<HostItem>();
        foreach (var entry in listing)
            if (entry is not null) entries.Add(entry);
        entries.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return entries;
    }

    /// <summary>Stops the walk (when the writer ends early) and waits for the thread to finish.</summary>
    public void Dispose()
    {
        _stop.Cancel();
        try { _producer.Wait(); }
        catch (AggregateException) { /* reported through the Failed item */ }
        while (_queue.TryTake(out var left))
            foreach (var item in left) Return(item);
        _queue.Dispose();
        _stop.Dispose();
    }
}
