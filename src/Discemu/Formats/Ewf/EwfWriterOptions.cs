namespace Discemu.Formats.Ewf;

/// <summary>Chunk compression of a written EWF set.</summary>
public enum EwfCompression
{
    /// <summary>Chunks stored raw with an Adler-32.</summary>
    None = 0,
    /// <summary>zlib level 1 (EnCase "fast"/"good").</summary>
    Fast = 1,
    /// <summary>zlib level 9 (EnCase "best").</summary>
    Best = 2,
}

/// <summary>The kind of media an EWF set holds (volume section media type).</summary>
public enum EwfMediaType
{
    /// <summary>Removable storage.</summary>
    Removable = 0x00,
    /// <summary>Fixed disk.</summary>
    Fixed = 0x01,
    /// <summary>Optical disc.</summary>
    Optical = 0x03,
    /// <summary>Physical memory.</summary>
    Memory = 0x10,
}

/// <summary>Hashes of the media, given to <see cref="EwfWriter.Complete"/> or returned by it.</summary>
public sealed record EwfHashes(byte[]? Md5, byte[]? Sha1);

/// <summary>How <see cref="EwfWriter"/> lays out a new EWF (EnCase 6) set.</summary>
public sealed record EwfWriterOptions
{
    /// <summary>Default segment file size: 1.4 GiB, as ewfacquire.</summary>
    public const long DefaultSegmentSize = 1503238553;

    /// <summary>Smallest segment file size accepted (1 MiB, as ewfacquire).</summary>
    public const long MinimumSegmentSize = 1 << 20;

    /// <summary>Bytes of media; a multiple of <see cref="BytesPerSector"/>.</summary>
    public required long MediaSize { get; init; }

    /// <summary>Bytes per sector (512 by default).</summary>
    public int BytesPerSector { get; init; } = 512;

    /// <summary>Sectors per chunk: a power of two up to 32768 (64 by default: 32 KiB chunks).</summary>
    public int SectorsPerChunk { get; init; } = 64;

    /// <summary>Chunk compression (none by default, as ewfacquire).</summary>
    public EwfCompression Compression { get; init; } = EwfCompression.None;

    /// <summary>Largest size of one segment file in bytes (1.4 GiB by default; at least 1 MiB).</summary>
    public long SegmentSize { get; init; } = DefaultSegmentSize;

    /// <summary>Media type (fixed disk by default).</summary>
    public EwfMediaType MediaType { get; init; } = EwfMediaType.Fixed;

    /// <summary>True (default) for a physical device, false for a logical volume.</summary>
    public bool IsPhysical { get; init; } = true;

    /// <summary>Case number.</summary>
    public string? CaseNumber { get; init; }

    /// <summary>Description of the evidence.</summary>
    public string? Description { get; init; }

    /// <summary>Examiner name.</summary>
    public string? ExaminerName { get; init; }

    /// <summary>Evidence number.</summary>
    public string? EvidenceNumber { get; init; }

    /// <summary>Notes.</summary>
    public string? Notes { get; init; }

    /// <summary>Model of the acquired device.</summary>
    public string? Model { get; init; }

    /// <summary>Serial number of the acquired device.</summary>
    public string? SerialNumber { get; init; }

    /// <summary>Acquisition software version stored in the header (EnCase keeps 11 characters); defaults to Discemu's version.</summary>
    public string? SoftwareVersion { get; init; }

    /// <summary>Operating system stored in the header (EnCase keeps 23 characters); defaults to the running OS.</summary>
    public string? OperatingSystem { get; init; }

    /// <summary>Acquisition date stored in the headers; defaults to now.</summary>
    public DateTimeOffset? AcquisitionDate { get; init; }

    /// <summary>
    /// Compute MD5 and SHA-1 of the appended media (default true). Set false when the caller hashes
    /// the media itself and passes the hashes to <see cref="EwfWriter.Complete"/>.
    /// </summary>
    public bool ComputeHashes { get; init; } = true;

    /// <summary>Compression threads (default: every core).</summary>
    public int? Threads { get; init; }

    /// <summary>Checks every value.</summary>
    /// <exception cref="BadArgumentException">A value is out of range.</exception>
    public void Validate()
    {
        if (BytesPerSector is <= 0 or > 65536) throw new BadArgumentException($"Bytes per sector must be between 1 and 65536, got {BytesPerSector}.");
        if (SectorsPerChunk <= 0 || SectorsPerChunk > 32768 || (SectorsPerChunk & (SectorsPerChunk - 1)) != 0)
            throw new BadArgumentException($"Sectors per chunk must be a power of two up to 32768, got {SectorsPerChunk}.");
        if ((long)SectorsPerChunk * BytesPerSector > EwfConstants.MaxChunkSize) throw new BadArgumentException("The chunk size exceeds 64 MiB.");
        if (MediaSize < 0 || MediaSize % BytesPerSector != 0) throw new BadArgumentException($"The media size ({MediaSize} bytes) must be a multiple of {BytesPerSector} bytes.");
        if (MediaSize / SectorsPerChunk / BytesPerSector >= uint.MaxValue) throw new BadArgumentException("The media has too many chunks for EWF.");
        if (SegmentSize < MinimumSegmentSize) throw new BadArgumentException($"The segment size must be at least {MinimumSegmentSize} bytes, got {SegmentSize}.");
        if (Threads is <= 0) throw new BadArgumentException("Threads must be positive.");
        if (!Enum.IsDefined(Compression)) throw new BadArgumentException($"Unknown compression {Compression}.");
    }
}
