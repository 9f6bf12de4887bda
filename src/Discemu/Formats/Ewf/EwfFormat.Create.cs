namespace Discemu.Formats.Ewf;

public sealed partial class EwfFormat
{
    /// <inheritdoc/>
    public override bool CanCreate => true;

    /// <inheritdoc/>
    public override IReadOnlyList<CreateOptionInfo> CreateOptions =>
    [
        new("compression", "none|fast|best", "Chunk compression: zlib level 1 (fast) or 9 (best); default none."),
        new("segment_size", "size", "Largest segment file (default 1.4 GiB, at least 1 MiB)."),
        new("chunk_size", "size", "Bytes per chunk: sector_size times a power of two up to 32768 (default 32 KiB)."),
        new("sector_size", "bytes", "Bytes per sector (default 512)."),
        new("media_type", "fixed|removable|optical|memory", "Media type (default fixed)."),
        new("media_flags", "physical|logical", "Physical device or logical volume (default physical)."),
        new("case_number", "string", "Case number."),
        new("description", "string", "Description of the evidence."),
        new("examiner", "string", "Examiner name."),
        new("evidence_number", "string", "Evidence number."),
        new("notes", "string", "Notes."),
    ];

    /// <summary>Reads the -o options into writer options for media of <paramref name="size"/> bytes.</summary>
    /// <exception cref="BadArgumentException">An option is invalid or unknown.</exception>
    internal EwfWriterOptions ParseOptions(long size, CreateOptions o)
    {
        var compression = o.GetChoice("compression", "none", "none", "fast", "best") switch
        {
            "fast" => EwfCompression.Fast,
            "best" => EwfCompression.Best,
            _ => EwfCompression.None,
        };
        long segment = o.GetSize("segment_size", EwfWriterOptions.DefaultSegmentSize);
        int sector = o.GetInt("sector_size", 512);
        if (sector <= 0) throw new BadArgumentException($"Invalid sector_size {sector}.");
        long chunk = o.GetSize("chunk_size", 32768);
        if (chunk % sector != 0 || chunk / sector > 32768) throw new BadArgumentException($"chunk_size must be a multiple of the sector size ({sector}) and at most 32768 sectors.");
        var mediaType = o.GetChoice("media_type", "fixed", "fixed", "removable", "optical", "memory") switch
        {
            "removable" => EwfMediaType.Removable,
            "optical" => EwfMediaType.Optical,
            "memory" => EwfMediaType.Memory,
            _ => EwfMediaType.Fixed,
        };
        bool physical = o.GetChoice("media_flags", "physical", "physical", "logical") == "physical";
        var options = new EwfWriterOptions
        {
            MediaSize = size,
            BytesPerSector = sector,
            SectorsPerChunk = (int)(chunk / sector),
            Compression = compression,
            SegmentSize = segment,
            MediaType = mediaType,
            IsPhysical = physical,
            CaseNumber = o.GetString("case_number"),
            Description = o.GetString("description"),
            ExaminerName = o.GetString("examiner"),
            EvidenceNumber = o.GetString("evidence_number"),
            Notes = o.GetString("notes"),
        };
        o.ThrowOnUnused(Name);
        options.Validate();
        return options;
    }

    /// <summary>
    /// Starts a new EnCase 6 set at <c>request.Path</c> (".E01" is appended when the name has no E01
    /// extension). The returned image takes writes in increasing offset order and completes the set
    /// (hashes included) on Flush or Dispose.
    /// </summary>
    public override DiskImage Create(ImageCreateRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.BackingFile is not null) throw new BadArgumentException("Format 'ewf' does not support backing files.");
        var options = ParseOptions(request.Size, request.Options);
        var writer = EwfWriter.Create(request.Path, options);
        return new EwfWriterImage(request.Path, writer);
    }
}
