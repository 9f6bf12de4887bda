using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using Discemu.Partitions;
using Discemu.Partitions.Gpt;

namespace Discemu.FileSystems.Iso9660.Authoring;

/// <summary>
/// Partition tables of a hybrid image (libisofs <c>doc/boot_sectors.txt</c>, UEFI 2.10 chapter 5 "GUID Partition
/// Table Disk Layout") in 512-byte LBAs: an appended EFI system partition (<c>--efi-partition</c>, MBR type 0xEF as
/// partition 2, like xorriso's <c>-append_partition 2 0xef</c>), and with <c>--gpt</c> a protective MBR (0xEE from LBA 1
/// to the end) with a primary GPT at LBA 1 (entries at LBA 2) and a backup GPT at
/// the end: one entry for the ISO volume after the system area (LBA 64 on) and one for the appended partition, as
/// xorriso's <c>-append_partition 2 0xef FILE -appended_part_as_gpt</c> (entries that do not overlap, so <c>sgdisk -v</c>
/// finds no problem; <c>-isohybrid-gpt-basdat</c> also lists the El Torito EFI image inside the ISO partition, an
/// overlap sgdisk reports). GUIDs are derived from the volume (no randomness), so images stay reproducible.
/// </summary>
internal static class IsoPartitionWriter
{
    public const int Lba = 512;
    /// <summary>The GPT's first usable LBA, right after the primary entry array.</summary>
    public const ulong FirstUsable = 2 + ArraySectors;

    /// <summary>The ISO partition starts after the system area (32 KiB), which holds the MBR and the primary GPT.</summary>
    public const ulong IsoPartitionStart = 64;
    private const int EntryCount = 128;
    private const int ArraySectors = EntryCount * 128 / Lba;
    private const byte TypeProtective = 0xEE, TypeEfi = 0xEF, TypeLinux = 0x83;
    private const ulong AttrRequired = 1, AttrReadOnly = 1UL << 60;

    /// <summary>Bytes after the ISO volume: the appended partition (padded to 2 KiB) and the backup GPT.</summary>
    public static long TrailerBytes(long efiBytes, bool gpt) => RoundUp(efiBytes) + (gpt ? (ArraySectors + 1) * Lba : 0);

    public static long RoundUp(long bytes) => (bytes + IsoConstants.SectorSize - 1) / IsoConstants.SectorSize * IsoConstants.SectorSize;

    /// <summary>The partition list as (type GUID, name, first LBA, sectors, attributes).</summary>
    private static List<(Guid Type, string Name, ulong First, ulong Count, ulong Attributes)> Entries(
        uint volumeBlocks, long efiBytes)
    {
        ulong isoSectors = (ulong)volumeBlocks * 4;
        var list = new List<(Guid, string, ulong, ulong, ulong)> { (PartitionTypes.MicrosoftBasicData, "ISOHybrid", IsoPartitionStart, isoSectors - IsoPartitionStart, AttrRequired | AttrReadOnly) };
        if (efiBytes > 0) list.Add((PartitionTypes.EfiSystem, "Appended2", isoSectors, (ulong)(RoundUp(efiBytes) / Lba), 0));
        return list;
    }

    /// <summary>
    /// Puts the partition table(s) into the image's first 34 LBAs (<paramref name="head"/>, 17 408 bytes; its first
    /// 432 bytes may already hold isohybrid code and must hold the MBR written by <see cref="IsoHybridWriter"/> when
    /// there is one).
    /// </summary>
    public static void WriteHead(Span<byte> head, bool hybridMbr, bool gpt, uint volumeBlocks, long efiBytes, long totalBytes, string volumeId)
    {
        ulong isoSectors = (ulong)volumeBlocks * 4;
        ulong efiSectors = (ulong)(RoundUp(efiBytes) / Lba);
        var mbr = head[..Lba];
        if (gpt)
        {
            ulong total = (ulong)totalBytes / Lba;
            mbr.Slice(446, 64).Clear();
            MbrEntry(mbr.Slice(446, 16), 0, TypeProtective, 1, (uint)Math.Min(total - 1, uint.MaxValue));
            var (primary, _, array) = Gpt(volumeBlocks, efiBytes, totalBytes, volumeId);
            primary.Write(head.Slice(Lba, Lba));
            array.CopyTo(head[(2 * Lba)..]);
        }
        else if (efiSectors > 0)
        {
            // Partition 1 over the ISO (the isohybrid one when there is an isohybrid MBR, else type 0x83 from 0, as xorriso), partition 2 the appended one.
            if (!hybridMbr) MbrEntry(mbr.Slice(446, 16), 0, TypeLinux, 0, (uint)isoSectors);
            MbrEntry(mbr.Slice(462, 16), 0, TypeEfi, (uint)isoSectors, (uint)efiSectors);
        }
        if (gpt || efiSectors > 0)
        {
            mbr[510] = 0x55;
            mbr[511] = 0xAA;
        }
    }

    /// <summary>The backup GPT (entry array then header) that ends the image.</summary>
    public static byte[] Tail(uint volumeBlocks, long efiBytes, long totalBytes, string volumeId)
    {
        var (_, backup, array) = Gpt(volumeBlocks, efiBytes, totalBytes, volumeId);
        var tail = new byte[(ArraySectors + 1) * Lba];
        array.CopyTo(tail);
        backup.Write(tail.AsSpan(ArraySectors * Lba));
        return tail;
    }

    private static (GptHeader Primary, GptHeader Backup, byte[] Array) Gpt(uint volumeBlocks, long efiBytes, long totalBytes, string volumeId)
    {
        ulong last = (ulong)totalBytes / Lba - 1;
        var array = new byte[ArraySectors * Lba];
        int i = 0;
        foreach (var (type, name, first, count, attributes) in Entries(volumeBlocks, efiBytes))
        {
            new GptEntry(type, DerivedGuid(volumeId, volumeBlocks, i + 1), first, first + count - 1, attributes, name).Write(array.AsSpan(i * 128, 128));
            i++;
        }
        uint crc = Crc32.HashToUInt32(array);
        var primary = new GptHeader
        {
            Revision = GptConstants.Revision10, Size = GptConstants.HeaderSize, MyLba = 1, AlternateLba = last,
            FirstUsableLba = FirstUsable, LastUsableLba = last - ArraySectors - 1, DiskGuid = DerivedGuid(volumeId, volumeBlocks, 0),
            EntriesLba = 2, EntryCount = EntryCount, EntrySize = 128, EntriesCrc = crc,
        };
        var backup = primary with { MyLba = last, AlternateLba = 1, EntriesLba = last - ArraySectors };
        return (primary, backup, array);
    }

    /// <summary>A version-4-shaped GUID from the volume id, size and an index: the same volume gives the same GUIDs.</summary>
    private static Guid DerivedGuid(string volumeId, uint volumeBlocks, int index)
    {
        var h = new XxHash128();
        h.Append(Encoding.UTF8.GetBytes(volumeId));
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(b, volumeBlocks);
        BinaryPrimitives.WriteInt32LittleEndian(b[4..], index);
        h.Append(b);
        Span<byte> g = stackalloc byte[16];
        h.GetCurrentHash(g);
        g[7] = (byte)((g[7] & 0x0F) | 0x40);
        g[8] = (byte)((g[8] & 0x3F) | 0x80);
        return new Guid(g);
    }

    /// <summary>An MBR partition entry with LBA fields; CHS fields say "beyond CHS" (1023/254/63) as for large disks.</summary>
    private static void MbrEntry(Span<byte> p, byte status, byte type, uint start, uint count)
    {
        p[0] = status;
        p[1] = 0xFE; p[2] = 0xFF; p[3] = 0xFF;
        if (start == 0 || start == 1) { p[1] = 0; p[2] = (byte)(start + 1); p[3] = 0; }
        p[4] = type;
        p[5] = 0xFE; p[6] = 0xFF; p[7] = 0xFF;
        BinaryPrimitives.WriteUInt32LittleEndian(p[8..], start);
        BinaryPrimitives.WriteUInt32LittleEndian(p[12..], count);
    }
}
