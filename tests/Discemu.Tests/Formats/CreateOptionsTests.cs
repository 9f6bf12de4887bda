using Discemu.Formats;

namespace Discemu.Tests.Formats;

public sealed class CreateOptionsTests
{
    [Fact]
    public void DoubledCommaIsALiteralComma()
    {
        var o = CreateOptions.Parse("backing_file=a,,b.img,cluster_size=64k");
        Assert.Equal("a,b.img", o.GetString("backing_file"));
        Assert.Equal(65536, o.GetSize("cluster_size", 0));
        Assert.Equal("x,", CreateOptions.Parse("k=x,,").GetString("k"));
        Assert.Equal(",,", CreateOptions.Parse("k=,,,,").GetString("k"));
    }

    [Fact]
    public void BareKeysAreOnEmptyPartsSkippedAndLaterValuesWin()
    {
        var o = CreateOptions.Parse("lazy_refcounts", null, "", "a=1,,", "a=2,b= spaced ");
        Assert.True(o.GetBool("lazy_refcounts", false));
        Assert.Equal("2", o.GetString("a"));
        Assert.Equal(" spaced ", o.GetString("b"));
        Assert.Equal(["lazy_refcounts", "a", "b"], o.Keys.OrderBy(k => k == "lazy_refcounts" ? 0 : 1).ThenBy(k => k));
        var trimmed = CreateOptions.Parse(" key =v");
        Assert.True(trimmed.Contains("key"));
        Assert.Empty(CreateOptions.Parse("").Keys);
        Assert.Empty(CreateOptions.Parse(",").Keys);
    }

    [Theory]
    [InlineData("=x")]
    [InlineData(" =x")]
    [InlineData("a=1,=2")]
    public void PartWithoutKeyIsRejected(string text) => Assert.Throws<BadArgumentException>(() => CreateOptions.Parse(text));

    [Fact]
    public void UnknownKeysAreRejectedOnlyWhenNotAskedFor()
    {
        var o = CreateOptions.Parse("compat=1.1,bogus=1");
        Assert.Equal("1.1", o.GetString("compat"));
        var e = Assert.Throws<BadArgumentException>(() => o.ThrowOnUnused("qcow2"));
        Assert.Contains("bogus", e.Message);
        Assert.Contains("qcow2", e.Message);
        o.GetString("bogus");
        o.ThrowOnUnused("qcow2");
        // Asking for an absent key is fine, and fallbacks are returned.
        var empty = CreateOptions.Empty;
        Assert.Equal("d", empty.GetString("x", "d"));
        Assert.Equal(5, empty.GetInt("x", 5));
        Assert.Equal(7, empty.GetSize("x", 7));
        Assert.True(empty.GetBool("x", true));
        Assert.Equal("zlib", empty.GetChoice("x", "zlib", "zlib", "zstd"));
        empty.ThrowOnUnused("raw");
    }

    [Theory]
    [InlineData("on", true)]
    [InlineData("ON", true)]
    [InlineData("true", true)]
    [InlineData("yes", true)]
    [InlineData("1", true)]
    [InlineData("off", false)]
    [InlineData("False", false)]
    [InlineData("no", false)]
    [InlineData("0", false)]
    public void BooleansAcceptTheUsualSpellings(string text, bool expected)
        => Assert.Equal(expected, CreateOptions.Parse($"flag={text}").GetBool("flag", !expected));

    [Theory]
    [InlineData("2")]
    [InlineData("")]
    [InlineData("enabled")]
    public void BadBooleansAreRejected(string text)
        => Assert.Throws<BadArgumentException>(() => CreateOptions.Parse($"flag={text}").GetBool("flag", false));

    [Fact]
    public void SizesIntegersAndChoicesAreValidated()
    {
        var o = CreateOptions.Parse("size=1.5G,n=42,bad=12q,neg=-1,big=99999999999,c=ZSTD");
        Assert.Equal(1610612736, o.GetSize("size", 0));
        Assert.Equal(42, o.GetInt("n", 0));
        Assert.Throws<BadArgumentException>(() => o.GetSize("bad", 0));
        Assert.Throws<BadArgumentException>(() => o.GetSize("neg", 0));
        Assert.Throws<BadArgumentException>(() => o.GetInt("big", 0));
        Assert.Throws<BadArgumentException>(() => o.GetInt("bad", 0));
        Assert.Equal("zstd", o.GetChoice("c", "zlib", "zlib", "zstd"));
        var e = Assert.Throws<BadArgumentException>(() => o.GetChoice("n", "a", "a", "b"));
        Assert.Contains("a, b", e.Message);
    }

    [Fact]
    public void SetOverridesParsedValues()
    {
        var o = CreateOptions.Parse("compression_type=zlib");
        o.Set("compression_type", "zstd");
        Assert.Equal("zstd", o.GetString("compression_type"));
        o.Set("new", "v");
        Assert.True(o.Contains("new"));
    }
}
