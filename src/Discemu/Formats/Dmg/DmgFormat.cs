namespace Discemu.Formats.Dmg;

/// <summary>Apple disk images in the Universal Disk Image Format (UDIF, .dmg), read-only.</summary>
public sealed class DmgFormat : ImageFormat
{
    /// <summary>The single instance.</summary>
    public static DmgFormat Instance { get; } = new();

    private DmgFormat() { }

    /// <inheritdoc/>
    public override string Name => "dmg";

    /// <inheritdoc/>
    public override string Description => "Apple disk image (UDIF), read-only";

    /// <inheritdoc/>
    public override IReadOnlyList<string> Extensions => ["dmg"];

    /// <inheritdoc/>
    public override int TrailerProbeLength => DmgConstants.KolySize;

    /// <summary>The header alone cannot identify UDIF (its trailer does), except an encrypted image's header.</summary>
    public override int Probe(ReadOnlySpan<byte> header, long fileLength)
        => header.StartsWith(DmgConstants.EncryptedV2Magic) ? 50 : 0;

    /// <summary>A koly trailer in the last 512 bytes identifies the image; an encrypted image is claimed so opening it says why it fails.</summary>
    public override int Probe(ReadOnlySpan<byte> header, ReadOnlySpan<byte> trailer, long fileLength)
    {
        if (trailer.Length >= DmgConstants.KolySize && fileLength >= DmgConstants.KolySize)
        {
            var koly = trailer[^DmgConstants.KolySize..];
            if (DmgTrailer.HasMagic(koly)) return 100;
        }
        if (trailer.Length >= DmgConstants.EncryptedV1Magic.Length && trailer.EndsWith(DmgConstants.EncryptedV1Magic)) return 50;
        return Probe(header, fileLength);
    }

    /// <inheritdoc/>
    public override DiskImage Open(ImageOpenRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return DmgImage.Open(request);
    }

    /// <summary>DMG is read-only in Discemu: creating one is refused.</summary>
    /// <exception cref="UnsupportedFeatureException">Always.</exception>
    public override DiskImage Create(ImageCreateRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        throw new UnsupportedFeatureException("Format 'dmg' is read-only: Discemu cannot create or write DMG images.", request.Path);
    }
}
