using System.Security.Cryptography;
using Discemu.Block;
using Discemu.Operations;

namespace Discemu.Tests.Operations;

public sealed class MultiHasherTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(1 << 20)]
    [InlineData(3 * (1 << 20) + 17)]
    public void MatchesOneShotHashesForAnyFeedPattern(int length)
    {
        var data = new byte[length];
        new Random(length).NextBytes(data);
        using var hasher = new MultiHasher(HashAlgorithmName.MD5, HashAlgorithmName.SHA1, HashAlgorithmName.SHA256, HashAlgorithmName.SHA512);
        int pos = 0, step = 1;
        while (pos < length)
        {
            int n = Math.Min(step, length - pos);
            hasher.Append(data.AsSpan(pos, n));
            pos += n;
            step = step * 7 % 300_000 + 1;
        }
        var r = hasher.Finish();
        Assert.Equal(MD5.HashData(data), r[0]);
        Assert.Equal(SHA1.HashData(data), r[1]);
        Assert.Equal(SHA256.HashData(data), r[2]);
        Assert.Equal(SHA512.HashData(data), r[3]);
        Assert.Equal(length, hasher.BytesHashed);
        Assert.Throws<InvalidOperationException>(() => hasher.Append([1]));
    }

    [Fact]
    public void HashesADevice()
    {
        var data = new byte[5 * (1 << 20) + 123];
        new Random(3).NextBytes(data);
        using var device = new MemoryDevice(data.Length);
        device.Write(0, data);
        long last = 0;
        var r = MultiHasher.HashDevice(device, [HashAlgorithmName.SHA256, HashAlgorithmName.MD5], (done, total) => last = done, TestContext.Current.CancellationToken);
        Assert.Equal(SHA256.HashData(data), r[0]);
        Assert.Equal(MD5.HashData(data), r[1]);
        Assert.Equal(data.Length, last);
    }

    [Fact]
    public void RefusesBadAlgorithmLists()
    {
        Assert.Throws<ArgumentException>(() => new MultiHasher());
        Assert.Throws<ArgumentException>(() => new MultiHasher(HashAlgorithmName.MD5, HashAlgorithmName.MD5));
        Assert.Throws<ArgumentException>(() => new MultiHasher(new HashAlgorithmName("CRC")));
        Assert.True(MultiHasher.TryParse("SHA-256", out var a));
        Assert.Equal(HashAlgorithmName.SHA256, a);
        Assert.Equal("sha256", MultiHasher.ShortName(a));
        Assert.False(MultiHasher.TryParse("crc32", out _));
    }
}
