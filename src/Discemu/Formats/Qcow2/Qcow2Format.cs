namespace Discemu.Formats.Qcow2;

/// <summary>QEMU copy-on-write version 2 and 3 images.</summary>
public sealed partial class Qcow2Format : ImageFormat
{
    /// <summary>The single instance.</summary>
    public static Qcow2Format Instance { get; } = new();

    private Qcow2Format() { }

    /// <inheritdoc/>
    public override string Name => "qcow2";

    /// <inheritdoc/>
    public override string Description => "QEMU copy-on-write v2/v3";

    /// <inheritdoc/>
    public override IReadOnlyList<string> Extensions => ["qcow2", "qcow", "qc2"];

    /// <inheritdoc/>
    public override bool SupportsBacking => true;

    /// <inheritdoc/>
    public override bool SupportsCompression => true;

    /// <inheritdoc/>
    public override int Probe(ReadOnlySpan<byte> header, long fileLength)
    {
        if (!Qcow2Header.HasMagic(header) || header.Length < 8) return 0;
        uint version = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(header[4..]);
        return version is 2 or 3 ? 100 : 50;
    }

    /// <inheritdoc/>
    public override DiskImage Open(ImageOpenRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Qcow2Image.Open(request);
    }
}
