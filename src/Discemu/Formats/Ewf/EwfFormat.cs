using static Discemu.Formats.Ewf.EwfConstants;

namespace Discemu.Formats.Ewf;

/// <summary>
/// Expert Witness Compression Format: EnCase/FTK/linen/SMART E01 and S01 sets (read and write,
/// EnCase 6 layout when writing) and EWF2 Ex01 sets (read).
/// </summary>
public sealed partial class EwfFormat : ImageFormat
{
    /// <summary>The single instance.</summary>
    public static EwfFormat Instance { get; } = new();

    private EwfFormat() { }

    /// <inheritdoc/>
    public override string Name => "ewf";

    /// <inheritdoc/>
    public override string Description => "Expert Witness Compression Format (EnCase E01, SMART S01, EWF2 Ex01)";

    /// <inheritdoc/>
    public override IReadOnlyList<string> Aliases => ["e01"];

    /// <inheritdoc/>
    public override IReadOnlyList<string> Extensions => ["E01", "Ex01", "s01"];

    /// <inheritdoc/>
    public override int Probe(ReadOnlySpan<byte> header, long fileLength)
    {
        if (header.StartsWith(EvfSignature) || header.StartsWith(Evf2Signature)) return 100;
        // Logical evidence: claimed so that opening says clearly that it is not supported.
        if (header.StartsWith(LvfSignature) || header.StartsWith(Lef2Signature)) return 100;
        return 0;
    }

    /// <inheritdoc/>
    public override DiskImage Open(ImageOpenRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Writable) throw new UnsupportedFeatureException("EWF images are read-only; convert them to another format to modify them.", request.Path);
        return EwfImage.Open(request.Path);
    }
}
