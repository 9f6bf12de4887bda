using System.Buffers.Binary;
using static Discemu.FileSystems.Udf.UdfConstants;

namespace Discemu.FileSystems.Udf;

/// <summary>An extent descriptor (ECMA-167 3/7.1): length in bytes and first sector.</summary>
internal readonly record struct ExtentAd(uint Length, uint Location)
{
    public static ExtentAd Read(ReadOnlySpan<byte> b)
        => new(BinaryPrimitives.ReadUInt32LittleEndian(b), BinaryPrimitives.ReadUInt32LittleEndian(b[4..]));
}

/// <summary>A long allocation descriptor (ECMA-167 4/14.14.2): extent length and type, block and partition reference.</summary>
internal readonly record struct UdfLongAd(uint RawLength, uint Block, ushort Partition)
{
    public const int Size = 16;

    public static UdfLongAd Read(ReadOnlySpan<byte> b) => new(
        BinaryPrimitives.ReadUInt32LittleEndian(b),
        BinaryPrimitives.ReadUInt32LittleEndian(b[4..]),
        BinaryPrimitives.ReadUInt16LittleEndian(b[8..]));

    public uint Length => RawLength & ExtentLengthMask;
    public int Type => (int)(RawLength >> 30);
}

/// <summary>One allocation extent of a file: where its bytes are, or that they read as zeros.</summary>
/// <param name="Type">0 recorded, 1 allocated but not recorded, 2 neither (ECMA-167 4/14.14.1.1).</param>
/// <param name="Length">Length in bytes.</param>
/// <param name="Partition">Partition reference number.</param>
/// <param name="Block">First logical block in that partition.</param>
internal readonly record struct UdfExtent(int Type, uint Length, ushort Partition, uint Block);

/// <summary>An ICB address: a partition reference and a logical block; the identity of a file.</summary>
internal readonly record struct UdfIcbAddress(ushort Partition, uint Block)
{
    public override string ToString() => $"block {Block} of partition {Partition}";
}
