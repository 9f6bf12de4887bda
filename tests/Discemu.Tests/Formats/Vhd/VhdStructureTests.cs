using System.Text;
using Discemu.Formats.Vhd;

namespace Discemu.Tests.Formats.Vhd;

/// <summary>The on-disk structures on their own: locator paths, bitmaps, footers and headers.</summary>
public sealed class VhdStructureTests
{
    [Fact]
    public void LocatorsDecodeTheWaysWritersStoreThem()
    {
        // Windows: UTF-16 little-endian without a terminator; some writers use big-endian or add NULs.
        Assert.Equal(@"C:\VMs\parent.vhd", VhdParentPaths.Decode(VhdConstants.PlatformW2ku, Encoding.Unicode.GetBytes(@"C:\VMs\parent.vhd")));
        Assert.Equal(@".\parent.vhd", VhdParentPaths.Decode(VhdConstants.PlatformW2ru, Encoding.BigEndianUnicode.GetBytes(@".\parent.vhd" + "\0\0")));
        Assert.Equal(@"..\base\p.vhd", VhdParentPaths.Decode(VhdConstants.PlatformWi2r, Encoding.Unicode.GetBytes("..\\base\\p.vhd\0")));
        // MacX: a file URL, with or without "localhost", percent-escaped.
        Assert.Equal("/Users/me/My Disks/parent.vhd", VhdParentPaths.Decode(VhdConstants.PlatformMacX, Encoding.UTF8.GetBytes("file://localhost/Users/me/My%20Disks/parent.vhd")));
        Assert.Equal("/tmp/p.vhd", VhdParentPaths.Decode(VhdConstants.PlatformMacX, Encoding.UTF8.GetBytes("file:///tmp/p.vhd\0")));
        Assert.Null(VhdParentPaths.Decode(VhdConstants.PlatformMac, [1, 2, 3])); // Mac alias blobs are not read
        Assert.Null(VhdParentPaths.Decode(VhdConstants.PlatformW2ku, [0, 0, 0, 0]));
        // What Discemu writes reads back.
        string url = Encoding.UTF8.GetString(VhdParentPaths.EncodeFileUrl("/tmp/a b/p.vhd"));
        Assert.Equal("file:///tmp/a%20b/p.vhd", url);
        Assert.Equal("/tmp/a b/p.vhd", VhdParentPaths.Decode(VhdConstants.PlatformMacX, Encoding.UTF8.GetBytes(url)));
        Assert.Equal(@".\p.vhd", VhdParentPaths.RelativeWindowsPath("/x/y/child.vhd", "/x/y/p.vhd"));
        Assert.Equal(@"..\z\p.vhd", VhdParentPaths.RelativeWindowsPath("/x/y/child.vhd", "/x/z/p.vhd"));
        Assert.Equal("p.vhd", VhdParentPaths.ToHostPath(@".\p.vhd"));
        Assert.True(VhdParentPaths.IsWindowsAbsolute(@"C:\p.vhd"));
        Assert.True(VhdParentPaths.IsWindowsAbsolute(@"\\server\share\p.vhd"));
        Assert.False(VhdParentPaths.IsWindowsAbsolute("/tmp/p.vhd"));
    }

    [Fact]
    public void BitmapRunsAndChangesFollowTheMostSignificantBitFirst()
    {
        var bitmap = new byte[512];
        Assert.True(VhdBitmap.Set(bitmap, 1, 3));
        Assert.Equal(0x60, bitmap[0]);
        Assert.False(VhdBitmap.Set(bitmap, 1, 3));
        Assert.True(VhdBitmap.Set(bitmap, 8, 4000));
        Assert.Equal(1, VhdBitmap.Run(bitmap, 0, 4096, out bool present));
        Assert.False(present);
        Assert.Equal(2, VhdBitmap.Run(bitmap, 1, 4096 - 1, out present));
        Assert.True(present);
        Assert.Equal(4000 - 8, VhdBitmap.Run(bitmap, 8, 4096 - 8, out present));
        Assert.Equal(96, VhdBitmap.Run(bitmap, 4000, 96, out present));
        Assert.False(present);
        Assert.True(VhdBitmap.Clear(bitmap, 0, 4096));
        Assert.True(VhdBitmap.IsEmpty(bitmap));
    }

    [Fact]
    public void FootersAndHeadersRoundTripAndRejectBadFields()
    {
        var footer = new VhdFooter
        {
            Features = 2, FormatVersion = VhdConstants.Version1, DataOffset = 512, CreatorApplication = VhdConstants.CreatorVirtualPc,
            CurrentSize = 10L << 20, OriginalSize = 10L << 20, Geometry = VhdGeometry.ForSectors(20480), DiskType = VhdConstants.DiskTypeDynamic,
            UniqueId = Guid.NewGuid(),
        };
        var bytes = footer.ToBytes();
        Assert.Equal(footer, VhdFooter.Read(bytes, null));
        Assert.Equal(301 * 4 * 17 * 512L, footer.VirtualSize); // Virtual PC sizes by geometry
        var resized = footer.WithSize(20L << 20);
        Assert.Equal(20L << 20, resized.VirtualSize);
        Assert.Equal(VhdConstants.CreatorQemuExact, resized.CreatorApplication);
        var badType = (byte[])bytes.Clone();
        badType[63] = 7;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(badType.AsSpan(64), VhdFooter.Checksum(badType, 64));
        Assert.Throws<UnsupportedFeatureException>(() => VhdFooter.Read(badType, null));
        var badVersion = (byte[])bytes.Clone();
        badVersion[12] = 2;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(badVersion.AsSpan(64), VhdFooter.Checksum(badVersion, 64));
        Assert.Throws<UnsupportedFeatureException>(() => VhdFooter.Read(badVersion, null));

        var header = new VhdDynamicHeader
        {
            NextOffset = VhdConstants.NoOffset, TableOffset = 1536, HeaderVersion = VhdConstants.Version1, MaxTableEntries = 5,
            BlockSize = 512 * 1024, ParentName = "päränt.vhd", Locators = new VhdParentLocator[8],
        };
        var h = VhdDynamicHeader.Read(header.ToBytes(), null);
        Assert.Equal("päränt.vhd", h.ParentName);
        Assert.Equal(512, h.BitmapSize);
        var badBlock = header.ToBytes();
        badBlock[34] = 0x33; // not a power of two
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(badBlock.AsSpan(36), VhdFooter.Checksum(badBlock, 36));
        Assert.Throws<CorruptImageException>(() => VhdDynamicHeader.Read(badBlock, null));
        Assert.Throws<BadArgumentException>(() => (header with { ParentName = new string('x', 257) }).ToBytes());
    }
}
