using Discemu.Block;

namespace Discemu.Formats.Raw;

/// <summary>
/// Raw images: the virtual disk byte for byte in a regular file, a block device, or a split set of
/// numbered pieces (<c>disk.001, disk.002, …</c> or <c>disk.000, disk.001, …</c>) joined as one device.
/// </summary>
public sealed class RawFormat : ImageFormat
{
    /// <summary>The single instance.</summary>
    public static RawFormat Instance { get; } = new();

    private RawFormat() { }

    /// <inheritdoc/>
    public override string Name => "raw";

    /// <inheritdoc/>
    public override string Description => "Raw disk image (plain file, block device or split set)";

    /// <inheritdoc/>
    public override IReadOnlyList<string> Extensions => ["img", "raw", "bin", "dd", "iso", "001", "000"];

    /// <inheritdoc/>
    public override bool CanCreate => true;

    /// <inheritdoc/>
    public override IReadOnlyList<CreateOptionInfo> CreateOptions =>
    [
        new("preallocation", "off|falloc|full", "Allocate the file's space up front (default off: sparse)."),
    ];

    /// <summary>Anything can be raw: the lowest non-zero score.</summary>
    public override int Probe(ReadOnlySpan<byte> header, long fileLength) => 1;

    /// <inheritdoc/>
    public override DiskImage Open(ImageOpenRequest request)
    {
        var pieces = SplitRawSet.Find(request.Path);
        if (pieces.Count <= 1) return new RawImage(request.Path, FileDevice.Open(request.Path, request.Writable), request.Writable);
        var parts = new List<BlockDevice>(pieces.Count);
        try
        {
            foreach (var piece in pieces) parts.Add(FileDevice.Open(piece, request.Writable));
        }
        catch
        {
            foreach (var p in parts) p.Dispose();
            throw;
        }
        return new RawImage(request.Path, new ConcatDevice(parts), request.Writable, pieces);
    }

    /// <inheritdoc/>
    public override DiskImage Create(ImageCreateRequest request)
    {
        if (request.BackingFile is not null) throw new BadArgumentException("Format 'raw' does not support backing files.");
        string prealloc = request.Options.GetChoice("preallocation", "off", "off", "falloc", "full");
        request.Options.ThrowOnUnused(Name);
        var device = FileDevice.Create(request.Path, request.Size);
        try
        {
            if (prealloc == "falloc") HostAllocate(device, request.Size);
            else if (prealloc == "full") FillZeros(device, request.Size);
        }
        catch
        {
            device.Dispose();
            throw;
        }
        return new RawImage(request.Path, device, true);
    }

    private static void HostAllocate(FileDevice device, long size)
    {
        if (size > 0 && !Util.LinuxNative.Allocate(device.Handle, 0, size)) FillZeros(device, size);
    }

    private static void FillZeros(FileDevice device, long size)
    {
        var zeros = new byte[1 << 20];
        for (long pos = 0; pos < size; pos += zeros.Length)
            device.Write(pos, zeros.AsSpan(0, (int)Math.Min(zeros.Length, size - pos)));
    }

    /// <summary>A raw image needs its whole virtual size, rounded up to 512 bytes (as qemu-img measure reports it).</summary>
    public override MeasureResult Measure(long virtualSize, BlockDevice? source, CreateOptions options)
    {
        options.GetChoice("preallocation", "off", "off", "falloc", "full");
        options.ThrowOnUnused(Name);
        long size = checked(((source?.Length ?? virtualSize) + 511) & ~511L);
        return new MeasureResult(size, size);
    }
}
