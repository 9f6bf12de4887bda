using System.Buffers.Binary;

namespace Discemu.FileSystems.Iso9660.Authoring;

/// <summary>A boot entry resolved against the tree: its image node, media type, sector count and system type.</summary>
internal sealed record ResolvedBootEntry(IsoBootEntry Entry, IsoNode Image, BootMedia Media, ushort SectorCount, byte SystemType);

/// <summary>
/// El Torito 1.0 authoring: the boot record volume descriptor, the boot catalog (validation entry, initial/default
/// entry, then one section per run of entries of the same platform, the last header 0x91), and ISOLINUX's boot
/// information table (bytes 8–63 of a no-emulation image: volume descriptor block 16, the image's block and length,
/// and the 32-bit sum of the image's little-endian words from byte 64).
/// </summary>
internal static class IsoElToritoWriter
{
    private const int EntrySize = ElTorito.EntrySize;
    private const long Floppy12 = 1_228_800, Floppy144 = 1_474_560, Floppy288 = 2_949_120;

    /// <summary>Largest image whose boot information table is computed (it is read whole).</summary>
    public const long MaxInfoTableImage = 64L << 20;

    /// <summary>Bytes of the catalog for <paramref name="entries"/>.</summary>
    public static uint CatalogBytes(IReadOnlyList<IsoBootEntry> entries)
    {
        int sections = 0;
        for (int i = 1; i < entries.Count; i++) if (i == 1 || entries[i].Efi != entries[i - 1].Efi) sections++;
        return (uint)((2 + sections + Math.Max(0, entries.Count - 1)) * EntrySize);
    }

    /// <summary>Checks every entry against its image: exists, is a file, has a size the emulation accepts.</summary>
    /// <exception cref="BadArgumentException">A missing image or a size the emulation does not accept.</exception>
    public static List<ResolvedBootEntry> Resolve(IReadOnlyList<IsoBootEntry> entries, IsoLayout layout)
    {
        var list = new List<ResolvedBootEntry>();
        foreach (var e in entries)
        {
            // A hard link inside the tree has its first file's extent (laid out), so the entry points at the one content.
            var node = layout.Find(e.ImagePath) ?? throw new BadArgumentException($"Boot image '{e.ImagePath}' is not in the ISO tree.", e.ImagePath);
            if (node.Kind != IsoNodeKind.File) throw new BadArgumentException($"Boot image '{e.ImagePath}' is not a regular file.", e.ImagePath);
            if (node.Size == 0) throw new BadArgumentException($"Boot image '{e.ImagePath}' is empty.", e.ImagePath);
            var emulation = e.Efi ? IsoBootEmulation.NoEmulation : e.Emulation;
            switch (emulation)
            {
                case IsoBootEmulation.Floppy:
                    var media = node.Size switch
                    {
                        Floppy12 => BootMedia.Floppy12,
                        Floppy144 => BootMedia.Floppy144,
                        Floppy288 => BootMedia.Floppy288,
                        _ => throw new BadArgumentException($"Floppy boot image '{e.ImagePath}' is {node.Size} bytes; floppy emulation needs exactly 1228800, 1474560 or 2949120.", e.ImagePath),
                    };
                    list.Add(new ResolvedBootEntry(e, node, media, 1, 0));
                    break;
                case IsoBootEmulation.HardDisk:
                    list.Add(new ResolvedBootEntry(e, node, BootMedia.HardDisk, 1, HardDiskType(node, e.ImagePath)));
                    break;
                default:
                    if (e.BootInfoTable && node.Size > MaxInfoTableImage)
                        throw new BadArgumentException($"Boot image '{e.ImagePath}' is too large for a boot information table.", e.ImagePath);
                    if (e.BootInfoTable && node.Size < 64)
                        throw new BadArgumentException($"Boot image '{e.ImagePath}' is {node.Size} bytes, too small for a boot information table (64).", e.ImagePath);
                    long sectors = e.LoadSize ?? (node.Size + 2047) / 2048 * 4;
                    if (sectors is < 0 or > ushort.MaxValue)
                    {
                        if (e.LoadSize is not null) throw new BadArgumentException($"Boot load size {e.LoadSize} is outside 0..65535.", e.ImagePath);
                        sectors = 0; // too large to state: 0, firmware loads the whole image (as EFI does)
                    }
                    list.Add(new ResolvedBootEntry(e, node, BootMedia.NoEmulation, (ushort)sectors, 0));
                    break;
            }
        }
        return list;
    }

    private static byte HardDiskType(IsoNode node, string path)
    {
        var mbr = new byte[512];
        if (node.Size < 512) throw new BadArgumentException($"Hard-disk boot image '{path}' is smaller than an MBR.", path);
        using (var f = File.OpenHandle(node.HostPath!)) RandomAccess.Read(f, mbr, 0);
        if (mbr[510] != 0x55 || mbr[511] != 0xAA) throw new BadArgumentException($"Hard-disk boot image '{path}' has no MBR signature.", path);
        byte type = 0;
        int count = 0;
        for (int i = 0; i < 4; i++)
        {
            byte t = mbr[446 + 16 * i + 4];
            if (t == 0) continue;
            type = t;
            count++;
        }
        if (count != 1) throw new BadArgumentException($"Hard-disk boot image '{path}' must hold exactly one partition (it has {count}).", path);
        return type;
    }

    /// <summary>Writes the boot record volume descriptor.</summary>
    public static void WriteBootRecord(Span<byte> sector, uint catalogBlock)
    {
        sector.Clear();
        sector[0] = IsoConstants.VdBootRecord;
        IsoConstants.StandardIdentifier.CopyTo(sector[1..]);
        sector[6] = 1;
        IsoConstants.ElToritoIdentifier.CopyTo(sector[7..]);
        BinaryPrimitives.WriteUInt32LittleEndian(sector[0x47..], catalogBlock);
    }

    /// <summary>Writes the catalog (<see cref="CatalogBytes"/> bytes, the rest of <paramref name="b"/> zero).</summary>
    public static void WriteCatalog(Span<byte> b, List<ResolvedBootEntry> entries)
    {
        b.Clear();
        var v = b[..EntrySize];
        v[0] = 1;
        v[1] = Platform(entries[0].Entry);
        v[30] = 0x55;
        v[31] = 0xAA;
        ushort sum = 0;
        for (int i = 0; i < EntrySize; i += 2) sum = unchecked((ushort)(sum + BinaryPrimitives.ReadUInt16LittleEndian(v[i..])));
        BinaryPrimitives.WriteUInt16LittleEndian(v[28..], unchecked((ushort)-sum));
        WriteEntry(b.Slice(EntrySize, EntrySize), entries[0]);
        int pos = 2 * EntrySize;
        for (int i = 1; i < entries.Count;)
        {
            int end = i;
            while (end < entries.Count && entries[end].Entry.Efi == entries[i].Entry.Efi) end++;
            var h = b.Slice(pos, EntrySize);
            h[0] = (byte)(end == entries.Count ? 0x91 : 0x90);
            h[1] = Platform(entries[i].Entry);
            BinaryPrimitives.WriteUInt16LittleEndian(h[2..], (ushort)(end - i));
            pos += EntrySize;
            for (; i < end; i++, pos += EntrySize) WriteEntry(b.Slice(pos, EntrySize), entries[i]);
        }
    }

    private static byte Platform(IsoBootEntry e) => e.Efi ? ElTorito.PlatformEfi : ElTorito.PlatformX86;

    private static void WriteEntry(Span<byte> e, ResolvedBootEntry r)
    {
        e[0] = 0x88;
        e[1] = (byte)r.Media;
        BinaryPrimitives.WriteUInt16LittleEndian(e[2..], r.Entry.LoadSegment);
        e[4] = r.SystemType;
        BinaryPrimitives.WriteUInt16LittleEndian(e[6..], r.SectorCount);
        BinaryPrimitives.WriteUInt32LittleEndian(e[8..], r.Image.Extent);
    }

    /// <summary>Patches the boot information table into <paramref name="image"/> (the whole image, recorded at <paramref name="block"/>).</summary>
    public static void PatchInfoTable(Span<byte> image, uint block)
    {
        uint sum = 0;
        Span<byte> w = stackalloc byte[4];
        for (int i = 64; i < image.Length; i += 4)
        {
            w.Clear();
            image.Slice(i, Math.Min(4, image.Length - i)).CopyTo(w);
            sum = unchecked(sum + BinaryPrimitives.ReadUInt32LittleEndian(w));
        }
        image[8..64].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(image[8..], IsoConstants.VolumeDescriptorStart);
        BinaryPrimitives.WriteUInt32LittleEndian(image[12..], block);
        BinaryPrimitives.WriteUInt32LittleEndian(image[16..], (uint)image.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(image[20..], sum);
    }
}
