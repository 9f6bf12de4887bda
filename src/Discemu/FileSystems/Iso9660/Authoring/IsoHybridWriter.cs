using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace Discemu.FileSystems.Iso9660.Authoring;

/// <summary>
/// The SYSLINUX isohybrid MBR (libisofs doc/boot_sectors.txt, "SYSLINUX Isohybrid MBR"): the template's code (bytes
/// 0–431), the first boot image's address in 512-byte blocks (432–439), a disk signature (440–443; derived from the
/// volume, not random, so images stay reproducible), one bootable partition of type 0x17 from block 0 over the whole
/// image padded to full MiB (geometry 64 heads × 32 sectors), and the 55 AA signature.
/// </summary>
internal static class IsoHybridWriter
{
    public const int CodeBytes = 432;
    public const uint MiBBlocks = (1 << 20) / IsoConstants.SectorSize;
    private const byte PartitionType = 0x17;
    private const int Heads = 64, Sectors = 32;

    /// <summary>Reads and checks the template.</summary>
    /// <exception cref="BadArgumentException">The template is missing or shorter than 432 bytes.</exception>
    public static byte[] ReadTemplate(string path)
    {
        if (!File.Exists(path)) throw new BadArgumentException($"isohybrid MBR template '{path}' does not exist.", path);
        var bytes = File.ReadAllBytes(path.Length > 0 ? path : throw new BadArgumentException("An empty isohybrid MBR template path."));
        if (bytes.Length is < CodeBytes or > 32768) throw new BadArgumentException($"isohybrid MBR template '{path}' is {bytes.Length} bytes (432 to 32768 expected).", path);
        return bytes;
    }

    /// <summary>Builds the 512-byte MBR.</summary>
    public static byte[] Build(byte[] template, uint bootImageBlock, uint volumeBlocks, string volumeId)
    {
        var mbr = new byte[512];
        template.AsSpan(0, CodeBytes).CopyTo(mbr);
        BinaryPrimitives.WriteUInt64LittleEndian(mbr.AsSpan(432), (ulong)bootImageBlock * 4);
        var id = new Crc32();
        id.Append(Encoding.UTF8.GetBytes(volumeId));
        Span<byte> blocks = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(blocks, volumeBlocks);
        id.Append(blocks);
        id.GetCurrentHash(mbr.AsSpan(440, 4));
        var p = mbr.AsSpan(446, 16);
        uint sectors = checked(volumeBlocks * 4);
        uint cylinders = sectors / (Heads * Sectors);
        uint lastCylinder = Math.Min(cylinders - 1, 1023);
        p[0] = 0x80;
        p[1] = 0; // start: cylinder 0, head 0, sector 1
        p[2] = 1;
        p[3] = 0;
        p[4] = PartitionType;
        p[5] = Heads - 1;
        p[6] = (byte)(Sectors | ((lastCylinder >> 2) & 0xC0));
        p[7] = (byte)lastCylinder;
        BinaryPrimitives.WriteUInt32LittleEndian(p[8..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(p[12..], sectors);
        mbr[510] = 0x55;
        mbr[511] = 0xAA;
        return mbr;
    }
}
