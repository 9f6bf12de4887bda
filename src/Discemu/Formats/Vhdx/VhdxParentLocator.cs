using System.Buffers.Binary;
using System.Text;
using static Discemu.Formats.Vhdx.VhdxConstants;

namespace Discemu.Formats.Vhdx;

/// <summary>
/// The parent locator metadata item (MS-VHDX 2.6.2.6): a locator type and UTF-16LE key/value pairs
/// (parent_linkage, parent_linkage2, relative_path, volume_path, absolute_win32_path).
/// </summary>
internal sealed class VhdxParentLocator
{
    public const string ParentLinkage = "parent_linkage";
    public const string ParentLinkage2 = "parent_linkage2";
    public const string RelativePath = "relative_path";
    public const string VolumePath = "volume_path";
    public const string AbsoluteWin32Path = "absolute_win32_path";

    private const int HeaderLength = 20;
    private const int EntryLength = 12;

    public VhdxParentLocator(Guid type, IEnumerable<KeyValuePair<string, string>> entries)
    {
        Type = type;
        Entries = [.. entries];
    }

    /// <summary>The locator type (<see cref="VhdxConstants.VhdxParentLocatorType"/> for a VHDX parent).</summary>
    public Guid Type { get; }

    /// <summary>The key/value pairs in stored order.</summary>
    public List<KeyValuePair<string, string>> Entries { get; }

    /// <summary>The value stored for <paramref name="key"/> (case-sensitive), or null.</summary>
    public string? Get(string key)
    {
        foreach (var e in Entries) if (e.Key == key) return e.Value;
        return null;
    }

    /// <summary>The parent's expected DataWriteGuid values (parent_linkage and parent_linkage2).</summary>
    public IEnumerable<Guid> Linkages()
    {
        foreach (var key in new[] { ParentLinkage, ParentLinkage2 })
            if (Get(key) is { } v && Guid.TryParse(v, out var g)) yield return g;
    }

    /// <summary>Parses the item.</summary>
    /// <exception cref="CorruptImageException">A field or string lies outside the item or breaks the format's rules.</exception>
    public static VhdxParentLocator Read(ReadOnlySpan<byte> item, string? path)
    {
        if (item.Length < HeaderLength) throw new CorruptImageException("The parent locator is shorter than its header.", path);
        var type = new Guid(item[..16]);
        int count = BinaryPrimitives.ReadUInt16LittleEndian(item[18..]);
        if (HeaderLength + (long)count * EntryLength > item.Length)
            throw new CorruptImageException($"The parent locator's {count} entries do not fit in the item.", path);
        var entries = new List<KeyValuePair<string, string>>(count);
        for (int i = 0; i < count; i++)
        {
            var e = item.Slice(HeaderLength + i * EntryLength, EntryLength);
            string key = ReadString(item, BinaryPrimitives.ReadUInt32LittleEndian(e), BinaryPrimitives.ReadUInt16LittleEndian(e[8..]), "key", path);
            string value = ReadString(item, BinaryPrimitives.ReadUInt32LittleEndian(e[4..]), BinaryPrimitives.ReadUInt16LittleEndian(e[10..]), "value", path);
            foreach (var other in entries)
                if (other.Key == key) throw new CorruptImageException($"The parent locator lists the key '{key}' twice.", path);
            entries.Add(new(key, value));
        }
        return new VhdxParentLocator(type, entries);
    }

    private static string ReadString(ReadOnlySpan<byte> item, uint offset, ushort length, string what, string? path)
    {
        if (offset == 0 || length == 0 || length % 2 != 0 || offset > item.Length || length > item.Length - offset)
            throw new CorruptImageException($"A parent locator {what} (offset {offset}, {length} bytes) lies outside the item.", path);
        return Encoding.Unicode.GetString(item.Slice((int)offset, length));
    }

    /// <summary>Serialises the item: header, entry table, then the strings.</summary>
    /// <exception cref="BadArgumentException">A string is empty or the item would be larger than 1 MiB.</exception>
    public byte[] ToBytes()
    {
        int stringsStart = HeaderLength + Entries.Count * EntryLength;
        long total = stringsStart;
        foreach (var e in Entries)
        {
            if (e.Key.Length == 0 || e.Value.Length == 0) throw new BadArgumentException("Parent locator keys and values must not be empty.");
            total += Encoding.Unicode.GetByteCount(e.Key) + (long)Encoding.Unicode.GetByteCount(e.Value);
        }
        if (total > MaxMetadataItemLength || Entries.Count > ushort.MaxValue) throw new BadArgumentException("The parent locator is too large.");
        var data = new byte[total];
        Type.TryWriteBytes(data);
        BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(18), (ushort)Entries.Count);
        int pos = stringsStart;
        for (int i = 0; i < Entries.Count; i++)
        {
            var e = data.AsSpan(HeaderLength + i * EntryLength, EntryLength);
            int keyLength = Encoding.Unicode.GetBytes(Entries[i].Key, data.AsSpan(pos));
            if (keyLength > ushort.MaxValue) throw new BadArgumentException("A parent locator key is too long.");
            BinaryPrimitives.WriteUInt32LittleEndian(e, (uint)pos);
            BinaryPrimitives.WriteUInt16LittleEndian(e[8..], (ushort)keyLength);
            pos += keyLength;
            int valueLength = Encoding.Unicode.GetBytes(Entries[i].Value, data.AsSpan(pos));
            if (valueLength > ushort.MaxValue) throw new BadArgumentException("A parent locator value is too long.");
            BinaryPrimitives.WriteUInt32LittleEndian(e[4..], (uint)pos);
            BinaryPrimitives.WriteUInt16LittleEndian(e[10..], (ushort)valueLength);
            pos += valueLength;
        }
        return data;
    }
}
