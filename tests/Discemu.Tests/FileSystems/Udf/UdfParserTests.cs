using Discemu.FileSystems.Udf;

namespace Discemu.Tests.FileSystems.Udf;

/// <summary>The small decoders: descriptor CRC, OSTA CS0, d-strings and timestamps, at their edges.</summary>
public sealed class UdfParserTests
{
    [Fact]
    public void TagCrcIsCrc16CcittWithZeroStart()
    {
        // The check value of CRC-16/XMODEM (polynomial 0x1021, initial 0), the CRC ECMA-167 1/7.2.6 specifies.
        Assert.Equal(0x31C3, UdfCrc.Compute("123456789"u8));
        Assert.Equal(0, UdfCrc.Compute([]));
    }

    [Fact]
    public void Cs0DecodesEightAndSixteenBitNames()
    {
        Assert.Equal("Ünï", UdfText.DecodeCs0([8, 0xDC, (byte)'n', 0xEF]));
        Assert.Equal("日本", UdfText.DecodeCs0([16, 0x65, 0xE5, 0x67, 0x2C]));
        Assert.Equal("", UdfText.DecodeCs0([]));
        Assert.Null(UdfText.DecodeCs0([7, (byte)'x']));
        // A d-string's last byte is its used length; a length past the field reads as empty.
        Assert.Equal("ab", UdfText.DString([8, (byte)'a', (byte)'b', 0, 0, 3]));
        Assert.Equal("", UdfText.DString([8, (byte)'a', 0, 0, 0, 9]));
    }

    [Fact]
    public void TimestampsKeepTheirZoneAndRefuseWhatCannotBeHeld()
    {
        byte[] t = [0x3C, 0x10, 0xE5, 0x07, 3, 4, 5, 6, 7, 12, 34, 56]; // type 1, +60 minutes, 2021-03-04 05:06:07.123456
        var time = UdfTimestamp.Read(t);
        Assert.Equal(new DateTimeOffset(2021, 3, 4, 5, 6, 7, TimeSpan.FromHours(1)).AddTicks(1_234_560), time);

        byte[] noZone = [0x01, 0x18, 0xE5, 0x07, 3, 4, 5, 6, 7, 0, 0, 0]; // zone -2047: none recorded, read as UTC
        Assert.Equal(TimeSpan.Zero, UdfTimestamp.Read(noZone)!.Value.Offset);

        byte[] wideZone = [0xA0, 0x15, 0xE5, 0x07, 3, 4, 5, 6, 7, 0, 0, 0]; // +1440 minutes: legal in ECMA-167, too wide for .NET
        Assert.Equal(TimeSpan.Zero, UdfTimestamp.Read(wideZone)!.Value.Offset);

        byte[] yearOne = [0x3C, 0x10, 0x01, 0x00, 1, 1, 0, 0, 0, 0, 0, 0]; // would fall before DateTime.MinValue in UTC
        Assert.Null(UdfTimestamp.Read(yearOne));
        Assert.Null(UdfTimestamp.Read(new byte[12]));
        byte[] badDay = [0x00, 0x10, 0xE5, 0x07, 2, 30, 0, 0, 0, 0, 0, 0];
        Assert.Null(UdfTimestamp.Read(badDay));
    }
}
