namespace Discemu.Formats.Vmdk;

/// <summary>VMware virtual disks: descriptor files and every extent kind (see the folder's README).</summary>
public sealed partial class VmdkFormat : ImageFormat
{
    /// <summary>The single instance.</summary>
    public static VmdkFormat Instance { get; } = new();

    private VmdkFormat() { }

    /// <inheritdoc/>
    public override string Name => "vmdk";

    /// <inheritdoc/>
    public override string Description => "VMware virtual disk (descriptor, sparse, flat, streamOptimized, vmfsSparse, seSparse)";

    /// <inheritdoc/>
    public override IReadOnlyList<string> Extensions => ["vmdk"];

    /// <inheritdoc/>
    public override bool SupportsBacking => true;

    /// <inheritdoc/>
    public override int Probe(ReadOnlySpan<byte> header, long fileLength)
    {
        if (SparseExtentHeader.HasMagic(header))
        {
            uint version = header.Length >= 8 ? System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(header[4..]) : 0;
            return version is >= 1 and <= 3 ? 100 : 50;
        }
        if (CowdHeader.HasMagic(header)) return 100;
        return VmdkDescriptor.LooksLikeDescriptor(header) ? 100 : 0;
    }

    /// <inheritdoc/>
    public override DiskImage Open(ImageOpenRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return VmdkImage.Open(request);
    }
}
