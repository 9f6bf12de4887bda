using System.Buffers.Binary;
using static Discemu.FileSystems.Fat.FatConstants;

namespace Discemu.FileSystems.Fat;

/// <summary>
/// A VFAT long-name directory entry (fatgen103 "FAT Long Directory Entries"): 13 UTF-16 units of the name,
/// its position (1-based, 0x40 on the last), and the checksum of the 8.3 name it belongs to.
/// </summary>
/// <param name="Order">LDIR_Ord: position, with <see cref="FatConstants.LfnLastFlag"/> on the last part.</param>
/// <param name="Checksum">LDIR_Chksum: <see cref="ShortNameChecksum"/> of the short entry that follows.</param>
/// <param name="Chars">The 13 UTF-16 units (name, then 0x0000, then 0xFFFF padding).</param>
public readonly record struct FatLfnEntry(byte Order, byte Checksum, char[] Chars)
{
    private static readonly int[] CharOffsets = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30];

    /// <summary>The part's 1-based position (without the last flag).</summary>
    public int Sequence => Order & 0x1F;

    /// <summary>True on the part holding the end of the name (stored first).</summary>
    public bool IsLast => (Order & LfnLastFlag) != 0;

    /// <summary>Parses the entry at the start of <paramref name="data"/>; false when it is not a long-name entry.</summary>
    public static bool TryRead(ReadOnlySpan<byte> data, out FatLfnEntry entry)
    {
        entry = default;
        if (data.Length < DirEntrySize || (data[11] & AttrLongNameMask) != AttrLongName) return false;
        var chars = new char[LfnCharsPerEntry];
        for (int i = 0; i < LfnCharsPerEntry; i++) chars[i] = (char)BinaryPrimitives.ReadUInt16LittleEndian(data[CharOffsets[i]..]);
        entry = new FatLfnEntry(data[0], data[13], chars);
        return true;
    }

    /// <summary>Writes the entry into the first 32 bytes of <paramref name="data"/>.</summary>
    /// <exception cref="ArgumentException">The buffer is short or <see cref="Chars"/> is not 13 units.</exception>
    public void Write(Span<byte> data)
    {
        if (data.Length < DirEntrySize) throw new ArgumentException("A directory entry needs 32 bytes.", nameof(data));
        if (Chars is not { Length: LfnCharsPerEntry }) throw new ArgumentException("A long-name entry holds 13 units.");
        data[..DirEntrySize].Clear();
        data[0] = Order;
        for (int i = 0; i < LfnCharsPerEntry; i++) BinaryPrimitives.WriteUInt16LittleEndian(data[CharOffsets[i]..], Chars[i]);
        data[11] = AttrLongName;
        data[12] = 0;
        data[13] = Checksum;
    }

    /// <summary>The long-name entries for <paramref name="name"/>, in the order they are stored (last part first).</summary>
    /// <exception cref="ArgumentException">The name is empty or longer than 255 units.</exception>
    public static FatLfnEntry[] Build(string name, byte checksum)
    {
        if (name.Length is 0 or > MaxLongNameLength) throw new ArgumentException("A long name has 1 to 255 units.", nameof(name));
        int count = (name.Length + LfnCharsPerEntry - 1) / LfnCharsPerEntry;
        var result = new FatLfnEntry[count];
        for (int part = 0; part < count; part++)
        {
            var chars = new char[LfnCharsPerEntry];
            for (int i = 0; i < LfnCharsPerEntry; i++)
            {
                int at = part * LfnCharsPerEntry + i;
                chars[i] = at < name.Length ? name[at] : at == name.Length ? '\0' : '\uFFFF';
            }
            byte order = (byte)(part + 1 | (part == count - 1 ? LfnLastFlag : 0));
            result[count - 1 - part] = new FatLfnEntry(order, checksum, chars);
        }
        return result;
    }

    /// <summary>The checksum of an 11-byte short name that binds long-name entries to it (rotate right, add).</summary>
    /// <exception cref="ArgumentException">The name is not 11 bytes.</exception>
    public static byte ShortNameChecksum(ReadOnlySpan<byte> shortName)
    {
        if (shortName.Length != ShortNameLength) throw new ArgumentException("A short name has 11 bytes.", nameof(shortName));
        byte sum = 0;
        foreach (byte b in shortName) sum = (byte)(((sum & 1) << 7) + (sum >> 1) + b);
        return sum;
    }
}
