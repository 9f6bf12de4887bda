using Discemu.Block;

namespace Discemu.Formats.Ewf;

/// <summary>
/// An opened EWF set (E01/S01 and EWF2 Ex01): a read-only disk assembled from the chunks of every
/// segment file, with the case metadata, stored hashes and acquisition error ranges.
/// </summary>
public sealed partial class EwfImage : DiskImage, ICheckableImage
{
    private readonly EwfSet _set;
    private readonly EwfChunkCache _cache;

    private EwfImage(string path, EwfSet set)
    {
        Path = path;
        _set = set;
        _cache = new EwfChunkCache(set.ChunkSize);
    }

    /// <summary>Opens the set that <paramref name="path"/> belongs to (any of its segments).</summary>
    /// <exception cref="CorruptImageException">A segment violates the format.</exception>
    /// <exception cref="UnsupportedFeatureException">Logical evidence, encrypted or bzip2-compressed EWF2.</exception>
    /// <exception cref="ImageAccessException">A segment is missing or unreadable.</exception>
    public static EwfImage Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return new EwfImage(path, EwfSetParser.Open(path));
    }

    /// <inheritdoc/>
    public override ImageFormat Format => EwfFormat.Instance;

    /// <inheritdoc/>
    public override string Path { get; }

    /// <inheritdoc/>
    public override long Length => _set.MediaSize;

    /// <inheritdoc/>
    public override DeviceCapabilities Capabilities => DeviceCapabilities.Status;

    /// <inheritdoc/>
    public override int? ClusterSize => _set.ChunkSize;

    /// <summary>The segment files, in order.</summary>
    public IReadOnlyList<string> SegmentFiles => _set.Paths;

    /// <summary>1 for EWF (E01/S01), 2 for EWF2 (Ex01).</summary>
    public int FormatVersion => _set.FormatVersion;

    /// <summary>The case metadata.</summary>
    public EwfCaseInfo CaseInfo => _set.CaseInfo;

    /// <summary>Bytes per sector of the media.</summary>
    public int BytesPerSector => (int)_set.Volume.BytesPerSector;

    /// <summary>Bytes of media per chunk.</summary>
    public int ChunkSize => _set.ChunkSize;

    /// <summary>The MD5 of the media stored in the image, or null.</summary>
    public byte[]? StoredMd5 => _set.Md5?.ToArray();

    /// <summary>The SHA-1 of the media stored in the image, or null.</summary>
    public byte[]? StoredSha1 => _set.Sha1?.ToArray();

    /// <summary>Sector ranges the acquisition could not read (error2 / error table).</summary>
    public IReadOnlyList<EwfErrorRange> AcquisitionErrors => _set.Errors;

    /// <summary>"none", "fast" or "best" from the volume's compression level; "deflate" when chunks are compressed but no level is recorded.</summary>
    public string Compression => _set.Volume.CompressionLevel switch
    {
        1 => "fast",
        2 => "best",
        _ => _set.AnyCompressedChunk ? "deflate" : "none",
    };

    /// <inheritdoc/>
    public override long? ActualSize
    {
        get
        {
            long total = 0;
            foreach (var p in _set.Paths)
            {
                long? n = Util.HostFile.AllocatedBytes(p);
                if (n is null) return null;
                total += n.Value;
            }
            return total;
        }
    }

    private static string MediaTypeName(byte type) => type switch
    {
        0x00 => "removable",
        0x01 => "fixed",
        0x03 => "optical",
        0x0e => "logical",
        0x10 => "memory",
        _ => $"0x{type:x2}",
    };

    /// <inheritdoc/>
    public override IReadOnlyList<KeyValuePair<string, object?>> FormatSpecific
    {
        get
        {
            var list = new List<KeyValuePair<string, object?>>
            {
                new("format-version", _set.FormatVersion),
                new("segment-count", _set.Paths.Count),
                new("media-size", _set.MediaSize),
                new("bytes-per-sector", (long)_set.Volume.BytesPerSector),
                new("sectors-per-chunk", (long)_set.Volume.SectorsPerChunk),
                new("chunk-size", (long)_set.ChunkSize),
                new("media-type", MediaTypeName(_set.Volume.MediaType)),
                new("is-physical", (_set.Volume.MediaFlags & EwfConstants.MediaFlagPhysical) != 0),
                new("compression", Compression),
            };
            var c = _set.CaseInfo;
            void Add(string key, string? value)
            {
                if (value is not null) list.Add(new(key, value));
            }
            Add("case-number", c.CaseNumber);
            Add("description", c.Description);
            Add("examiner", c.ExaminerName);
            Add("evidence-number", c.EvidenceNumber);
            Add("notes", c.Notes);
            Add("acquisition-date", c.AcquisitionDate);
            Add("system-date", c.SystemDate);
            Add("acquisition-system", c.AcquisitionSystem);
            Add("acquisition-software", c.AcquisitionSoftware);
            Add("acquisition-software-version", c.SoftwareVersion);
            Add("model", c.Model);
            Add("serial-number", c.SerialNumber);
            Add("md5", _set.Md5 is null ? null : Convert.ToHexStringLower(_set.Md5));
            Add("sha1", _set.Sha1 is null ? null : Convert.ToHexStringLower(_set.Sha1));
            if (_set.Errors.Count > 0)
            {
                var errors = new List<object?>();
                foreach (var e in _set.Errors)
                {
                    errors.Add(new List<KeyValuePair<string, object?>>
                    {
                        new("first-sector", e.FirstSector),
                        new("sectors", e.SectorCount),
                        new("offset", e.FirstSector * _set.Volume.BytesPerSector),
                        new("length", e.SectorCount * _set.Volume.BytesPerSector),
                    });
                }
                list.Add(new("acquisition-errors", errors));
            }
            return list;
        }
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing) _set.Dispose();
    }
}
