using Discemu.Block;

namespace Discemu.Formats.Vmdk;

/// <summary>What a run of an extent maps to.</summary>
internal enum ExtentRunKind
{
    /// <summary>Not stored here: the parent's content (or zeros without a parent) shows through.</summary>
    Unallocated,
    /// <summary>Reads as zeros (a zeroed grain, a ZERO extent, a hole in a flat file).</summary>
    Zero,
    /// <summary>Stored uncompressed at <see cref="ExtentRun.HostOffset"/> in the extent file.</summary>
    Data,
    /// <summary>Stored in compressed grains.</summary>
    Compressed,
}

/// <summary>A run of extent bytes that share one mapping.</summary>
/// <param name="Kind">What the bytes map to.</param>
/// <param name="Length">How many bytes (at least 1).</param>
/// <param name="HostOffset">For <see cref="ExtentRunKind.Data"/>: where the first byte lives in the extent file; for compressed runs the first grain's marker; else -1.</param>
internal readonly record struct ExtentRun(ExtentRunKind Kind, long Length, long HostOffset);

/// <summary>Fills <paramref name="dest"/> with what the disk shows below this image at extent offset <paramref name="offset"/> (the parent, or zeros).</summary>
internal delegate void ExtentFill(long offset, Span<byte> dest);

/// <summary>
/// One extent of a VMDK disk: a part of the virtual disk stored in one file (or nowhere, for ZERO).
/// Offsets are relative to the extent's start. Implementations are safe for concurrent calls.
/// </summary>
internal abstract class VmdkExtent : IDisposable
{
    protected VmdkExtent(VmdkExtentLine line, string? path)
    {
        Line = line;
        Path = path;
    }

    /// <summary>The descriptor line that describes the extent.</summary>
    public VmdkExtentLine Line { get; }

    /// <summary>The extent file's full path, or null for ZERO extents.</summary>
    public string? Path { get; }

    /// <summary>The extent's size in bytes.</summary>
    public long Length => Line.Bytes;

    /// <summary>True when writes are accepted.</summary>
    public abstract bool CanWrite { get; }

    /// <summary>The grain size of sparse extents, else null.</summary>
    public virtual int? GrainBytes => null;

    /// <summary>True when the extent stores compressed grains.</summary>
    public virtual bool IsCompressed => false;

    /// <summary>Bytes the extent file occupies on the host, or null.</summary>
    public virtual long? AllocatedBytes => Path is null ? 0 : Util.HostFile.AllocatedBytes(Path);

    /// <summary>Describes the run at <paramref name="offset"/> (at most <paramref name="maxLength"/> bytes).</summary>
    /// <param name="offset">Offset inside the extent.</param>
    /// <param name="maxLength">Most bytes to describe (at least 1).</param>
    /// <param name="mergeCompressed">Merge consecutive compressed grains into one run (for status).</param>
    public abstract ExtentRun Map(long offset, long maxLength, bool mergeCompressed);

    /// <summary>Reads a <see cref="ExtentRunKind.Data"/> run from the extent file.</summary>
    public abstract void ReadHost(long hostOffset, Span<byte> dest);

    /// <summary>Reads a part of one compressed grain (the part must not cross the grain's end).</summary>
    public virtual void ReadCompressed(long offset, Span<byte> dest) => throw new InvalidOperationException("The extent has no compressed grains.");

    /// <summary>Writes <paramref name="data"/>; partial grains are completed with <paramref name="fill"/>.</summary>
    /// <exception cref="NotSupportedException">The extent is read-only.</exception>
    public virtual void Write(long offset, ReadOnlySpan<byte> data, ExtentFill fill) => throw new NotSupportedException("The VMDK extent is read-only.");

    /// <summary>Makes the range read as zeros.</summary>
    /// <param name="offset">Offset inside the extent.</param>
    /// <param name="length">Bytes to zero.</param>
    /// <param name="mayUnmap">Space may be released.</param>
    /// <param name="unallocatedIsZero">Unallocated ranges read as zeros (no parent shows through).</param>
    /// <param name="fill">Reads what is below, for partial grains.</param>
    public virtual void WriteZeroes(long offset, long length, bool mayUnmap, bool unallocatedIsZero, ExtentFill fill)
        => throw new NotSupportedException("The VMDK extent is read-only.");

    /// <summary>Advisory discard; may make whole grains read as zeros.</summary>
    public virtual void Discard(long offset, long length) { }

    /// <summary>Makes written data durable.</summary>
    public virtual void Flush() { }

    /// <summary>Facts for <c>info</c>.</summary>
    public virtual void Describe(List<KeyValuePair<string, object?>> facts) { }

    /// <inheritdoc/>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the extent file.</summary>
    protected virtual void Dispose(bool disposing) { }
}

/// <summary>A flat extent: the bytes live in a raw file (or device) from a start sector on.</summary>
internal sealed class FlatExtent : VmdkExtent
{
    private readonly FileDevice _file;
    private readonly long _start;
    private readonly bool _writable;
    private readonly Lock _growLock = new();

    public FlatExtent(VmdkExtentLine line, string path, FileDevice file, bool writable) : base(line, path)
    {
        _file = file;
        _start = line.StartSector * VmdkConstants.Sector;
        _writable = writable && line.Access == VmdkAccess.ReadWrite;
    }

    /// <inheritdoc/>
    public override bool CanWrite => _writable;

    /// <summary>The extent file.</summary>
    public FileDevice File => _file;

    /// <inheritdoc/>
    public override ExtentRun Map(long offset, long maxLength, bool mergeCompressed)
    {
        long host = _start + offset;
        long fileLength = _file.Length;
        if (host >= fileLength) return new ExtentRun(ExtentRunKind.Zero, maxLength, -1);
        var st = _file.GetStatus(host, Math.Min(maxLength, fileLength - host));
        return st.IsZero ? new ExtentRun(ExtentRunKind.Zero, st.Length, -1) : new ExtentRun(ExtentRunKind.Data, st.Length, host);
    }

    /// <inheritdoc/>
    public override void ReadHost(long hostOffset, Span<byte> dest) => VmdkIO.ReadClamped(_file, hostOffset, dest);

    /// <inheritdoc/>
    public override void Write(long offset, ReadOnlySpan<byte> data, ExtentFill fill)
    {
        if (!_writable) throw new NotSupportedException("The VMDK extent is read-only.");
        VmdkIO.WriteGrowing(_file, _start + offset, data, _growLock);
    }

    /// <inheritdoc/>
    public override void WriteZeroes(long offset, long length, bool mayUnmap, bool unallocatedIsZero, ExtentFill fill)
    {
        if (!_writable) throw new NotSupportedException("The VMDK extent is read-only.");
        long host = _start + offset;
        long inside = Math.Clamp(_file.Length - host, 0, length);
        if (inside > 0) _file.WriteZeroes(host, inside, mayUnmap);
    }

    /// <inheritdoc/>
    public override void Discard(long offset, long length)
    {
        if (!_writable) return;
        long host = _start + offset;
        long inside = Math.Clamp(_file.Length - host, 0, length);
        if (inside > 0) _file.Discard(host, inside);
    }

    /// <inheritdoc/>
    public override void Flush()
    {
        if (_writable) _file.Flush();
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing) _file.Dispose();
    }
}

/// <summary>A ZERO extent: reads as zeros, stores nothing.</summary>
internal sealed class ZeroExtent(VmdkExtentLine line) : VmdkExtent(line, null)
{
    /// <inheritdoc/>
    public override bool CanWrite => false;

    /// <inheritdoc/>
    public override ExtentRun Map(long offset, long maxLength, bool mergeCompressed) => new(ExtentRunKind.Zero, maxLength, -1);

    /// <inheritdoc/>
    public override void ReadHost(long hostOffset, Span<byte> dest) => dest.Clear();
}

/// <summary>File I/O helpers shared by the extents.</summary>
internal static class VmdkIO
{
    /// <summary>Reads from a file; bytes past its end read as zeros.</summary>
    public static void ReadClamped(FileDevice file, long offset, Span<byte> dest)
    {
        long length = file.Length;
        if (offset >= length) { dest.Clear(); return; }
        int n = (int)Math.Min(dest.Length, length - offset);
        file.Read(offset, dest[..n]);
        dest[n..].Clear();
    }

    /// <summary>Writes to a file, first growing it (under <paramref name="growLock"/>) when the write ends past its end.</summary>
    public static void WriteGrowing(FileDevice file, long offset, ReadOnlySpan<byte> data, Lock growLock)
    {
        long end = checked(offset + data.Length);
        if (end > file.Length)
        {
            lock (growLock)
            {
                if (end > file.Length) file.Resize(end);
            }
        }
        file.Write(offset, data);
    }
}
