using System.Buffers.Binary;
using Discemu.Block;
using Discemu.Formats;
using Discemu.Formats.Dmg;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Formats.Dmg;

/// <summary>
/// Random access, concurrency, block status, checksums and refusals of the DMG driver. (The conformance suite
/// needs writable devices, so a read-only format gets these targeted tests instead.)
/// </summary>
public sealed class DmgReadTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private (byte[] Disk, string Path) Build(DmgBuilder builder, int seed = 1)
    {
        var disk = DmgTestData.Disk(seed);
        string path = _dir.File($"t{seed}-{Guid.NewGuid():N}.dmg");
        File.WriteAllBytes(path, builder.Build(disk));
        return (disk, path);
    }

    private static readonly ChunkCodec[] Rotation = [ChunkCodec.Zlib, ChunkCodec.Raw, ChunkCodec.Adc, ChunkCodec.Lzfse, ChunkCodec.Bzip2, ChunkCodec.Lzma];

    [Fact]
    public void RandomReadsAtAnyOffsetMatchTheSource()
    {
        var (disk, path) = Build(new DmgBuilder { Codec = i => Rotation[i % Rotation.Length], ChunkSectors = 256, Partitions = DmgTestData.TwoPartitions });
        using var image = DmgRead.Open(path);
        var rng = new Random(7);
        var buffer = new byte[300_000];
        for (int i = 0; i < 400; i++)
        {
            int len = rng.Next(0, 2) == 0 ? rng.Next(1, 600) : rng.Next(1, buffer.Length);
            long off = rng.NextInt64(0, image.Length - len + 1);
            image.Read(off, buffer.AsSpan(0, len));
            Assert.True(disk.AsSpan((int)off, len).SequenceEqual(buffer.AsSpan(0, len)), $"read {off}+{len}");
        }
        // The first and last bytes, and every chunk boundary crossed by a small read.
        for (long b = 0; b <= image.Length; b += 256 * 512)
        {
            long off = Math.Clamp(b - 3, 0, image.Length - 7);
            image.Read(off, buffer.AsSpan(0, 7));
            Assert.True(disk.AsSpan((int)off, 7).SequenceEqual(buffer.AsSpan(0, 7)), $"boundary read at {off}");
        }
        Assert.InRange(((DmgImage)image).Cache.Count, 1, (int)(DmgImage.CacheBytes / (256 * 512)));
    }

    [Fact]
    public void ConcurrentReadersGetTheRightBytes()
    {
        var (disk, path) = Build(new DmgBuilder { Codec = i => Rotation[i % Rotation.Length], ChunkSectors = 128 }, 2);
        using var image = DmgRead.Open(path);
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, t =>
        {
            var rng = new Random(t);
            var buffer = new byte[200_000];
            for (int i = 0; i < 150; i++)
            {
                int len = rng.Next(1, buffer.Length);
                long off = rng.NextInt64(0, image.Length - len + 1);
                image.Read(off, buffer.AsSpan(0, len));
                if (!disk.AsSpan((int)off, len).SequenceEqual(buffer.AsSpan(0, len))) failures.Add($"thread {t}: {off}+{len}");
            }
        });
        Assert.Empty(failures);
    }

    [Fact]
    public void StatusReportsZeroIgnoreRawAndCompressedChunks()
    {
        var codecs = new[] { ChunkCodec.Raw, ChunkCodec.Zlib };
        var (disk, path) = Build(new DmgBuilder { Codec = i => codecs[i % 2], IgnoreForZeros = true });
        using var image = DmgRead.Open(path);
        const long chunk = 2048 * 512;
        var raw = image.GetStatus(0, image.Length);
        Assert.Equal(BlockStatusFlags.Data | BlockStatusFlags.Allocated, raw.Flags);
        Assert.Equal(chunk, raw.Length);
        Assert.True(raw.HostOffset >= 0);
        var fromFile = new byte[100];
        using (var fs = File.OpenRead(path)) { fs.Position = raw.HostOffset + 1000; fs.ReadExactly(fromFile); }
        Assert.True(disk.AsSpan(1000, 100).SequenceEqual(fromFile), "a raw chunk's host offset points at its bytes");
        var mid = image.GetStatus(1000, 10);
        Assert.Equal(raw.HostOffset + 1000, mid.HostOffset);
        var compressed = image.GetStatus(chunk, image.Length - chunk);
        Assert.Equal(BlockStatusFlags.Data | BlockStatusFlags.Allocated | BlockStatusFlags.Compressed, compressed.Flags);
        Assert.Equal(-1, compressed.HostOffset);
        var ignore = image.GetStatus(2 * chunk, image.Length - 2 * chunk);
        Assert.True(ignore.IsZero);
        Assert.False(ignore.IsAllocated);
        Assert.Equal(chunk, ignore.Length);

        var (_, zeroPath) = Build(new DmgBuilder { Codec = _ => ChunkCodec.Zlib }, 3);
        using var zeroImage = DmgRead.Open(zeroPath);
        var zero = zeroImage.GetStatus(2 * chunk, 1);
        Assert.Equal(BlockStatusFlags.Zero | BlockStatusFlags.Allocated, zero.Flags);
        // Consecutive compressed chunks are one run.
        Assert.Equal(2 * chunk, zeroImage.GetStatus(0, zeroImage.Length).Length);
    }

    [Fact]
    public void OpeningForWritingAndCreatingAreRefusedAsUnsupported()
    {
        var (_, path) = Build(new DmgBuilder(), 4);
        var e = Assert.Throws<UnsupportedFeatureException>(() => ImageOpener.Default.Open(path, new ImageOpenOptions { Writable = true }));
        Assert.Contains("read-only", e.Message);
        var c = Assert.Throws<UnsupportedFeatureException>(() => DmgFormat.Instance.Create(new ImageCreateRequest(_dir.File("new.dmg"), 1 << 20, CreateOptions.Parse([]), ImageOpener.Default)));
        Assert.Contains("read-only", c.Message);
        Assert.False(File.Exists(_dir.File("new.dmg")));
        using var image = DmgRead.Open(path);
        Assert.False(image.CanWrite);
        Assert.Throws<NotSupportedException>(() => image.Write(0, new byte[1]));
    }

    [Fact]
    public void CheckReportsADamagedChunkAndEveryChecksumMismatch()
    {
        var builder = new DmgBuilder { Codec = _ => ChunkCodec.Raw };
        var (_, path) = Build(builder, 5);
        var bytes = File.ReadAllBytes(path);
        bytes[100] ^= 0xFF; // inside the first raw chunk: the partition, master and data fork CRCs now disagree
        File.WriteAllBytes(path, bytes);
        using (var image = DmgRead.Open(path))
        {
            var result = ((ICheckableImage)image).Check(CheckRepair.None);
            Assert.Equal(2, result.Corruptions);
            Assert.Contains(result.Messages, m => m.Contains("partition") && m.Contains("CRC-32"));
            Assert.Contains(result.Messages, m => m.Contains("data fork"));
            Assert.Equal(2, result.ExitCode);
        }

        var (_, zpath) = Build(new DmgBuilder { Codec = _ => ChunkCodec.Zlib, DataForkChecksum = false }, 6);
        bytes = File.ReadAllBytes(zpath);
        bytes[40] ^= 0x55; // inside the first zlib stream
        File.WriteAllBytes(zpath, bytes);
        using (var image = DmgRead.Open(zpath))
        {
            var result = ((ICheckableImage)image).Check(CheckRepair.None);
            Assert.True(result.Corruptions >= 1);
            Assert.Contains(result.Messages, m => m.Contains("zlib"));
            Assert.Throws<CorruptImageException>(() => image.Read(0, new byte[4096]));
        }

        // The master checksum alone.
        var (_, mpath) = Build(new DmgBuilder { Codec = _ => ChunkCodec.Zlib }, 7);
        bytes = File.ReadAllBytes(mpath);
        bytes[bytes.Length - 512 + 360] ^= 1;
        File.WriteAllBytes(mpath, bytes);
        using (var image = DmgRead.Open(mpath))
        {
            var result = ((ICheckableImage)image).Check(CheckRepair.None);
            Assert.Equal(1, result.Corruptions);
            Assert.Contains(result.Messages, m => m.Contains("master checksum"));
        }
    }

    [Fact]
    public void StubImageWithoutMetadataIsItsDataFork()
    {
        var disk = DmgTestData.Disk(8);
        var koly = new byte[512];
        "koly"u8.CopyTo(koly);
        BinaryPrimitives.WriteUInt32BigEndian(koly.AsSpan(4), 4);
        BinaryPrimitives.WriteUInt32BigEndian(koly.AsSpan(8), 512);
        BinaryPrimitives.WriteUInt64BigEndian(koly.AsSpan(32), (ulong)disk.Length);
        BinaryPrimitives.WriteUInt64BigEndian(koly.AsSpan(492), (ulong)(disk.Length / 512));
        string path = _dir.File("stub.dmg");
        File.WriteAllBytes(path, [.. disk, .. koly]);
        using var image = DmgRead.Open(path);
        DmgRead.AssertSame(disk, DmgRead.All(image), "stub");
    }

    [Theory]
    [InlineData("encrcdsa", true)]
    [InlineData("cdsaencr", false)]
    public void EncryptedImagesAreDetectedAndRefused(string magic, bool atStart)
    {
        var bytes = new byte[8192];
        new Random(1).NextBytes(bytes);
        var m = System.Text.Encoding.ASCII.GetBytes(magic);
        m.CopyTo(bytes, atStart ? 0 : bytes.Length - m.Length);
        string path = _dir.File("enc.dmg");
        File.WriteAllBytes(path, bytes);
        Assert.Equal("dmg", ImageOpener.Default.Detect(path).Name);
        var e = Assert.Throws<UnsupportedFeatureException>(() => ImageOpener.Default.Open(path));
        Assert.Contains("Encrypted", e.Message);
    }
}
