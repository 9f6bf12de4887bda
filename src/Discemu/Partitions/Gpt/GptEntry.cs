using System.Buffers.Binary;
using System.Text;

namespace Discemu.Partitions.Gpt;

/// <summary>A GPT partition entry: type GUID, unique GUID, first and last LBA (inclusive), attributes, UTF-16LE name.</summary>
internal readonly record struct GptEntry(Guid Type, Guid Unique, ulong FirstLba, ulong LastLba, ulong Attributes, string Name)
{
    /// <summary>An entry whose type GUID is zero is unused.</summary>
    public bool IsUsed => Type != Guid.Empty;

    /// <summary>Decodes the first 128 bytes of an entry; the name stops at its first NUL.</summary>
    public static GptEntry Read(ReadOnlySpan<byte> e)
    {
        var nameBytes = e.Slice(56, GptConstants.NameLength * 2);
        int chars = 0;
        while (chars < GptConstants.NameLength && BinaryPrimitives.ReadUInt16LittleEndian(nameBytes[(chars * 2)..]) != 0) chars++;
        return new GptEntry(new Guid(e[..16]), new Guid(e.Slice(16, 16)),
            BinaryPrimitives.ReadUInt64LittleEndian(e[32..]), BinaryPrimitives.ReadUInt64LittleEndian(e[40..]),
            BinaryPrimitives.ReadUInt64LittleEndian(e[48..]), Encoding.Unicode.GetString(nameBytes[..(chars * 2)]));
    }

    /// <summary>Encodes the entry into the first 128 bytes of <paramref name="e"/> (the name zero-padded).</summary>
    public void Write(Span<byte> e)
    {
        e[..GptConstants.EntrySize].Clear();
        if (!IsUsed) return;
        Type.TryWriteBytes(e[..16]);
        Unique.TryWriteBytes(e.Slice(16, 16));
        BinaryPrimitives.WriteUInt64LittleEndian(e[32..], FirstLba);
        BinaryPrimitives.WriteUInt64LittleEndian(e[40..], LastLba);
        BinaryPrimitives.WriteUInt64LittleEndian(e[48..], Attributes);
        Encoding.Unicode.GetBytes(Name, e.Slice(56, GptConstants.NameLength * 2));
    }

    /// <summary>Checks a name fits the 36 UTF-16 code units and has no NUL.</summary>
    /// <exception cref="BadArgumentException">It does not.</exception>
    public static string CheckName(string name, string? path)
    {
        if (name.Length > GptConstants.NameLength) throw new BadArgumentException($"The partition name '{name}' is longer than {GptConstants.NameLength} UTF-16 characters.", path);
        if (name.Contains('\0')) throw new BadArgumentException("The partition name contains a NUL character.", path);
        return name;
    }
}
