using System.Security.Cryptography;
using Discemu.Operations;

namespace Discemu.Formats.Ewf;

/// <summary>
/// Writes an EnCase 6 compatible E01 segment set from media bytes streamed in order. Chunks are
/// compressed on every core through a bounded pipeline (a fixed number of chunk buffers in flight,
/// emitted in order), so memory stays flat whatever the media size. Segment files are named from
/// the first one (<c>x.E01, x.E02 … x.E99, x.EAA …</c>).
/// </summary>
/// <remarks>
/// Call <see cref="Append"/> with the media bytes in order (any span length), <see cref="AddError"/>
/// for ranges that could not be read (they are recorded in the error2 section; the bytes appended
/// for them are stored as given, normally zeros), then <see cref="Complete"/>. Not thread-safe: one
/// caller thread. A writer disposed before <see cref="Complete"/> leaves segment files without a
/// done section, which readers refuse.
/// </remarks>
public sealed partial class EwfWriter : IDisposable
{
    private readonly EwfWriterOptions _options;
    private readonly string _firstPath;
    private readonly int _chunkSize;
    private readonly int _zlibLevel;
    private readonly MultiHasher? _hasher;
    private readonly List<EwfErrorRange> _errors = [];
    private long _position;
    private bool _completed, _failed, _disposed;

    private EwfWriter(string firstPath, EwfWriterOptions options)
    {
        _options = options;
        _firstPath = firstPath;
        _chunkSize = options.SectorsPerChunk * options.BytesPerSector;
        _zlibLevel = options.Compression switch { EwfCompression.Fast => 1, EwfCompression.Best => 9, _ => 0 };
        if (options.ComputeHashes) _hasher = new MultiHasher(HashAlgorithmName.MD5, HashAlgorithmName.SHA1);
        _acquired = options.AcquisitionDate ?? DateTimeOffset.Now;
        _setIdentifier = Guid.NewGuid();
        InitPipeline(options.Threads ?? Environment.ProcessorCount);
    }

    /// <summary>
    /// Starts a new set. <paramref name="path"/> names the first segment: with an E01 (or e01, s01)
    /// extension it is used as is, otherwise ".E01" is appended. Existing segment files are overwritten.
    /// </summary>
    /// <exception cref="BadArgumentException">An option is invalid.</exception>
    /// <exception cref="ImageAccessException">The first segment cannot be created.</exception>
    public static EwfWriter Create(string path, EwfWriterOptions options)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        string ext = System.IO.Path.GetExtension(path).TrimStart('.');
        bool named = EwfSegmentNames.TryParse(ext, out _, out bool ewf2, out int number) && !ewf2 && number == 1;
        var writer = new EwfWriter(named ? path : path + ".E01", options);
        try
        {
            writer.OpenSegment(1);
            return writer;
        }
        catch
        {
            writer.Dispose();
            throw;
        }
    }

    /// <summary>The path of the first segment file.</summary>
    public string Path => _firstPath;

    /// <summary>The segment files written so far, in order.</summary>
    public IReadOnlyList<string> SegmentPaths => _paths;

    /// <summary>Media bytes appended so far.</summary>
    public long Position => _position;

    /// <summary>The options the set is written with.</summary>
    public EwfWriterOptions Options => _options;

    /// <summary>Appends the next media bytes.</summary>
    /// <exception cref="InvalidOperationException">The data goes past the media size, or the writer is completed or failed.</exception>
    /// <exception cref="ImageAccessException">A segment file could not be written.</exception>
    public void Append(ReadOnlySpan<byte> data)
    {
        CheckUsable();
        if (data.Length > _options.MediaSize - _position)
            throw new InvalidOperationException($"Appending {data.Length} bytes at {_position} goes past the media size of {_options.MediaSize} bytes.");
        Guarded(data, static (w, d) => w.AppendCore(d));
    }

    /// <summary>Appends <paramref name="length"/> zero bytes.</summary>
    /// <exception cref="InvalidOperationException">The zeros go past the media size, or the writer is completed or failed.</exception>
    /// <exception cref="ImageAccessException">A segment file could not be written.</exception>
    public void AppendZeros(long length)
    {
        CheckUsable();
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (length > _options.MediaSize - _position)
            throw new InvalidOperationException($"Appending {length} bytes at {_position} goes past the media size of {_options.MediaSize} bytes.");
        Span<byte> zeros = stackalloc byte[4096];
        zeros.Clear();
        while (length > 0)
        {
            int n = (int)Math.Min(length, zeros.Length);
            Guarded(zeros[..n], static (w, d) => w.AppendCore(d));
            length -= n;
        }
    }

    /// <summary>
    /// Records an unreadable range of the media (bytes; stored in whole sectors in the error2 section).
    /// May be called at any time before <see cref="Complete"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The range is empty or outside the media.</exception>
    /// <exception cref="InvalidOperationException">The writer is completed.</exception>
    public void AddError(long offset, long length)
    {
        CheckUsable();
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1L);
        if (offset > _options.MediaSize - length) throw new ArgumentOutOfRangeException(nameof(offset), "The error range lies outside the media.");
        long bps = _options.BytesPerSector;
        long first = offset / bps;
        long last = (offset + length + bps - 1) / bps;
        if (last - first > uint.MaxValue || first > uint.MaxValue) throw new ArgumentOutOfRangeException(nameof(length), "The error range is too large for an error2 entry.");
        _errors.Add(new EwfErrorRange(first, last - first));
    }

    /// <summary>
    /// Finishes the set: the last chunk, tables, error2, digest and hash sections and the done section.
    /// <paramref name="hashes"/> are stored when given (a null field is computed by the writer when
    /// <see cref="EwfWriterOptions.ComputeHashes"/> is on, else left out).
    /// </summary>
    /// <returns>The hashes stored in the set.</returns>
    /// <exception cref="InvalidOperationException">Fewer bytes than the media size were appended, or the writer is completed or failed.</exception>
    /// <exception cref="ArgumentException">A given hash has the wrong length.</exception>
    /// <exception cref="ImageAccessException">A segment file could not be written.</exception>
    public EwfHashes Complete(EwfHashes? hashes = null)
    {
        CheckUsable();
        if (_position != _options.MediaSize)
            throw new InvalidOperationException($"Only {_position} of {_options.MediaSize} media bytes were appended.");
        if (hashes?.Md5 is { Length: not 16 }) throw new ArgumentException("An MD5 hash has 16 bytes.", nameof(hashes));
        if (hashes?.Sha1 is { Length: not 20 }) throw new ArgumentException("A SHA-1 hash has 20 bytes.", nameof(hashes));
        EwfHashes result = null!;
        Guarded(default, (w, _) =>
        {
            w.FlushPartialChunk();
            w.DrainPipeline();
            byte[]? md5 = null, sha1 = null;
            if (w._hasher is not null)
            {
                var computed = w._hasher.Finish();
                md5 = computed[0];
                sha1 = computed[1];
            }
            md5 = hashes?.Md5 ?? md5;
            sha1 = hashes?.Sha1 ?? sha1;
            w.WriteTrailer(md5, sha1);
            result = new EwfHashes(md5, sha1);
        });
        _completed = true;
        return result;
    }

    private void CheckUsable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_completed) throw new InvalidOperationException("The EWF set is already complete.");
        if (_failed) throw new InvalidOperationException("An earlier write to the EWF set failed.");
    }

    private delegate void GuardedAction(EwfWriter writer, ReadOnlySpan<byte> data);

    /// <summary>Runs a step; an I/O error marks the writer failed and becomes an <see cref="ImageAccessException"/>.</summary>
    private void Guarded(ReadOnlySpan<byte> data, GuardedAction action)
    {
        try { action(this, data); }
        catch (IOException e)
        {
            _failed = true;
            throw new ImageAccessException(e.Message, _currentPath, e);
        }
        catch (UnauthorizedAccessException e)
        {
            _failed = true;
            throw new ImageAccessException("Permission denied.", _currentPath, e);
        }
        catch
        {
            _failed = true;
            throw;
        }
    }

    /// <summary>Stops the pipeline and closes the files (a set not completed is left without its done section).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        try { StopPipeline(); }
        finally
        {
            _file?.Dispose();
            _file = null;
            _hasher?.Dispose();
        }
    }
}
