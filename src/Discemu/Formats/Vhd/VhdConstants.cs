namespace Discemu.Formats.Vhd;

/// <summary>Numbers fixed by Microsoft's "Virtual Hard Disk Image Format Specification" (October 2006).</summary>
internal static class VhdConstants
{
    public const int SectorSize = 512;
    public const int FooterSize = 512;
    public const int DynamicHeaderSize = 1024;

    /// <summary>"conectix", the footer's cookie, as a big-endian 64-bit number.</summary>
    public const ulong FooterCookie = 0x636F6E6563746978;

    /// <summary>"cxsparse", the dynamic disk header's cookie.</summary>
    public const ulong DynamicCookie = 0x6378737061727365;

    /// <summary>Version 1.0 of the footer and of the dynamic disk header.</summary>
    public const uint Version1 = 0x00010000;

    /// <summary>Feature bit that must always be set ("reserved").</summary>
    public const uint FeatureReserved = 0x2;

    public const uint DiskTypeFixed = 2;
    public const uint DiskTypeDynamic = 3;
    public const uint DiskTypeDifferencing = 4;

    /// <summary>Footer data offset of a fixed disk, and the dynamic header's unused "next" offset.</summary>
    public const ulong NoOffset = ulong.MaxValue;

    /// <summary>A block allocation table entry of a block that has no data in this file.</summary>
    public const uint Unallocated = 0xFFFFFFFF;

    /// <summary>The block size every known writer uses (2 MiB).</summary>
    public const int DefaultBlockSize = 2 << 20;

    /// <summary>The largest block size accepted (the specification asks only for a power of two sectors).</summary>
    public const int MaxBlockSize = 256 << 20;

    /// <summary>The largest virtual disk: 2040 GiB, the limit of Hyper-V and qemu-img (block offsets are 32-bit sector numbers).</summary>
    public const long MaxVirtualSize = 2040L << 30;

    /// <summary>The largest disk size a footer may give when read (64 TiB; Azure's fixed disks reach 32 TiB).</summary>
    public const ulong MaxReadableSize = 1UL << 46;

    /// <summary>Parent locator entries in a dynamic disk header.</summary>
    public const int LocatorCount = 8;

    /// <summary>Bytes of the parent's UTF-16 name in the dynamic header.</summary>
    public const int ParentNameBytes = 512;

    /// <summary>Longest parent locator accepted when reading (Windows reserves 64 KiB for its relative locator).</summary>
    public const int MaxLocatorLength = 64 * 1024;

    // Parent locator platform codes (big-endian ASCII).
    public const uint PlatformNone = 0;
    public const uint PlatformWi2r = 0x57693272; // "Wi2r", deprecated
    public const uint PlatformWi2k = 0x5769326B; // "Wi2k", deprecated
    public const uint PlatformW2ru = 0x57327275; // "W2ru": UTF-16 path relative to the child
    public const uint PlatformW2ku = 0x57326B75; // "W2ku": absolute UTF-16 path
    public const uint PlatformMac = 0x4D616320;  // "Mac ": Mac OS alias blob
    public const uint PlatformMacX = 0x4D616358; // "MacX": UTF-8 file:// URL

    // Creator applications whose images size the disk from their CHS geometry (see README.md).
    public const uint CreatorVirtualPc = 0x76706320;     // "vpc "
    public const uint CreatorVirtualServer = 0x76732020; // "vs  "
    public const uint CreatorQemu = 0x71656D75;          // "qemu"

    /// <summary>"qem2": the marker qemu-img writes for images whose size is the footer's current size; Discemu writes it too.</summary>
    public const uint CreatorQemuExact = 0x71656D32;

    /// <summary>The creator version Discemu writes (1.0).</summary>
    public const uint DiscemuCreatorVersion = 0x00010000;

    /// <summary>"Wi2k", the host OS code qemu-img and Windows write.</summary>
    public const uint HostWindows = 0x5769326B;

    /// <summary>The largest geometry: images that carry it are always sized by their footer.</summary>
    public const int MaxCylinders = 65535, MaxHeads = 16, MaxSectorsPerTrack = 255;

    /// <summary>VHD time stamps count seconds from 2000-01-01 00:00:00 UTC.</summary>
    public static readonly DateTimeOffset Epoch = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Bytes of a block's sector bitmap: one bit per sector, padded to whole sectors.</summary>
    public static int BitmapBytes(int blockSize) => checked((blockSize / SectorSize / 8 + SectorSize - 1) / SectorSize * SectorSize);

    /// <summary>The current time as a VHD time stamp.</summary>
    public static uint Now() => (uint)Math.Clamp((DateTimeOffset.UtcNow - Epoch).TotalSeconds, 0, uint.MaxValue);

    /// <summary>A four-character code as text (trailing spaces and NULs kept out; other unprintable bytes as \xNN).</summary>
    public static string FourCC(uint code)
    {
        var sb = new System.Text.StringBuilder(4);
        for (int shift = 24; shift >= 0; shift -= 8)
        {
            byte b = (byte)(code >> shift);
            sb.Append(b is >= 0x20 and < 0x7F ? ((char)b).ToString() : $"\\x{b:x2}");
        }
        string s = sb.ToString();
        while (s.EndsWith(' ') || s.EndsWith("\\x00", StringComparison.Ordinal)) s = s.EndsWith(' ') ? s[..^1] : s[..^4];
        return s;
    }
}
