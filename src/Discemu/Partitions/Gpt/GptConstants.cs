namespace Discemu.Partitions.Gpt;

/// <summary>Magic numbers and sizes of the GUID Partition Table (UEFI spec, "GPT Header", "GPT Partition Entry Array").</summary>
internal static class GptConstants
{
    /// <summary>"EFI PART" read as a little-endian 64-bit value.</summary>
    public const ulong Signature = 0x5452415020494645UL;

    /// <summary>Revision 1.0, the only one defined.</summary>
    public const uint Revision10 = 0x00010000;

    /// <summary>Bytes of the header fields defined by revision 1.0.</summary>
    public const int HeaderSize = 92;

    /// <summary>Offset of the header CRC32 field.</summary>
    public const int HeaderCrcOffset = 16;

    /// <summary>The usual (and smallest allowed) partition entry size.</summary>
    public const int EntrySize = 128;

    /// <summary>Entries in a new table.</summary>
    public const int DefaultEntryCount = 128;

    /// <summary>The spec reserves at least this many bytes for each partition entry array.</summary>
    public const int MinArrayBytes = 16384;

    /// <summary>The largest entry array Discemu reads (64x the usual 16 KiB; real tables are far smaller).</summary>
    public const int MaxArrayBytes = 1 << 20;

    /// <summary>UTF-16 code units in a partition name.</summary>
    public const int NameLength = 36;

    /// <summary>LBAs above this are refused so byte offsets of any supported sector size fit a signed 64-bit value.</summary>
    public const ulong MaxLba = (ulong)(long.MaxValue / 8192);
}
