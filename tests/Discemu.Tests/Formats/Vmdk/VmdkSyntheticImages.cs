using System.Buffers.Binary;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Formats.Vmdk;

/// <summary>
/// Hand-built images of the extent kinds no peer tool creates (seSparse, vmfsSparse/COWD), laid out
/// from the format descriptions; qemu-img reads them too, which is what proves the layouts right.
/// </summary>
internal static class VmdkSyntheticImages
{
    private const int S = 512;

    /// <summary>
    /// An 8 MiB seSparse disk: grains 0, 1, 3, 100 and 4200 allocated (one of them at grain index 4100, which
    /// needs both parts of the split index field), grain 2 unmapped, grain 4 zero, the rest unallocated.
    /// </summary>
    public static (string Descriptor, byte[] Expected) SeSparse(TempDir dir, string name = "x")
    {
        const long cap = 16384; // sectors
        const long gdOff = 4, gtsOff = 8, gtsSize = 128, grainsOff = 136, grains = 4200;
        var img = new byte[(grainsOff + grains * 8) * S];
        var expected = new byte[cap * S];
        void U64(long at, ulong v) => BinaryPrimitives.WriteUInt64LittleEndian(img.AsSpan((int)at), v);
        ulong[] header = new ulong[26];
        header[0] = 0xCAFEBABE; header[1] = 0x200000001; header[2] = cap; header[3] = 8; header[4] = 64;
        header[10] = 1; header[11] = 1; header[12] = 2; header[13] = 1; header[14] = 3; header[15] = 1;
        header[16] = gdOff; header[17] = 1; header[18] = gtsOff; header[19] = gtsSize; header[24] = grainsOff; header[25] = grains * 8;
        for (int i = 0; i < header.Length; i++) U64(i * 8, header[i]);
        U64(S, 0xCAFECAFE);
        U64(gdOff * S, 0x1000000000000000 | 1); // directory entry 0 uses grain table 1
        long gt = (gtsOff + 64) * S;
        void Alloc(long grain, ulong index, byte fill)
        {
            U64(gt + grain * 8, (3UL << 60) | ((index & 0xFFF) << 48) | (index >> 12));
            long at = (grainsOff + (long)index * 8) * S;
            img.AsSpan((int)at, 4096).Fill(fill);
            expected.AsSpan((int)(grain * 4096), 4096).Fill(fill);
        }
        Alloc(0, 5, 0x11);
        Alloc(1, 6, 0x22);
        Alloc(3, 0, 0x33);
        Alloc(100, 63, 0x44);
        Alloc(2047, 4100, 0x55);
        U64(gt + 2 * 8, 1UL << 60);
        U64(gt + 4 * 8, 2UL << 60);
        File.WriteAllBytes(dir.File($"{name}-sesparse.vmdk"), img);
        string descriptor = dir.File($"{name}.vmdk");
        File.WriteAllText(descriptor, $"# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\ncreateType=\"seSparse\"\n\n# Extent description\nRW {cap} SESPARSE \"{name}-sesparse.vmdk\"\n\n# The Disk Data Base\n#DDB\n\nddb.adapterType = \"lsilogic\"\n");
        return (descriptor, expected);
    }

    /// <summary>A 16 MiB vmfsSparse (COWD) disk with 4-sector grains: grains 0, 7 and 4095 allocated, the rest unallocated.</summary>
    public static (string Descriptor, byte[] Expected) Cowd(TempDir dir)
    {
        const int grain = 4, gdOff = 4, gdEntries = 2, gt0 = 8, dataStart = 8 + 32;
        const long cap = 4096L * grain * gdEntries;
        var img = new byte[(dataStart + 40) * S];
        var expected = new byte[cap * S];
        void U32(long at, uint v) => BinaryPrimitives.WriteUInt32LittleEndian(img.AsSpan((int)at), v);
        "COWD"u8.CopyTo(img);
        U32(4, 1); U32(8, 3); U32(12, (uint)cap); U32(16, grain); U32(20, gdOff); U32(24, gdEntries); U32(28, dataStart + 12);
        U32(gdOff * S, gt0);
        void Put(long g, uint sector, byte fill)
        {
            U32(gt0 * S + g * 4, sector);
            img.AsSpan((int)(sector * S), grain * S).Fill(fill);
            expected.AsSpan((int)(g * grain * S), grain * S).Fill(fill);
        }
        Put(0, dataStart, 0x55);
        Put(7, dataStart + 4, 0x66);
        Put(4095, dataStart + 8, 0x77);
        File.WriteAllBytes(dir.File("x-delta.vmdk"), img);
        string descriptor = dir.File("d.vmdk");
        File.WriteAllText(descriptor, $"# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\ncreateType=\"vmfsSparse\"\n\n# Extent description\nRW {cap} VMFSSPARSE \"x-delta.vmdk\"\n");
        return (descriptor, expected);
    }
}
