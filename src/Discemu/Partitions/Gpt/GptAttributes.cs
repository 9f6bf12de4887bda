using System.Globalization;

namespace Discemu.Partitions.Gpt;

/// <summary>
/// The GPT partition attribute bits (UEFI spec, "GPT Partition Entry Attributes"): bit 0 required partition,
/// bit 1 no block I/O protocol, bit 2 legacy BIOS bootable, bits 3–47 reserved, bits 48–63 type-specific.
/// Written and read with the words sfdisk uses (<c>RequiredPartition NoBlockIOProtocol LegacyBIOSBootable GUID:60,63</c>).
/// </summary>
public static class GptAttributes
{
    /// <summary>Bit 0: the platform needs the partition to function.</summary>
    public const ulong RequiredPartition = 1UL << 0;
    /// <summary>Bit 1: firmware must not produce a block I/O protocol for it.</summary>
    public const ulong NoBlockIoProtocol = 1UL << 1;
    /// <summary>Bit 2: legacy BIOS bootable (what <c>--bootable</c> sets on GPT disks).</summary>
    public const ulong LegacyBiosBootable = 1UL << 2;

    private static readonly (ulong Bit, string Name)[] Named =
    [
        (RequiredPartition, "RequiredPartition"),
        (NoBlockIoProtocol, "NoBlockIOProtocol"),
        (LegacyBiosBootable, "LegacyBIOSBootable"),
    ];

    /// <summary>Each set bit in words: the three named bits, <c>GUID:N</c> for 48–63, <c>bit:N</c> for the reserved 3–47.</summary>
    public static IReadOnlyList<string> Names(ulong attributes)
    {
        var names = new List<string>();
        foreach (var (bit, name) in Named)
            if ((attributes & bit) != 0) names.Add(name);
        for (int i = 3; i < 64; i++)
            if ((attributes & (1UL << i)) != 0) names.Add(string.Create(CultureInfo.InvariantCulture, $"{(i >= 48 ? "GUID" : "bit")}:{i}"));
        return names;
    }

    /// <summary>The attributes as one string, type-specific bits joined the way sfdisk prints them (<c>GUID:60,63</c>).</summary>
    public static string Format(ulong attributes)
    {
        var parts = new List<string>();
        foreach (var (bit, name) in Named)
            if ((attributes & bit) != 0) parts.Add(name);
        for (int i = 3; i < 48; i++)
            if ((attributes & (1UL << i)) != 0) parts.Add(string.Create(CultureInfo.InvariantCulture, $"bit:{i}"));
        var guidBits = Enumerable.Range(48, 16).Where(i => (attributes & (1UL << i)) != 0).ToList();
        if (guidBits.Count > 0) parts.Add("GUID:" + string.Join(',', guidBits));
        return string.Join(' ', parts);
    }

    /// <summary>
    /// Parses attributes: words separated by spaces (the three names, <c>GUID:N[,M…]</c> for bits 48–63,
    /// <c>bit:N[,M…]</c> for any bit) or a hexadecimal mask <c>0x…</c>.
    /// </summary>
    /// <exception cref="BadArgumentException">A word is not an attribute.</exception>
    public static ulong Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        ulong mask = 0;
        foreach (var word in text.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
        {
            if (word.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            {
                if (!ulong.TryParse(word.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong m))
                    throw new BadArgumentException($"Invalid attribute mask '{word}'.");
                mask |= m;
                continue;
            }
            var named = Named.FirstOrDefault(n => string.Equals(n.Name, word, StringComparison.OrdinalIgnoreCase));
            if (named.Name is not null)
            {
                mask |= named.Bit;
                continue;
            }
            int colon = word.IndexOf(':');
            string prefix = colon < 0 ? "" : word[..colon];
            bool guid = prefix.Equals("GUID", StringComparison.OrdinalIgnoreCase);
            if (!guid && !prefix.Equals("bit", StringComparison.OrdinalIgnoreCase))
                throw new BadArgumentException($"Unknown partition attribute '{word}': expected RequiredPartition, NoBlockIOProtocol, LegacyBIOSBootable, GUID:N (48-63), bit:N (0-63) or 0xMASK.");
            foreach (var num in word[(colon + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                if (!int.TryParse(num, NumberStyles.None, CultureInfo.InvariantCulture, out int bit) || bit > 63 || (guid && bit < 48))
                    throw new BadArgumentException($"Invalid attribute bit '{num}' in '{word}'.");
                mask |= 1UL << bit;
            }
        }
        return mask;
    }
}
