using System.Buffers.Binary;
using static Discemu.Formats.Qcow2.Qcow2Constants;

namespace Discemu.Formats.Qcow2;

/// <summary>One header extension (type, data); unknown ones are kept so a rewrite preserves them.</summary>
internal sealed record Qcow2HeaderExtension(uint Type, byte[] Data)
{
    /// <summary>Bytes this extension takes on disk: 8 of type and length, then data padded to 8.</summary>
    public int DiskLength => 8 + ((Data.Length + 7) & ~7);

    /// <summary>
    /// Reads the extensions that follow the header in the first cluster, up to the end marker.
    /// <paramref name="firstCluster"/> is the whole first cluster (or the file, if shorter).
    /// </summary>
    /// <exception cref="CorruptImageException">An extension overruns the cluster or the backing file name.</exception>
    public static List<Qcow2HeaderExtension> ReadAll(ReadOnlySpan<byte> firstCluster, in Qcow2Header header, string? path)
    {
        var list = new List<Qcow2HeaderExtension>();
        int end = firstCluster.Length;
        if (header.BackingFileOffset != 0 && header.BackingFileOffset < (ulong)end) end = (int)header.BackingFileOffset;
        int pos = header.HeaderLength;
        while (pos + 8 <= end)
        {
            uint type = BinaryPrimitives.ReadUInt32BigEndian(firstCluster[pos..]);
            uint len = BinaryPrimitives.ReadUInt32BigEndian(firstCluster[(pos + 4)..]);
            pos += 8;
            if (type == ExtEnd) return list;
            if (len > (uint)(end - pos)) throw new CorruptImageException($"Header extension 0x{type:x8} of {len} bytes overruns the first cluster.", path);
            list.Add(new Qcow2HeaderExtension(type, firstCluster.Slice(pos, (int)len).ToArray()));
            pos += (int)((len + 7) & ~7u);
        }
        // Some writers stop without an end marker when the space runs out exactly; accept that.
        return list;
    }

    /// <summary>Writes the extensions and the end marker at <paramref name="dest"/>; returns bytes written.</summary>
    public static int WriteAll(IEnumerable<Qcow2HeaderExtension> extensions, Span<byte> dest)
    {
        int pos = 0;
        foreach (var e in extensions)
        {
            BinaryPrimitives.WriteUInt32BigEndian(dest[pos..], e.Type);
            BinaryPrimitives.WriteUInt32BigEndian(dest[(pos + 4)..], (uint)e.Data.Length);
            e.Data.CopyTo(dest[(pos + 8)..]);
            dest.Slice(pos + 8 + e.Data.Length, e.DiskLength - 8 - e.Data.Length).Clear();
            pos += e.DiskLength;
        }
        dest.Slice(pos, 8).Clear();
        return pos + 8;
    }
}
