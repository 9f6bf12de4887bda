using System.Buffers.Binary;
using System.Text;
using static Discemu.Formats.Ewf.EwfConstants;

namespace Discemu.Formats.Ewf;

/// <summary>
/// An EWF1 section descriptor (76 bytes): a type name of up to 16 ASCII characters, the offset of the
/// next section from the start of the segment file, the section's size (descriptor included) and an
/// Adler-32 of the first 72 bytes.
/// </summary>
internal readonly struct EwfSection
{
    /// <summary>Where the descriptor starts in its segment file.</summary>
    public long Offset { get; init; }

    /// <summary>The section type ("header", "volume", "sectors", "table", "done", …).</summary>
    public string Type { get; init; }

    /// <summary>Offset of the next section's descriptor.</summary>
    public long Next { get; init; }

    /// <summary>Size of the section including its descriptor (0 for EnCase next/done sections).</summary>
    public long Size { get; init; }

    /// <summary>Where the section's data starts.</summary>
    public long DataOffset => Offset + SectionDescriptorSize;

    /// <summary>Bytes of data after the descriptor (0 when the size field does not cover any).</summary>
    public long DataSize => Size > SectionDescriptorSize ? Size - SectionDescriptorSize : 0;

    /// <summary>True for the sections that end a segment file.</summary>
    public bool IsTerminal => Type is "next" or "done";

    /// <summary>
    /// Decodes a descriptor read at <paramref name="offset"/> of a file of <paramref name="fileLength"/> bytes,
    /// checking its checksum, its type name and that it points inside the file.
    /// </summary>
    /// <returns>Null when valid, else what is wrong.</returns>
    public static string? TryRead(ReadOnlySpan<byte> bytes, long offset, long fileLength, out EwfSection section)
    {
        section = default;
        if (bytes.Length < SectionDescriptorSize) return "section descriptor truncated";
        if (!Adler32.Matches(bytes[..72], bytes[72..])) return $"section descriptor at offset {offset} has a bad checksum";
        var nameBytes = bytes[..16];
        int len = nameBytes.IndexOf((byte)0);
        if (len < 0) len = 16;
        if (len == 0) return $"section at offset {offset} has no type";
        foreach (byte c in nameBytes[..len])
            if (c < 0x21 || c > 0x7e) return $"section at offset {offset} has an invalid type";
        ulong next = BinaryPrimitives.ReadUInt64LittleEndian(bytes[16..]);
        ulong size = BinaryPrimitives.ReadUInt64LittleEndian(bytes[24..]);
        if (next > (ulong)fileLength || size > (ulong)fileLength)
            return $"section at offset {offset} points past the end of the file (truncated segment?)";
        section = new EwfSection
        {
            Offset = offset,
            Type = Encoding.ASCII.GetString(nameBytes[..len]),
            Next = (long)next,
            Size = (long)size,
        };
        return null;
    }

    /// <summary>Encodes a descriptor with its checksum into the first 76 bytes of <paramref name="dest"/>.</summary>
    public static void Write(Span<byte> dest, string type, long next, long size)
    {
        var d = dest[..SectionDescriptorSize];
        d.Clear();
        Encoding.ASCII.GetBytes(type, d[..16]);
        BinaryPrimitives.WriteInt64LittleEndian(d[16..], next);
        BinaryPrimitives.WriteInt64LittleEndian(d[24..], size);
        BinaryPrimitives.WriteUInt32LittleEndian(d[72..], Adler32.Compute(d[..72]));
    }
}
