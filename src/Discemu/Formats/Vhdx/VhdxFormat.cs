using System.Buffers.Binary;

namespace Discemu.Formats.Vhdx;

/// <summary>Microsoft's Virtual Hard Disk v2 (VHDX) images: fixed, dynamic and differencing.</summary>
public sealed partial class VhdxFormat : ImageFormat
{
    /// <summary>The single instance.</summary>
    public static VhdxFormat Instance { get; } = new();

    private VhdxFormat() { }

    /// <inheritdoc/>
    public override string Name => "vhdx";

    /// <inheritdoc/>
    public override string Description => "Microsoft Virtual Hard Disk v2 (Hyper-V)";

    /// <inheritdoc/>
    public override IReadOnlyList<string> Extensions => ["vhdx"];

    /// <inheritdoc/>
    public override bool SupportsBacking => true;

    /// <inheritdoc/>
    public override int Probe(ReadOnlySpan<byte> header, long fileLength)
        => header.Length >= 8 && BinaryPrimitives.ReadUInt64LittleEndian(header) == VhdxConstants.FileSignature ? 100 : 0;

    /// <inheritdoc/>
    public override DiskImage Open(ImageOpenRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return VhdxImage.Open(request);
    }
}
