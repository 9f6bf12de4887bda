using System.Buffers.Binary;
using static Discemu.FileSystems.Fat.FatConstants;

namespace Discemu.FileSystems.Fat;

/// <summary>The FAT32 FSInfo sector (fatgen103 "FAT32 FSInfo Sector Structure"): a free-cluster count and a next-free hint.</summary>
/// <param name="FreeCount">FSI_Free_Count: free clusters, or 0xFFFFFFFF when unknown.</param>
/// <param name="NextFree">FSI_Nxt_Free: where to start looking for a free cluster, or 0xFFFFFFFF.</param>
public readonly record struct FatFsInfo(uint FreeCount, uint NextFree)
{
    /// <summary>Parses the sector; false when a signature is wrong.</summary>
    public static bool TryRead(ReadOnlySpan<byte> sector, out FatFsInfo info)
    {
        info = default;
        if (sector.Length < BootSectorLength) return false;
        if (BinaryPrimitives.ReadUInt32LittleEndian(sector) != FsInfoLeadSignature
            || BinaryPrimitives.ReadUInt32LittleEndian(sector[484..]) != FsInfoStructSignature
            || BinaryPrimitives.ReadUInt32LittleEndian(sector[508..]) != FsInfoTrailSignature) return false;
        info = new FatFsInfo(BinaryPrimitives.ReadUInt32LittleEndian(sector[488..]), BinaryPrimitives.ReadUInt32LittleEndian(sector[492..]));
        return true;
    }

    /// <summary>Writes the signatures and both fields into <paramref name="sector"/> (the reserved areas are zeroed).</summary>
    /// <exception cref="ArgumentException">The buffer is shorter than 512 bytes.</exception>
    public void Write(Span<byte> sector)
    {
        if (sector.Length < BootSectorLength) throw new ArgumentException("The FSInfo buffer is shorter than 512 bytes.", nameof(sector));
        sector[..BootSectorLength].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(sector, FsInfoLeadSignature);
        BinaryPrimitives.WriteUInt32LittleEndian(sector[484..], FsInfoStructSignature);
        BinaryPrimitives.WriteUInt32LittleEndian(sector[488..], FreeCount);
        BinaryPrimitives.WriteUInt32LittleEndian(sector[492..], NextFree);
        BinaryPrimitives.WriteUInt32LittleEndian(sector[508..], FsInfoTrailSignature);
    }
}
