using Discemu.Formats.Ewf;

namespace Discemu.Acquisition;

/// <summary>
/// Writes an acquisition as an EnCase 6 E01 set through <see cref="EwfWriter"/>: media appended in order
/// (compressed on every core by the writer), unreadable ranges listed in the error2 section, case metadata in
/// the header sections, and the MD5/SHA-1 stored in the hash and digest sections (the engine's when it computed them, else the writer's own).
/// </summary>
public sealed class EwfSink : SequentialSink
{
    private readonly EwfWriter _writer;

    /// <summary>Starts the set. <c>-o</c> options are those of <c>convert -O ewf</c> (compression, segment_size, chunk_size…);
    /// <c>--split</c> sets the segment size; <c>--case</c> and friends fill the case metadata unless an option sets them.</summary>
    /// <exception cref="BadArgumentException">An option is invalid.</exception>
    /// <exception cref="ImageAccessException">A segment file cannot be created.</exception>
    public EwfSink(SinkRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var options = EwfFormat.Instance.ParseOptions(request.Size, request.Options);
        var c = request.Case;
        options = options with
        {
            BytesPerSector = request.Options.Contains("sector_size") ? options.BytesPerSector : request.SectorSize,
            SegmentSize = request.SplitSize ?? options.SegmentSize,
            CaseNumber = options.CaseNumber ?? c.CaseNumber,
            Description = options.Description ?? c.Description,
            ExaminerName = options.ExaminerName ?? c.Examiner,
            EvidenceNumber = options.EvidenceNumber ?? c.EvidenceNumber,
            Notes = options.Notes ?? c.Notes,
            SoftwareVersion = typeof(EwfSink).Assembly.GetName().Version?.ToString(3),
            AcquisitionDate = DateTimeOffset.UtcNow,
        };
        if (options.SectorsPerChunk * options.BytesPerSector > 32 << 20)
            throw new BadArgumentException("chunk_size is too large for this sector size.");
        options.Validate();
        _writer = EwfWriter.Create(request.Path, options);
        Path = request.Path;
        Length = request.Size;
    }

    /// <inheritdoc/>
    public override string Path { get; }

    /// <inheritdoc/>
    public override string FormatName => "ewf";

    /// <inheritdoc/>
    public override long Length { get; }

    /// <inheritdoc/>
    public override IReadOnlyList<string> Files => _writer.SegmentPaths;

    /// <inheritdoc/>
    public override void Append(ReadOnlySpan<byte> data) => _writer.Append(data);

    /// <inheritdoc/>
    public override void AddError(long offset, long length) => _writer.AddError(offset, length);

    /// <inheritdoc/>
    public override void Complete(IReadOnlyDictionary<string, string> hashes)
    {
        ArgumentNullException.ThrowIfNull(hashes);
        byte[]? Get(string name) => hashes.TryGetValue(name, out var hex) ? Convert.FromHexString(hex) : null;
        _writer.Complete(new EwfHashes(Get("md5"), Get("sha1")));
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing) _writer.Dispose();
    }
}
