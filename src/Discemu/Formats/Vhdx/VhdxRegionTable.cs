using System.Buffers.Binary;
using static Discemu.Formats.Vhdx.VhdxConstants;

namespace Discemu.Formats.Vhdx;

/// <summary>One region table entry (MS-VHDX 2.2.3.2).</summary>
internal readonly record struct VhdxRegion(Guid Id, long FileOffset, long Length, bool Required)
{
    public long End => FileOffset + Length;
}

/// <summary>The 64 KiB region table (MS-VHDX 2.2.3), kept twice in the header section.</summary>
internal sealed class VhdxRegionTable
{
    private VhdxRegionTable(List<VhdxRegion> regions) => Regions = regions;

    /// <summary>The regions in table order.</summary>
    public List<VhdxRegion> Regions { get; }

    /// <summary>Creates a table holding <paramref name="regions"/>.</summary>
    public static VhdxRegionTable Create(IEnumerable<VhdxRegion> regions) => new([.. regions]);

    /// <summary>The region with <paramref name="id"/>, or null.</summary>
    public VhdxRegion? Find(Guid id)
    {
        foreach (var r in Regions) if (r.Id == id) return r;
        return null;
    }

    /// <summary>Parses a table: false with a reason when its signature, checksum or an entry is invalid.</summary>
    public static bool TryRead(ReadOnlySpan<byte> data, out VhdxRegionTable? table, out string reason)
    {
        table = null;
        if (data.Length < RegionTableSize) { reason = "it is truncated"; return false; }
        data = data[..RegionTableSize];
        if (BinaryPrimitives.ReadUInt32LittleEndian(data) != RegionSignature) { reason = "its signature is not 'regi'"; return false; }
        if (VhdxCrc32C.ComputeWithZeroField(data, 4) != BinaryPrimitives.ReadUInt32LittleEndian(data[4..])) { reason = "its checksum is wrong"; return false; }
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(data[8..]);
        if (count > MaxRegionEntries) { reason = $"it claims {count} entries (at most {MaxRegionEntries})"; return false; }
        var regions = new List<VhdxRegion>((int)count);
        for (int i = 0; i < count; i++)
        {
            var e = data.Slice(16 + i * 32, 32);
            var id = new Guid(e[..16]);
            ulong offset = BinaryPrimitives.ReadUInt64LittleEndian(e[16..]);
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(e[24..]);
            uint required = BinaryPrimitives.ReadUInt32LittleEndian(e[28..]);
            if (offset % MiB != 0 || offset < (ulong)HeaderSectionSize || offset > (ulong)(MaxVirtualSize * 2) || length % MiB != 0)
            { reason = $"region {id} (offset 0x{offset:x}, {length} bytes) is not 1 MiB-aligned after the header section"; return false; }
            foreach (var other in regions)
            {
                if (other.Id == id) { reason = $"region {id} is listed twice"; return false; }
                if ((long)offset < other.End && other.FileOffset < (long)offset + length) { reason = $"regions {other.Id} and {id} overlap"; return false; }
            }
            regions.Add(new VhdxRegion(id, (long)offset, length, (required & 1) != 0));
        }
        table = new VhdxRegionTable(regions);
        reason = "";
        return true;
    }

    /// <summary>Serialises the table (with its checksum) into 64 KiB.</summary>
    public byte[] ToBytes()
    {
        var data = new byte[RegionTableSize];
        BinaryPrimitives.WriteUInt32LittleEndian(data, RegionSignature);
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(8), (uint)Regions.Count);
        for (int i = 0; i < Regions.Count; i++)
        {
            var e = data.AsSpan(16 + i * 32, 32);
            var r = Regions[i];
            r.Id.TryWriteBytes(e);
            BinaryPrimitives.WriteUInt64LittleEndian(e[16..], (ulong)r.FileOffset);
            BinaryPrimitives.WriteUInt32LittleEndian(e[24..], (uint)r.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(e[28..], r.Required ? 1u : 0u);
        }
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(4), VhdxCrc32C.ComputeWithZeroField(data, 4));
        return data;
    }
}
