using System.Buffers.Binary;
using Discemu.Block;
using static Discemu.FileSystems.Udf.UdfConstants;

namespace Discemu.FileSystems.Udf;

/// <summary>
/// The prevailing logical volume integrity descriptor (ECMA-167 3/10.10, UDF 2.60 2.2.6): open or closed, and
/// its implementation use (UDF 2.60 2.2.6.4): file and directory counts and the UDF revisions needed to read and write.
/// </summary>
internal sealed record UdfIntegrity(bool Closed, uint Files, uint Directories, ushort MinRead, ushort MinWrite, ushort MaxWrite)
{
    /// <summary>Follows the integrity sequence from <paramref name="extent"/>; null when no descriptor is readable.</summary>
    public static UdfIntegrity? Read(BlockDevice device, int sectorSize, ExtentAd extent)
    {
        UdfIntegrity? last = null;
        var block = new byte[sectorSize];
        for (int hops = 0; hops < MaxPointerHops && extent.Length > 0; hops++)
        {
            long sector = extent.Location;
            if ((sector + 1) * sectorSize > device.Length) break;
            device.Read(sector * sectorSize, block);
            if (!UdfTag.TryRead(block, (uint)sector, out var tag) || tag.Identifier != TagIntegrity) break;
            uint partitions = BinaryPrimitives.ReadUInt32LittleEndian(block.AsSpan(72));
            uint implUse = BinaryPrimitives.ReadUInt32LittleEndian(block.AsSpan(76));
            long use = 80 + 8L * partitions;
            bool closed = BinaryPrimitives.ReadUInt32LittleEndian(block.AsSpan(28)) == 1;
            last = implUse >= 46 && use + 46 <= block.Length
                ? new UdfIntegrity(closed,
                    BinaryPrimitives.ReadUInt32LittleEndian(block.AsSpan((int)use + 32)),
                    BinaryPrimitives.ReadUInt32LittleEndian(block.AsSpan((int)use + 36)),
                    BinaryPrimitives.ReadUInt16LittleEndian(block.AsSpan((int)use + 40)),
                    BinaryPrimitives.ReadUInt16LittleEndian(block.AsSpan((int)use + 42)),
                    BinaryPrimitives.ReadUInt16LittleEndian(block.AsSpan((int)use + 44)))
                : new UdfIntegrity(closed, 0, 0, 0, 0, 0);
            var next = ExtentAd.Read(block.AsSpan(32));
            if (next.Location == extent.Location) break;
            extent = next;
        }
        return last;
    }

    /// <summary>A revision as "2.01".</summary>
    public static string? Revision(ushort bcd) => bcd == 0 ? null : $"{bcd >> 8:x}.{bcd & 0xFF:x2}";
}
