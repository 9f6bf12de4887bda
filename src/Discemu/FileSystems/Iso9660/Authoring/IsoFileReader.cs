using System.Buffers;
using System.Collections.Concurrent;
using Discemu.Util;
using Microsoft.Win32.SafeHandles;
using static Discemu.FileSystems.Iso9660.IsoConstants;

namespace Discemu.FileSystems.Iso9660.Authoring;

/// <summary>
/// Reads the contents of the files to write ahead of the writer, on one background thread, in the writer's order:
/// each file's data comes as pieces of at most <see cref="ChunkBytes"/> (rented buffers, returned by the writer) through
/// a queue of at most <see cref="QueueChunks"/> pieces, so memory stays bounded (a few MiB) whatever the tree size,
/// while opening and reading the next files overlaps writing the current ones. Holes of sparse files (SEEK_DATA) are
/// skipped: a piece carries its offset in the file.
/// </summary>
internal sealed class IsoFileReader : IDisposable
{
    public const int ChunkBytes = 1 << 20;
    public const int QueueChunks = 8;

    /// <summary>A piece of one file: <see cref="Length"/> bytes at <see cref="Offset"/> in <see cref="Buffer"/>; or the error that stopped the reader.</summary>
    public readonly record struct Piece(int FileIndex, long Offset, byte[]? Buffer, int Length, bool Pooled, Exception? Error);

    private readonly IReadOnlyList<IsoNode> _files;
    private readonly HashSet<IsoNode> _infoTables;
    private readonly BlockingCollection<Piece> _queue = new(new ConcurrentQueue<Piece>(), QueueChunks);
    private readonly CancellationTokenSource _stop;
    private readonly Thread _thread;

    public IsoFileReader(IReadOnlyList<IsoNode> files, HashSet<IsoNode> infoTables, CancellationToken cancel)
    {
        _files = files;
        _infoTables = infoTables;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        _thread = new Thread(Run) { IsBackground = true, Name = "mkiso read-ahead" };
        _thread.Start();
    }

    /// <summary>The next piece, in file order then offset order; false when every file was read.</summary>
    public bool TryNext(out Piece piece)
    {
        try
        {
            return _queue.TryTake(out piece, Timeout.Infinite, _stop.Token);
        }
        catch (OperationCanceledException)
        {
            piece = default;
            _stop.Token.ThrowIfCancellationRequested();
            throw;
        }
    }

    /// <summary>Gives a piece's buffer back.</summary>
    public static void Return(in Piece piece)
    {
        if (piece.Pooled && piece.Buffer is not null) ArrayPool<byte>.Shared.Return(piece.Buffer);
    }

    private void Run()
    {
        try
        {
            for (int i = 0; i < _files.Count; i++)
            {
                var f = _files[i];
                if (f.Size == 0) continue;
                using var handle = Open(f);
                if (_infoTables.Contains(f)) ReadWithInfoTable(i, f, handle);
                else ReadFile(i, f, handle);
            }
            _queue.CompleteAdding();
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            _queue.CompleteAdding();
        }
        catch (Exception e)
        {
            try
            {
                _queue.Add(new Piece(-1, 0, null, 0, false, e), _stop.Token);
            }
            catch (OperationCanceledException)
            {
                // The writer stopped first.
            }
            _queue.CompleteAdding();
        }
    }

    private void Add(Piece piece)
    {
        try
        {
            _queue.Add(piece, _stop.Token);
        }
        catch
        {
            Return(piece);
            throw;
        }
    }

    private static SafeFileHandle Open(IsoNode f)
    {
        try
        {
            return File.OpenHandle(f.HostPath!, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ImageAccessException($"Cannot read '{f.HostPath}': {e.Message}", f.HostPath, e);
        }
    }

    private void ReadFile(int index, IsoNode f, SafeFileHandle handle)
    {
        long offset = 0;
        while (offset < f.Size)
        {
            if (f.Size - offset > ChunkBytes && OperatingSystem.IsLinux())
            {
                // Skip holes of sparse files: they read as zeros in the new image.
                long? data = LinuxNative.NextData(handle, offset);
                long next = data is null or < 0 ? f.Size : Math.Min(data.Value, f.Size);
                if (next - offset >= ChunkBytes)
                {
                    offset = next / SectorSize * SectorSize;
                    if (offset >= f.Size) break;
                    continue;
                }
            }
            int want = (int)Math.Min(ChunkBytes, f.Size - offset);
            var buffer = ArrayPool<byte>.Shared.Rent(want);
            int filled = 0;
            try
            {
                while (filled < want)
                {
                    int n = RandomAccess.Read(handle, buffer.AsSpan(filled, want - filled), offset + filled);
                    if (n <= 0) throw new ImageAccessException($"'{f.HostPath}' shrank while it was written ({offset + filled} of {f.Size} bytes).", f.HostPath);
                    filled += n;
                }
            }
            catch
            {
                ArrayPool<byte>.Shared.Return(buffer);
                throw;
            }
            offset += want;
            Add(new Piece(index, offset - want, buffer, want, true, null));
        }
    }

    private void ReadWithInfoTable(int index, IsoNode f, SafeFileHandle handle)
    {
        var image = new byte[f.Size];
        int read = 0;
        while (read < image.Length)
        {
            int n = RandomAccess.Read(handle, image.AsSpan(read), read);
            if (n <= 0) throw new ImageAccessException($"'{f.HostPath}' shrank while it was written.", f.HostPath);
            read += n;
        }
        IsoElToritoWriter.PatchInfoTable(image, f.Extent);
        Add(new Piece(index, 0, image, image.Length, false, null));
    }

    /// <summary>Stops the reader (when the writer failed or finished) and gives back the buffers still queued.</summary>
    public void Dispose()
    {
        _stop.Cancel();
        _thread.Join();
        while (_queue.TryTake(out var p)) Return(p);
        _queue.Dispose();
        _stop.Dispose();
    }
}
