using Discemu.Block;

namespace Discemu.Operations;

/// <summary>How <see cref="ImageCopier"/> copies a device (the knobs of <c>qemu-img convert</c>).</summary>
public sealed record CopyOptions
{
    /// <summary>The default minimum run of zero bytes that becomes a hole (4 KiB).</summary>
    public const long DefaultSparseSize = 4096;

    /// <summary>The largest accepted <see cref="SparseSize"/> (16 MiB).</summary>
    public const long MaxSparseSize = 16L << 20;

    /// <summary>The largest accepted <see cref="ParallelRequests"/>.</summary>
    public const int MaxParallelRequests = 16;

    /// <summary>
    /// Zero runs of at least this many bytes (aligned to this size on the disk) are left as holes
    /// instead of written. A multiple of 512 up to <see cref="MaxSparseSize"/>; 0 writes every byte
    /// (the target ends up fully allocated).
    /// </summary>
    public long SparseSize { get; init; } = DefaultSparseSize;

    /// <summary>Write through <see cref="Formats.ICompressedWriter"/> (the target must support it).</summary>
    public bool Compress { get; init; }

    /// <summary>Requests processed in parallel (1 to <see cref="MaxParallelRequests"/>).</summary>
    public int ParallelRequests { get; init; } = 8;

    /// <summary>Allow writes to reach the target out of order (faster; the host layout then varies).</summary>
    public bool OutOfOrderWrites { get; init; }

    /// <summary>
    /// True when the target reads as zeros everywhere before the copy (a freshly created image), so
    /// zero ranges can be skipped; false for an existing target, whose zero ranges are then zeroed.
    /// </summary>
    public bool TargetIsZero { get; init; } = true;

    /// <summary>
    /// The target's backing content, when the target has a backing file: only ranges that differ
    /// from it are written (zeros are written explicitly where the backing has data).
    /// </summary>
    public BlockDevice? TargetBacking { get; init; }

    /// <summary>
    /// Flush the target to stable storage when the copy ends (default true). <c>qemu-img convert</c>'s
    /// default cache mode (<c>unsafe</c>) does not: the data then reaches the disk when the host writes it back.
    /// False also switches a <see cref="Formats.DiskImage"/> target to <see cref="Formats.DiskImage.UseUnsafeCache"/>.
    /// </summary>
    public bool FlushTarget { get; init; } = true;

    /// <summary>Bytes per request (default 2 MiB); rounded up to the compression unit.</summary>
    public int ChunkSize { get; init; } = 2 << 20;

    /// <summary>Called as bytes are processed; may be called from several threads (never concurrently).</summary>
    public ProgressCallback? Progress { get; init; }

    /// <summary>Stops the copy.</summary>
    public CancellationToken CancellationToken { get; init; }

    /// <summary>Checks the values.</summary>
    /// <exception cref="BadArgumentException">A value is out of range.</exception>
    public void Validate()
    {
        if (SparseSize < 0 || SparseSize > MaxSparseSize || SparseSize % 512 != 0)
            throw new BadArgumentException("Invalid buffer size for sparse output specified. Valid sizes are multiples of 512 up to 16777216. Select 0 to disable sparse detection (fully allocates output).");
        if (ParallelRequests < 1 || ParallelRequests > MaxParallelRequests)
            throw new BadArgumentException($"Invalid number of parallel requests: {ParallelRequests} (expected 1 to {MaxParallelRequests}).");
        if (ChunkSize < 4096) throw new BadArgumentException($"Invalid chunk size {ChunkSize}: at least 4096 bytes.");
    }
}

/// <summary>What a copy did.</summary>
/// <param name="BytesRead">Bytes read from the source.</param>
/// <param name="BytesWritten">Bytes written to the target as data.</param>
/// <param name="BytesZeroed">Bytes made zero on the target with write-zeroes.</param>
/// <param name="BytesSkipped">Bytes left untouched (holes, or equal to the target's backing).</param>
public sealed record CopyStatistics(long BytesRead, long BytesWritten, long BytesZeroed, long BytesSkipped);
