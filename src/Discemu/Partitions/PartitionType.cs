using System.Globalization;

namespace Discemu.Partitions;

/// <summary>
/// A partition's type: a GUID in a GPT, a one-byte type code in an MBR. <see cref="Name"/> gives the
/// friendly name when the type is known ("EFI System", "Linux filesystem", "W95 FAT32 (LBA)").
/// </summary>
public readonly record struct PartitionType
{
    private PartitionType(Guid? guid, byte? mbrCode)
    {
        Guid = guid;
        MbrCode = mbrCode;
    }

    /// <summary>The GPT partition type GUID, or null for an MBR type.</summary>
    public Guid? Guid { get; }

    /// <summary>The MBR type byte, or null for a GPT type.</summary>
    public byte? MbrCode { get; }

    /// <summary>A GPT type.</summary>
    public static PartitionType FromGuid(Guid guid) => new(guid, null);

    /// <summary>An MBR type.</summary>
    public static PartitionType FromMbrCode(byte code) => new(null, code);

    /// <summary>The friendly name, or "Unknown" for a type no entry of <see cref="PartitionTypes"/> names.</summary>
    public string Name => PartitionTypes.NameOf(this) ?? "Unknown";

    /// <summary>The type as tools print it: an upper-case GUID, or the MBR byte as two hex digits (<c>0x83</c>).</summary>
    public override string ToString()
        => Guid is { } g ? g.ToString("D").ToUpperInvariant() : "0x" + (MbrCode ?? 0).ToString("x2", CultureInfo.InvariantCulture);
}
