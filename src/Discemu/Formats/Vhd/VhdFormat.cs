using Discemu.Block;
using static Discemu.Formats.Vhd.VhdConstants;

namespace Discemu.Formats.Vhd;

/// <summary>Microsoft Virtual Hard Disk (VHD, "vpc" as qemu-img calls it): fixed, dynamic and differencing disks.</summary>
public sealed partial class VhdFormat : ImageFormat
{
    /// <summary>The single instance.</summary>
    public static VhdFormat Instance { get; } = new();

    private VhdFormat() { }

    /// <inheritdoc/>
    public override string Name => "vpc";

    /// <inheritdoc/>
    public override string Description => "Microsoft Virtual Hard Disk (VHD): fixed, dynamic, differencing";

    /// <inheritdoc/>
    public override IReadOnlyList<string> Aliases => ["vhd"];

    /// <inheritdoc/>
    public override IReadOnlyList<string> Extensions => ["vhd", "vpc"];

    /// <inheritdoc/>
    public override bool SupportsBacking => true;

    /// <summary>A fixed VHD is known only by the footer in its last 512 bytes.</summary>
    public override int TrailerProbeLength => FooterSize;

    /// <inheritdoc/>
    public override int Probe(ReadOnlySpan<byte> header, long fileLength) => Score(header);

    /// <summary>
    /// Dynamic and differencing disks carry a footer copy at offset 0; a fixed disk only the footer at the
    /// end. A cookie with a good checksum is certain; a cookie alone (a damaged footer) still beats raw.
    /// </summary>
    public override int Probe(ReadOnlySpan<byte> header, ReadOnlySpan<byte> trailer, long fileLength)
    {
        int head = Score(header);
        int tail = fileLength >= FooterSize && trailer.Length >= FooterSize ? Score(trailer[^FooterSize..]) : 0;
        return Math.Max(head, tail);
    }

    private static int Score(ReadOnlySpan<byte> data)
    {
        if (!VhdFooter.HasCookie(data)) return 0;
        return data.Length >= FooterSize && VhdFooter.ChecksumMatches(data) ? 100 : 60;
    }

    /// <inheritdoc/>
    public override DiskImage Open(ImageOpenRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var file = FileDevice.Open(request.Path, request.Writable);
        try
        {
            return Open(request, file);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static DiskImage Open(ImageOpenRequest request, FileDevice file)
    {
        var footers = VhdFooterPair.Read(file, request.Path);
        return footers.Footer.IsSparse
            ? VhdSparseImage.Open(request, file, footers)
            : new VhdFixedImage(request.Path, file, request.Writable, footers.Footer);
    }
}

/// <summary>The footer at the end of a VHD and its copy at offset 0, and which one describes the disk.</summary>
/// <param name="Footer">The footer that describes the disk.</param>
/// <param name="TailValid">The footer in the last 512 bytes is intact.</param>
/// <param name="HeadValid">The copy at offset 0 is intact (dynamic and differencing disks).</param>
/// <param name="Agree">Both are intact and identical.</param>
internal readonly record struct VhdFooterPair(VhdFooter Footer, bool TailValid, bool HeadValid, bool Agree)
{
    /// <summary>
    /// Reads both footers. A fixed disk is named by its last 512 bytes; a dynamic or differencing disk by
    /// its copy at offset 0 (which survives a write cut short before the footer at the end was moved), or
    /// by the footer at the end when the copy is damaged.
    /// </summary>
    /// <exception cref="CorruptImageException">Neither footer is intact.</exception>
    public static VhdFooterPair Read(FileDevice file, string path)
    {
        long length = file.Length;
        if (length < FooterSize) throw new CorruptImageException($"The file ({length} bytes) is too short to be a VHD.", path);
        var head = new byte[FooterSize];
        var tail = new byte[FooterSize];
        file.Read(0, head);
        file.Read(length - FooterSize, tail);
        VhdFooter? t = null, h = null;
        Exception? tailError = null, headError = null;
        try { t = VhdFooter.Read(tail, path, "footer"); } catch (DiscemuException e) { tailError = e; }
        if (VhdFooter.HasCookie(head))
        {
            try { h = VhdFooter.Read(head, path, "footer copy at offset 0"); } catch (DiscemuException e) { headError = e; }
        }
        bool agree = t is not null && h is not null && head.AsSpan().SequenceEqual(tail);
        if (t is { DiskType: DiskTypeFixed } fixedFooter) return new VhdFooterPair(fixedFooter, true, h is not null, agree);
        if (h is { IsSparse: true } headFooter) return new VhdFooterPair(headFooter, t is not null, true, agree);
        if (t is { IsSparse: true } tailFooter) return new VhdFooterPair(tailFooter, true, false, false);
        if (headError is not null) throw headError;
        if (tailError is not null && VhdFooter.HasCookie(tail)) throw tailError;
        throw new CorruptImageException("Not a VHD: no footer (\"conectix\") at the end of the file or at offset 0.", path);
    }
}
