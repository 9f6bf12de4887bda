using System.Diagnostics;

namespace Discemu.Acquisition;

/// <summary>The time source an acquisition measures read rates, timeouts and save intervals with.</summary>
/// <remarks>Tests inject a clock that a simulated slow device advances, so slow areas need no real waiting.</remarks>
public interface IAcquisitionClock
{
    /// <summary>Time elapsed since an arbitrary fixed start; never decreases.</summary>
    TimeSpan Elapsed { get; }
}

/// <summary>The real monotonic clock.</summary>
public sealed class StopwatchClock : IAcquisitionClock
{
    private readonly long _start = Stopwatch.GetTimestamp();

    /// <inheritdoc/>
    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(_start);
}

/// <summary>How an acquisition reads the source (see <see cref="AcquisitionEngine"/>).</summary>
public sealed record AcquisitionOptions
{
    /// <summary>The size of the reads the copying passes issue when nothing else is set (64 KiB, as GNU ddrescue).</summary>
    public const int DefaultClusterBytes = 64 << 10;

    /// <summary>The source's sector size: the unit of trimming, scraping, retrying and bad-sector records (default 512).</summary>
    public int SectorSize { get; init; } = 512;

    /// <summary>Sectors per read in the copying passes; null for 64 KiB worth.</summary>
    public int? ClusterSectors { get; init; }

    /// <summary>
    /// First skip after an error or a slow read in the copying passes, in bytes (rounded up to sectors; doubled
    /// after each further error, reset by a good read); null for max(64 KiB, size / 100 000); 0 disables skipping.
    /// </summary>
    public long? SkipInitial { get; init; }

    /// <summary>The largest skip; null for max(initial, size / 100).</summary>
    public long? SkipMax { get; init; }

    /// <summary>
    /// Reads slower than this (bytes per second) in the first two copying passes count as slow areas and are
    /// skipped, to be read in later passes; 0 means a tenth of the run's average rate; null disables the check.
    /// </summary>
    public long? MinReadRate { get; init; }

    /// <summary>A read that takes longer than this in the first two copying passes counts as a slow area; null disables.</summary>
    public TimeSpan? ReadTimeout { get; init; }

    /// <summary>Passes over the bad sectors after scraping (rescue mode), or extra attempts per sector (sequential mode).</summary>
    public int RetryPasses { get; init; }

    /// <summary>Run every pass in the opposite direction (rescue mode).</summary>
    public bool Reverse { get; init; }

    /// <summary>Skip the trimming phase.</summary>
    public bool NoTrim { get; init; }

    /// <summary>Skip the scraping phase.</summary>
    public bool NoScrape { get; init; }

    /// <summary>
    /// Forensic sequential mode: read in order, retry a failed cluster sector by sector, record bad sectors, never
    /// go back. Always used for sequential destinations (E01).
    /// </summary>
    public bool Sequential { get; init; }

    /// <summary>The pattern written over unreadable sectors, repeated from offset 0 of the media (default one zero byte).</summary>
    public ReadOnlyMemory<byte> Fill { get; init; } = new byte[1];

    /// <summary>
    /// Write runs of at least 64 KiB of zeros (whole 4 KiB blocks) as write-zeroes instead of data (default): holes
    /// in a raw file, zero clusters in an image. The destination reads exactly the same and the hashes are the same;
    /// it only takes less space and less work. Off writes every byte as data (a fully allocated raw file).
    /// </summary>
    public bool Sparse { get; init; } = true;

    /// <summary>Hashes of the acquired media (bad sectors as filled).</summary>
    public IReadOnlyList<AcquisitionHashAlgorithm> Hashes { get; init; } = [];

    /// <summary>The mapfile kept up to date during the run; null for none.</summary>
    public string? MapfilePath { get; init; }

    /// <summary>The mapfile's heading comments.</summary>
    public MapfileHeader? MapfileHeader { get; init; }

    /// <summary>The most time between mapfile saves (they also happen at every phase change, at the end and on cancellation).</summary>
    public TimeSpan MapfileInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The least time between synced saves (default 5 minutes, as GNU ddrescue; null never syncs): such a save first
    /// flushes the destination to disk and fsyncs the mapfile, so not even a power loss leaves a mapfile claiming
    /// data the destination lost. Every other save is ordered after the writes and atomic, which is all a killed
    /// process needs; like ddrescue and dd, the end of the run does not force the destination to disk.
    /// </summary>
    public TimeSpan? SyncInterval { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The clock; null for the real one.</summary>
    public IAcquisitionClock? Clock { get; init; }

    /// <summary>Receives progress snapshots on the engine's thread.</summary>
    public Action<AcquisitionProgress>? Progress { get; init; }

    /// <summary>The least time between progress snapshots.</summary>
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Stops the run: the mapfile is saved and <see cref="OperationCanceledException"/> is thrown.</summary>
    public CancellationToken CancellationToken { get; init; }

    /// <summary>
    /// Bytes per pipeline buffer (a multiple of the cluster is used; default 1 MiB). Small buffers keep the memory
    /// the reads copy into hot in the caches; their number bounds the memory in flight.
    /// </summary>
    public int BufferSize { get; init; } = 1 << 20;

    /// <summary>Pipeline buffers in flight (default 8).</summary>
    public int Buffers { get; init; } = 8;

    /// <summary>The cluster in bytes.</summary>
    public int ClusterBytes => (ClusterSectors ?? Math.Max(1, DefaultClusterBytes / SectorSize)) * SectorSize;

    /// <summary>Checks the values.</summary>
    /// <exception cref="BadArgumentException">A value is out of range.</exception>
    public void Validate()
    {
        if (SectorSize < 1 || SectorSize > 1 << 20) throw new BadArgumentException($"Invalid sector size {SectorSize}: expected 1 to 1 MiB.");
        if (ClusterSectors is < 1 || (long)(ClusterSectors ?? 1) * SectorSize > 64 << 20)
            throw new BadArgumentException($"Invalid cluster size {ClusterSectors} sectors: expected at least 1 and at most 64 MiB.");
        if (SkipInitial is < 0 || SkipMax is < 0) throw new BadArgumentException("The skip size cannot be negative.");
        if (MinReadRate is < 0) throw new BadArgumentException("The minimum read rate cannot be negative.");
        if (ReadTimeout is { } t && t <= TimeSpan.Zero) throw new BadArgumentException("The read timeout must be positive.");
        if (RetryPasses < 0) throw new BadArgumentException("The number of retries cannot be negative.");
        if (Fill.Length is < 1 or > 4096) throw new BadArgumentException("The fill pattern must hold 1 to 4096 bytes.");
        if (MapfileInterval < TimeSpan.Zero) throw new BadArgumentException("The mapfile interval cannot be negative.");
        if (SyncInterval < TimeSpan.Zero) throw new BadArgumentException("The sync interval cannot be negative.");
        if (BufferSize < 4096 || Buffers < 2) throw new BadArgumentException("The pipeline needs at least two buffers of 4 KiB.");
    }
}

/// <summary>What an acquisition is doing, for progress displays.</summary>
public enum AcquisitionStage
{
    /// <summary>Copying non-tried areas in large reads.</summary>
    Copying,
    /// <summary>Trimming the edges of failed reads.</summary>
    Trimming,
    /// <summary>Scraping failed areas sector by sector.</summary>
    Scraping,
    /// <summary>Retrying bad sectors.</summary>
    Retrying,
    /// <summary>Reading in order (forensic sequential mode).</summary>
    Sequential,
    /// <summary>Writing the fill pattern over unreadable areas.</summary>
    Filling,
    /// <summary>Hashing the destination where the reads went out of order.</summary>
    Hashing,
    /// <summary>Re-reading the destination to verify its hashes.</summary>
    VerifyingDestination,
    /// <summary>Re-reading the source to verify its hashes.</summary>
    VerifyingSource,
    /// <summary>Done.</summary>
    Finished,
}

/// <summary>A progress snapshot.</summary>
public sealed record AcquisitionProgress
{
    /// <summary>The stage.</summary>
    public AcquisitionStage Stage { get; init; }

    /// <summary>The pass of the stage (copying passes 1–5, retry passes 1–N).</summary>
    public int Pass { get; init; }

    /// <summary>True when the pass runs forwards.</summary>
    public bool Forward { get; init; } = true;

    /// <summary>The position being read.</summary>
    public long Position { get; init; }

    /// <summary>The media size.</summary>
    public long Size { get; init; }

    /// <summary>Bytes finished.</summary>
    public long Rescued { get; init; }

    /// <summary>Bytes not tried yet.</summary>
    public long NonTried { get; init; }

    /// <summary>Bytes failed in large reads, not trimmed yet.</summary>
    public long NonTrimmed { get; init; }

    /// <summary>Bytes trimmed, not scraped yet.</summary>
    public long NonScraped { get; init; }

    /// <summary>Bytes in bad sectors.</summary>
    public long BadSector { get; init; }

    /// <summary>Separate bad-sector areas.</summary>
    public int BadAreas { get; init; }

    /// <summary>Failed read attempts in this run.</summary>
    public long ReadErrors { get; init; }

    /// <summary>Reads slower than the minimum rate or the timeout in this run.</summary>
    public long SlowReads { get; init; }

    /// <summary>Read rate over the last interval, in bytes per second.</summary>
    public double CurrentRate { get; init; }

    /// <summary>Read rate over the whole stage, in bytes per second.</summary>
    public double AverageRate { get; init; }

    /// <summary>Time since the run started.</summary>
    public TimeSpan Elapsed { get; init; }

    /// <summary>Estimated time left for the stage, when it can be told.</summary>
    public TimeSpan? Remaining { get; init; }

    /// <summary>For hashing and verification: bytes done of <see cref="StageTotal"/>.</summary>
    public long StageDone { get; init; }

    /// <summary>For hashing and verification: bytes to do.</summary>
    public long StageTotal { get; init; }
}
