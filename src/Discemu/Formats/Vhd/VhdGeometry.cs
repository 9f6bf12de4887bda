using static Discemu.Formats.Vhd.VhdConstants;

namespace Discemu.Formats.Vhd;

/// <summary>A VHD footer's disk geometry: cylinders, heads and sectors per track (CHS).</summary>
internal readonly record struct VhdGeometry(int Cylinders, int Heads, int SectorsPerTrack)
{
    /// <summary>The largest geometry (65535/16/255); images carrying it are sized by their footer.</summary>
    public static VhdGeometry Maximum => new(MaxCylinders, MaxHeads, MaxSectorsPerTrack);

    /// <summary>True for the largest geometry.</summary>
    public bool IsMaximum => this == Maximum;

    /// <summary>The bytes the geometry addresses: C × H × S × 512.</summary>
    public long Bytes => (long)Cylinders * Heads * SectorsPerTrack * SectorSize;

    /// <summary>The geometry packed as the footer stores it (cylinders, heads, sectors).</summary>
    public uint Packed => (uint)Cylinders << 16 | (uint)Heads << 8 | (uint)SectorsPerTrack;

    /// <summary>Unpacks the footer's geometry field.</summary>
    public static VhdGeometry FromPacked(uint value) => new((int)(value >> 16), (int)(value >> 8 & 0xFF), (int)(value & 0xFF));

    /// <summary>
    /// The geometry for a disk of <paramref name="totalSectors"/> sectors, computed as the specification's
    /// appendix prescribes (it rounds down: the geometry never addresses more than the disk).
    /// </summary>
    public static VhdGeometry ForSectors(long totalSectors)
    {
        const long MaxChs = (long)MaxCylinders * MaxHeads * MaxSectorsPerTrack;
        if (totalSectors > MaxChs) totalSectors = MaxChs;
        long sectorsPerTrack, heads, cylindersTimesHeads;
        if (totalSectors >= (long)MaxCylinders * 16 * 63)
        {
            sectorsPerTrack = 255;
            heads = 16;
            cylindersTimesHeads = totalSectors / sectorsPerTrack;
        }
        else
        {
            sectorsPerTrack = 17;
            cylindersTimesHeads = totalSectors / sectorsPerTrack;
            heads = (cylindersTimesHeads + 1023) / 1024;
            if (heads < 4) heads = 4;
            if (cylindersTimesHeads >= heads * 1024 || heads > 16)
            {
                sectorsPerTrack = 31;
                heads = 16;
                cylindersTimesHeads = totalSectors / sectorsPerTrack;
            }
            if (cylindersTimesHeads >= heads * 1024)
            {
                sectorsPerTrack = 63;
                heads = 16;
                cylindersTimesHeads = totalSectors / sectorsPerTrack;
            }
        }
        return new VhdGeometry((int)(cylindersTimesHeads / heads), (int)heads, (int)sectorsPerTrack);
    }

    /// <summary>
    /// The smallest disk of at least <paramref name="bytes"/> whose geometry addresses all of it, as
    /// <c>qemu-img create -f vpc</c> sizes images without <c>force_size</c>: the size grows a sector at a
    /// time until the geometry covers it. Past the largest geometry the size stays as asked (whole sectors).
    /// </summary>
    public static (VhdGeometry Geometry, long Bytes) RoundUpToGeometry(long bytes)
    {
        long sectors = (bytes + SectorSize - 1) / SectorSize;
        const long MaxChs = (long)MaxCylinders * MaxHeads * MaxSectorsPerTrack;
        if (sectors > MaxChs) return (Maximum, sectors * SectorSize);
        // The geometry of a larger sector count reaches the target after at most one track per head group.
        for (long candidate = sectors; ; candidate++)
        {
            var g = ForSectors(candidate);
            if (g.Bytes / SectorSize >= sectors) return (g, g.Bytes);
            if (candidate > MaxChs) return (Maximum, sectors * SectorSize);
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Cylinders}/{Heads}/{SectorsPerTrack}";
}
