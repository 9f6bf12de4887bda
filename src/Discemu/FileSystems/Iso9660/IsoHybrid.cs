using System.Buffers.Binary;
using System.Text;
using Discemu.Block;

namespace Discemu.FileSystems.Iso9660;

/// <summary>
/// Recognises the partition tables an isohybrid image carries in its system area (libisofs
/// doc/boot_sectors.txt): an MBR (signature 55 AA at byte 510, four entries at 446) and a GPT (header
/// "EFI PART" at byte 512, entries usually at 1024). It only reports them for <c>fsinfo</c>; reading the
/// partitions is the partition layer's job.
/// </summary>
internal static class IsoHybrid
{
    private const int MaxGptEntries = 1024;

    /// <summary>The MBR and GPT facts, or an empty list when the system area holds neither.</summary>
    public static List<KeyValuePair<string, object?>> Describe(BlockDevice device)
    {
        var info = new List<KeyValuePair<string, object?>>();
        if (device.Length < 2048) return info;
        var area = new byte[2048];
        device.Read(0, area);
        if (area[510] == 0x55 && area[511] == 0xAA)
        {
            var parts = new List<object?>();
            for (int i = 0; i < 4; i++)
            {
                var p = area.AsSpan(446 + 16 * i, 16);
                uint start = BinaryPrimitives.ReadUInt32LittleEndian(p[8..]), count = BinaryPrimitives.ReadUInt32LittleEndian(p[12..]);
                if (p[4] == 0 && count == 0) continue;
                parts.Add(new Dictionary<string, object?>
                {
                    ["index"] = i + 1,
                    ["bootable"] = p[0] == 0x80,
                    ["type"] = $"0x{p[4]:x2}",
                    ["start-sector"] = start,
                    ["sectors"] = count,
                });
            }
            if (parts.Count > 0) info.Add(new("mbr-partitions", parts));
        }
        if (area.AsSpan(512, 8).SequenceEqual("EFI PART"u8))
        {
            var gpt = area.AsSpan(512, 512);
            long entriesLba = BinaryPrimitives.ReadInt64LittleEndian(gpt[72..]);
            uint count = BinaryPrimitives.ReadUInt32LittleEndian(gpt[80..]), size = BinaryPrimitives.ReadUInt32LittleEndian(gpt[84..]);
            var parts = new List<object?>();
            if (entriesLba > 0 && count <= MaxGptEntries && size is >= 128 and <= 4096 && entriesLba * 512 + (long)count * size <= device.Length)
            {
                var entries = new byte[count * size];
                device.Read(entriesLba * 512, entries);
                for (int i = 0; i < count; i++)
                {
                    var e = entries.AsSpan((int)(i * size), (int)size);
                    if (e[..16].IndexOfAnyExcept((byte)0) < 0) continue;
                    parts.Add(new Dictionary<string, object?>
                    {
                        ["index"] = i + 1,
                        ["type-guid"] = new Guid(e[..16]).ToString(),
                        ["first-sector"] = BinaryPrimitives.ReadInt64LittleEndian(e[32..]),
                        ["last-sector"] = BinaryPrimitives.ReadInt64LittleEndian(e[40..]),
                        ["name"] = Encoding.Unicode.GetString(e.Slice(56, 72)).TrimEnd('\0'),
                    });
                }
            }
            info.Add(new("gpt", new Dictionary<string, object?>
            {
                ["disk-guid"] = new Guid(gpt.Slice(56, 16)).ToString(),
                ["partitions"] = parts,
            }));
        }
        return info;
    }
}
