using System.Buffers.Binary;
using Discemu.Block;

namespace Discemu.FileSystems.Iso9660;

/// <summary>The emulation a boot image asks for (El Torito 1.0, section 2.2, boot media type).</summary>
internal enum BootMedia : byte
{
    NoEmulation = 0,
    Floppy12 = 1,
    Floppy144 = 2,
    Floppy288 = 3,
    HardDisk = 4,
}

/// <summary>One boot image of the catalog: the initial/default entry or a section entry.</summary>
internal readonly record struct BootEntry(int Index, byte Platform, bool Bootable, BootMedia Media, ushort LoadSegment,
    byte SystemType, ushort SectorCount, uint LoadRba, string? SectionId)
{
    /// <summary>The platform's name as xorriso reports it.</summary>
    public string PlatformName => Platform switch
    {
        ElTorito.PlatformX86 => "BIOS",
        ElTorito.PlatformPowerPc => "PPC",
        ElTorito.PlatformMac => "Mac",
        ElTorito.PlatformEfi => "UEFI",
        _ => $"0x{Platform:x2}",
    };

    /// <summary>The media as 7-Zip names boot images: NoEmul, 1.2M, 1.44M, 2.88M, HardDisk.</summary>
    public string MediaName => Media switch
    {
        BootMedia.NoEmulation => "NoEmul",
        BootMedia.Floppy12 => "1.2M",
        BootMedia.Floppy144 => "1.44M",
        BootMedia.Floppy288 => "2.88M",
        _ => "HardDisk",
    };
}

/// <summary>
/// The El Torito boot catalog (El Torito Bootable CD-ROM Format Specification 1.0): a validation entry
/// (header 01, platform, id string, checksum making the 16 words sum to zero, key 55 AA), the initial/default
/// entry, then sections (header 90 = more follow, 91 = final; platform; entry count) of section entries, each
/// optionally followed by extension entries (44).
/// </summary>
internal static class ElTorito
{
    public const byte PlatformX86 = 0, PlatformPowerPc = 1, PlatformMac = 2, PlatformEfi = 0xEF;
    public const int EntrySize = 32;
    public const int MaxCatalogSectors = 64;
    private const byte HeaderValidation = 0x01, Bootable = 0x88, NotBootable = 0x00,
        SectionMore = 0x90, SectionFinal = 0x91, Extension = 0x44, ExtensionMore = 0x20, MediaContinues = 0x20;

    /// <summary>Reads the catalog at sector <paramref name="catalogSector"/> (2048-byte sectors).</summary>
    /// <exception cref="CorruptImageException">The catalog is outside the image or its entries are invalid.</exception>
    public static List<BootEntry> Read(BlockDevice device, uint catalogSector, string? path)
    {
        long offset = (long)catalogSector * IsoConstants.SectorSize;
        if (offset + IsoConstants.SectorSize > device.Length)
            throw new CorruptImageException($"The El Torito boot catalog (sector {catalogSector}) is outside the image.", path);
        int sectors = (int)Math.Min(MaxCatalogSectors, (device.Length - offset) / IsoConstants.SectorSize);
        var catalog = new byte[sectors * IsoConstants.SectorSize];
        device.Read(offset, catalog.AsSpan(0, IsoConstants.SectorSize));
        int loaded = 1;
        ReadOnlySpan<byte> Entry(int i)
        {
            int at = i * EntrySize;
            if (at + EntrySize > catalog.Length) throw new CorruptImageException($"The El Torito boot catalog runs past {MaxCatalogSectors} sectors.", path);
            while (at + EntrySize > loaded * IsoConstants.SectorSize)
            {
                device.Read(offset + (long)loaded * IsoConstants.SectorSize, catalog.AsSpan(loaded * IsoConstants.SectorSize, IsoConstants.SectorSize));
                loaded++;
            }
            return catalog.AsSpan(at, EntrySize);
        }
        return Parse(Entry, path);
    }

    /// <summary>A way to fetch catalog entry i (32 bytes).</summary>
    public delegate ReadOnlySpan<byte> EntryReader(int index);

    /// <summary>Parses a catalog given as its bytes (for tests and fuzzing).</summary>
    /// <exception cref="CorruptImageException">The entries are invalid.</exception>
    public static List<BootEntry> Parse(ReadOnlySpan<byte> catalog, string? path)
    {
        var copy = catalog.ToArray();
        return Parse(i =>
        {
            if ((i + 1) * EntrySize > copy.Length) throw new CorruptImageException("The El Torito boot catalog is truncated.", path);
            return copy.AsSpan(i * EntrySize, EntrySize);
        }, path);
    }

    private static List<BootEntry> Parse(EntryReader entry, string? path)
    {
        var v = entry(0);
        if (v[0] != HeaderValidation || v[30] != 0x55 || v[31] != 0xAA)
            throw new CorruptImageException("The El Torito validation entry is missing (bad header id or key bytes).", path);
        ushort sum = 0;
        for (int i = 0; i < EntrySize; i += 2) sum = unchecked((ushort)(sum + BinaryPrimitives.ReadUInt16LittleEndian(v[i..])));
        if (sum != 0) throw new CorruptImageException($"The El Torito validation entry's checksum is wrong (words sum to 0x{sum:x4}).", path);
        byte platform = v[1];
        var entries = new List<BootEntry> { ReadBootEntry(entry(1), 1, platform, null, path) };
        int index = 2;
        bool final = false;
        while (!final)
        {
            var header = entry(index);
            if (header[0] is not (SectionMore or SectionFinal)) break; // end of catalog (also when a writer omits the final header)
            final = header[0] == SectionFinal;
            byte sectionPlatform = header[1];
            int count = BinaryPrimitives.ReadUInt16LittleEndian(header[2..]);
            string id = IsoText.Field(header[4..], false);
            index++;
            for (int n = 0; n < count; n++)
            {
                var e = entry(index++);
                entries.Add(ReadBootEntry(e, entries.Count + 1, sectionPlatform, id, path));
                if ((e[1] & MediaContinues) == 0) continue;
                // Extension entries follow while each says another follows.
                while (true)
                {
                    var x = entry(index++);
                    if (x[0] != Extension) throw new CorruptImageException("An El Torito section entry announces an extension entry that is missing.", path);
                    if ((x[1] & ExtensionMore) == 0) break;
                }
            }
        }
        return entries;
    }

    private static BootEntry ReadBootEntry(ReadOnlySpan<byte> e, int index, byte platform, string? sectionId, string? path)
    {
        if (e[0] is not (Bootable or NotBootable))
            throw new CorruptImageException($"El Torito boot entry {index} has an invalid boot indicator 0x{e[0]:x2}.", path);
        int media = e[1] & 0x0F;
        if (media > (int)BootMedia.HardDisk)
            throw new CorruptImageException($"El Torito boot entry {index} has an invalid media type {media}.", path);
        return new BootEntry(index, platform, e[0] == Bootable, (BootMedia)media,
            BinaryPrimitives.ReadUInt16LittleEndian(e[2..]), e[4], BinaryPrimitives.ReadUInt16LittleEndian(e[6..]),
            BinaryPrimitives.ReadUInt32LittleEndian(e[8..]), sectionId);
    }

    /// <summary>
    /// The size of a boot image: the floppy sizes for floppy emulation; for hard-disk emulation the end of the
    /// last partition of the image's MBR (what xorriso reports as hdsiz/512, times 512); for no emulation the
    /// sector count times 512 (the bytes the firmware loads, as 7-Zip shows them), or the rest of the volume
    /// when the count is 0 (large EFI images). Never past the end of the device.
    /// </summary>
    public static long ImageSize(BootEntry e, BlockDevice device, long volumeEnd)
    {
        long start = (long)e.LoadRba * IsoConstants.SectorSize;
        long limit = Math.Max(0, device.Length - start);
        long size = e.Media switch
        {
            BootMedia.Floppy12 => 1_228_800,
            BootMedia.Floppy144 => 1_474_560,
            BootMedia.Floppy288 => 2_949_120,
            BootMedia.HardDisk => HardDiskSize(device, start) ?? (long)e.SectorCount * 512,
            _ when e.SectorCount == 0 => volumeEnd > start ? volumeEnd - start : limit,
            _ => (long)e.SectorCount * 512,
        };
        return Math.Min(size, limit);
    }

    private static long? HardDiskSize(BlockDevice device, long start)
    {
        if (start + 512 > device.Length) return null;
        Span<byte> mbr = stackalloc byte[512];
        device.Read(start, mbr);
        if (mbr[510] != 0x55 || mbr[511] != 0xAA) return null;
        long end = 0;
        for (int i = 0; i < 4; i++)
        {
            var p = mbr.Slice(446 + 16 * i, 16);
            if (p[4] == 0) continue;
            long last = (long)BinaryPrimitives.ReadUInt32LittleEndian(p[8..]) + BinaryPrimitives.ReadUInt32LittleEndian(p[12..]);
            end = Math.Max(end, last);
        }
        return end > 0 ? end * 512 : null;
    }
}
