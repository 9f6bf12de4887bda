using Discemu.Block;
using static Discemu.Formats.Vhd.VhdConstants;

namespace Discemu.Formats.Vhd;

/// <summary>What both kinds of opened VHD share: their footer, and helpers over the host file.</summary>
internal interface IVhdImage
{
    /// <summary>The footer that describes the disk.</summary>
    VhdFooter Footer { get; }
}

/// <summary>Helpers shared by the fixed and the sparse VHD images.</summary>
internal static class VhdImageInfo
{
    /// <summary>The facts <c>info</c> shows: creator, disk type, geometry and where the size comes from.</summary>
    public static List<KeyValuePair<string, object?>> Describe(in VhdFooter f)
    {
        var g = f.Geometry;
        return
        [
            new("disk-type", f.DiskTypeName),
            new("creator-app", FourCC(f.CreatorApplication)),
            new("creator-version", $"{f.CreatorVersion >> 16}.{f.CreatorVersion & 0xFFFF}"),
            new("creator-host-os", FourCC(f.CreatorHostOs)),
            new("geometry", new List<KeyValuePair<string, object?>>
            {
                new("cylinders", g.Cylinders), new("heads", g.Heads), new("sectors-per-track", g.SectorsPerTrack),
            }),
            new("current-size", f.CurrentSize),
            new("chs-size", g.Bytes),
            new("size-from", f.SizeSource == VhdSizeSource.Geometry ? "chs" : "footer"),
            new("unique-id", f.UniqueId.ToString()),
            new("created", (Epoch + TimeSpan.FromSeconds(f.TimeStamp)).ToString("yyyy-MM-dd HH:mm:ss 'UTC'", System.Globalization.CultureInfo.InvariantCulture)),
            new("saved-state", f.SavedState),
        ];
    }

    /// <summary>Reads host bytes; what lies past the end of the file reads as zeros.</summary>
    public static void ReadHost(FileDevice file, long offset, Span<byte> buffer)
    {
        long length = file.Length;
        if (offset >= length) { buffer.Clear(); return; }
        int n = (int)Math.Min(buffer.Length, length - offset);
        file.Read(offset, buffer[..n]);
        buffer[n..].Clear();
    }

    /// <summary>
    /// The status of host bytes that hold guest data: holes in the host file read as zeros and are reported
    /// as such (allocated zero); past the end of the file likewise.
    /// </summary>
    public static BlockStatus HostStatus(FileDevice file, long hostOffset, long length)
    {
        long fileLength = file.Length;
        if (hostOffset >= fileLength) return new BlockStatus(length, BlockStatusFlags.Zero | BlockStatusFlags.Allocated, 0, hostOffset);
        var st = file.GetStatus(hostOffset, Math.Min(length, fileLength - hostOffset));
        return new BlockStatus(st.Length, RefineShortData(file, hostOffset, st), 0, hostOffset);
    }

    /// <summary>
    /// A short data run is often a host page shared with metadata (a footer, a header, a bitmap) while the guest's
    /// part of it holds zeros: such runs (at most a page) are read, and reported as zeros when they are.
    /// </summary>
    internal static BlockStatusFlags RefineShortData(FileDevice file, long hostOffset, BlockStatus st)
    {
        if (!st.HasData || st.Length > 4096) return st.Flags;
        Span<byte> buffer = stackalloc byte[4096];
        var part = buffer[..(int)st.Length];
        file.Read(hostOffset, part);
        return part.ContainsAnyExcept((byte)0) ? st.Flags : BlockStatusFlags.Zero | BlockStatusFlags.Allocated;
    }

    /// <summary>Makes host bytes read as zeros: punched when <paramref name="punch"/> (or zeroed in place), written as zeros where the file system cannot.</summary>
    public static void ZeroHost(FileDevice file, long hostOffset, long length, bool punch)
    {
        long end = Math.Min(file.Length, hostOffset + length);
        if (end > hostOffset) file.WriteZeroes(hostOffset, end - hostOffset, punch);
    }
}
