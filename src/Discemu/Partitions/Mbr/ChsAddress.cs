namespace Discemu.Partitions.Mbr;

/// <summary>The disk geometry CHS addresses are computed with (heads per cylinder, sectors per track).</summary>
public readonly record struct MbrGeometry
{
    /// <summary>The geometry every modern tool assumes: 255 heads, 63 sectors per track.</summary>
    public static MbrGeometry Default { get; } = new(255, 63);

    /// <summary>Creates a geometry.</summary>
    /// <exception cref="BadArgumentException">Heads not in 1–255 or sectors per track not in 1–63.</exception>
    public MbrGeometry(int heads, int sectorsPerTrack)
    {
        if (heads is < 1 or > 255 || sectorsPerTrack is < 1 or > 63)
            throw new BadArgumentException($"Invalid geometry: {heads} heads (1-255), {sectorsPerTrack} sectors per track (1-63).");
        Heads = heads;
        SectorsPerTrack = sectorsPerTrack;
    }

    /// <summary>Heads per cylinder.</summary>
    public int Heads { get; }

    /// <summary>Sectors per track.</summary>
    public int SectorsPerTrack { get; }
}

/// <summary>
/// A cylinder/head/sector address as an MBR record stores it in three bytes: head; sector in bits 0–5 with
/// cylinder bits 8–9 in bits 6–7; cylinder bits 0–7. Sectors count from 1.
/// </summary>
internal readonly record struct ChsAddress(int Cylinder, int Head, int Sector)
{
    /// <summary>The highest cylinder three bytes can hold.</summary>
    public const int MaxCylinder = 1023;

    /// <summary>Bytes of an encoded address.</summary>
    public const int Length = 3;

    /// <summary>The address of <paramref name="lba"/> under <paramref name="geometry"/>; past cylinder 1023 the maximum
    /// address (1023, heads-1, sectors), which is what partitioning tools write for blocks CHS cannot reach.</summary>
    public static ChsAddress FromLba(long lba, MbrGeometry geometry)
    {
        long perCylinder = (long)geometry.Heads * geometry.SectorsPerTrack;
        long cylinder = lba / perCylinder;
        if (lba < 0 || cylinder > MaxCylinder) return new(MaxCylinder, geometry.Heads - 1, geometry.SectorsPerTrack);
        long rest = lba % perCylinder;
        return new((int)cylinder, (int)(rest / geometry.SectorsPerTrack), (int)(rest % geometry.SectorsPerTrack) + 1);
    }

    /// <summary>The LBA this address names under <paramref name="geometry"/>, or null when the address is invalid for it.</summary>
    public long? ToLba(MbrGeometry geometry)
    {
        if (Sector < 1 || Sector > geometry.SectorsPerTrack || Head >= geometry.Heads) return null;
        return ((long)Cylinder * geometry.Heads + Head) * geometry.SectorsPerTrack + Sector - 1;
    }

    /// <summary>Decodes three bytes.</summary>
    public static ChsAddress Read(ReadOnlySpan<byte> b)
        => new(b[2] | (b[1] & 0xC0) << 2, b[0], b[1] & 0x3F);

    /// <summary>Encodes into three bytes.</summary>
    public void Write(Span<byte> b)
    {
        b[0] = (byte)Head;
        b[1] = (byte)((Sector & 0x3F) | ((Cylinder >> 2) & 0xC0));
        b[2] = (byte)Cylinder;
    }
}
