namespace Discemu.Formats.Vdi;

/// <summary>Numbers of the VirtualBox Disk Image format, header version 1.1 (little-endian).</summary>
internal static class VdiConstants
{
    /// <summary>The image signature at offset 64.</summary>
    public const uint Signature = 0xBEDA107F;

    /// <summary>Version 1.1, the only version written since VirtualBox 1.x.</summary>
    public const uint Version11 = 0x00010001;

    /// <summary>Offset of the signature (after the 64-byte text line).</summary>
    public const int SignatureOffset = 64;

    /// <summary>Offset of the version 1.1 header (its first field is the header size).</summary>
    public const int HeaderOffset = 72;

    /// <summary>The header size qemu-img writes (without the LCHS geometry).</summary>
    public const int MinHeaderSize = 0x180;

    /// <summary>The header size VirtualBox writes (with the LCHS geometry); Discemu writes it too.</summary>
    public const int FullHeaderSize = 0x190;

    /// <summary>Bytes of the text line, the comment.</summary>
    public const int TextLength = 64, CommentLength = 256;

    /// <summary>The header sector: the block map usually starts right after it.</summary>
    public const int HeaderSector = 512;

    public const int SectorSize = 512;

    public const uint TypeNormal = 1;  // dynamic
    public const uint TypeFixed = 2;   // static: every block allocated at creation
    public const uint TypeUndo = 3;
    public const uint TypeDiff = 4;    // differencing: the parent is found by UUID

    /// <summary>Block map entry: the block has no data here (reads from the parent, or zeros).</summary>
    public const uint BlockFree = 0xFFFFFFFF;

    /// <summary>Block map entry: the block reads as zeros (also in a differencing image).</summary>
    public const uint BlockZero = 0xFFFFFFFE;

    /// <summary>The block size VirtualBox and qemu-img use.</summary>
    public const int DefaultBlockSize = 1 << 20;

    /// <summary>The largest block size accepted when reading.</summary>
    public const int MaxBlockSize = 256 << 20;

    /// <summary>The most blocks an image may have (the map must stay below 2 GiB, as qemu-img requires).</summary>
    public const uint MaxBlocks = 0x1FFFFF80;

    /// <summary>
    /// Discemu starts the data area on a 1 MiB boundary (qemu-img packs it right after the map): blocks then
    /// line up with host pages, and the map has room to grow for resize.
    /// </summary>
    public const int DataAlignment = 1 << 20;

    /// <summary>The text line Discemu writes before the signature.</summary>
    public const string Text = "<<< Discemu Virtual Disk Image >>>\n";
}
