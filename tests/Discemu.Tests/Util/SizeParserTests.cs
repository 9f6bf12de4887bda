using Discemu.Util;

namespace Discemu.Tests.Util;

public sealed class SizeParserTests
{
    [Theory]
    [InlineData("0", 0L)]
    [InlineData("512", 512L)]
    [InlineData(" 4096 ", 4096L)]
    [InlineData("1b", 1L)]
    [InlineData("64k", 65536L)]
    [InlineData("64K", 65536L)]
    [InlineData("1M", 1048576L)]
    [InlineData("1m", 1048576L)]
    [InlineData("1.5G", 1610612736L)]
    [InlineData("0.5k", 512L)]
    [InlineData(".5k", 512L)]
    [InlineData("2T", 2199023255552L)]
    [InlineData("1P", 1125899906842624L)]
    [InlineData("1E", 1152921504606846976L)]
    [InlineData("7.5E", 8646911284551352320L)]
    [InlineData("9223372036854775807", long.MaxValue)]
    public void ParsesBinarySuffixesAndDecimals(string text, long expected) => Assert.Equal(expected, SizeParser.Parse(text));

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("k")]
    [InlineData("-1")]
    [InlineData("-1k")]
    [InlineData("1.5")]
    [InlineData("0.3k")]
    [InlineData("1KiB")]
    [InlineData("1Ki")]
    [InlineData("1x")]
    [InlineData("1e3")]
    [InlineData("1,5G")]
    [InlineData("1 G")]
    [InlineData("8E")]
    [InlineData("9223372036854775808")]
    [InlineData("99999999999999999999999999999999999999")]
    [InlineData("79228162514264337593543950335E")]
    [InlineData("79228162514264337593543950335")]
    [InlineData("0x10")]
    [InlineData("1.2.3M")]
    [InlineData("NaN")]
    [InlineData("∞")]
    public void RejectsBadInputWithATypedError(string text)
    {
        var e = Assert.Throws<BadArgumentException>(() => SizeParser.Parse(text, "cluster_size"));
        Assert.Contains("cluster_size", e.Message);
    }

    [Fact]
    public void NullIsAProgrammingError() => Assert.Throws<ArgumentNullException>(() => SizeParser.Parse(null!));

    [Theory]
    [InlineData(0L, "0 B")]
    [InlineData(512L, "512 B")]
    [InlineData(1024L, "1 KiB")]
    [InlineData(1536L, "1.5 KiB")]
    [InlineData(4194304L, "4 MiB")]
    [InlineData(1610612736L, "1.5 GiB")]
    public void FormatsLikeQemuImg(long bytes, string expected) => Assert.Equal(expected, SizeParser.Format(bytes));

    [Fact]
    public void FormatThenParseRoundTripsForWholeUnits()
    {
        foreach (long n in new[] { 1L << 10, 1L << 20, 3L << 30, 1L << 40 })
        {
            string s = SizeParser.Format(n).Replace(" ", "", StringComparison.Ordinal).Replace("iB", "", StringComparison.Ordinal);
            Assert.Equal(n, SizeParser.Parse(s));
        }
    }
}
