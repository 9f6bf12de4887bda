using Discemu.Block;
using Discemu.Operations;

namespace Discemu.Tests.Operations;

public sealed class ImageCopierTests
{
    private const int Chunk = 64 * 1024; // MemoryDevice allocation unit

    private static MemoryDevice Sparse(long length, int seed, params long[] chunkOffsets)
    {
        var dev = new MemoryDevice(length);
        var rng = new Random(seed);
        var data = new byte[Chunk];
        foreach (var off in chunkOffsets)
        {
            rng.NextBytes(data);
            dev.Write(off, data);
        }
        return dev;
    }

    private static byte[] All(BlockDevice dev)
    {
        var buf = new byte[dev.Length];
        dev.Read(0, buf);
        return buf;
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(4, false)]
    [InlineData(8, true)]
    public void CopiesSparseSourceWithoutReadingHoles(int parallel, bool outOfOrder)
    {
        using var inner = Sparse(64L << 20, 1, 0, 5 * Chunk, 6 * Chunk, 300 * Chunk, 1023 * Chunk);
        using var source = new CountingDevice(inner);
        using var target = new CountingDevice(new MemoryDevice(source.Length));
        var stats = ImageCopier.Copy(source, target, new CopyOptions { ParallelRequests = parallel, OutOfOrderWrites = outOfOrder });
        source.AssertNoHoleWasRead();
        Assert.Equal(5L * Chunk, source.BytesRead);
        Assert.Equal(5L * Chunk, stats.BytesWritten);
        Assert.Empty(target.Reads);
        Assert.Equal(All(inner), All(target));
        Assert.True(target.GetStatus(Chunk, Chunk).IsZero, "holes must not be written");
    }

    [Fact]
    public void ZeroRunsOfSparseSizeBecomeHoles()
    {
        using var source = new MemoryDevice(1L << 20);
        var data = new byte[1 << 20];
        data[10] = 1;                  // chunk 0 has data
        data[3 * Chunk + 100] = 2;     // chunk 3 has data; chunks 1, 2 and 4.. are allocated zeros
        source.Write(0, data);
        using var target = new MemoryDevice(source.Length);
        var stats = ImageCopier.Copy(source, target, new CopyOptions { SparseSize = 4096 });
        Assert.Equal(data, All(target));
        Assert.Equal(2L * 4096, stats.BytesWritten);
        Assert.Equal(2L * Chunk, target.AllocatedBytes);
        Assert.True(target.GetStatus(Chunk, 2 * Chunk).IsZero);
    }

    [Fact]
    public void SparseSizeZeroWritesEverything()
    {
        using var source = Sparse(1L << 20, 2, 2 * Chunk);
        using var target = new MemoryDevice(source.Length);
        var stats = ImageCopier.Copy(source, target, new CopyOptions { SparseSize = 0 });
        Assert.Equal(source.Length, stats.BytesWritten);
        Assert.Equal(source.Length, target.AllocatedBytes);
        Assert.Equal(All(source), All(target));
    }

    [Fact]
    public void ExistingTargetIsZeroedWhereSourceIsZero()
    {
        using var source = Sparse(1L << 20, 3, 4 * Chunk);
        using var target = Sparse(1L << 20, 4, 0, Chunk, 4 * Chunk, 15 * Chunk);
        ImageCopier.Copy(source, target, new CopyOptions { TargetIsZero = false });
        Assert.Equal(All(source), All(target));
    }

    [Fact]
    public void WithBackingOnlyDifferencesAreWritten()
    {
        using var backing = Sparse(2L << 20, 5, 0, Chunk, 2 * Chunk);
        using var source = new MemoryDevice(All(backing));
        var change = new byte[100];
        new Random(6).NextBytes(change);
        source.Write(Chunk + 5000, change);       // differs from the backing
        source.WriteZeroes(2 * Chunk, Chunk);     // zeros over backing data
        source.Write(20 * Chunk, change);         // data over a backing hole
        using var overlayStore = new MemoryDevice(source.Length);
        using var target = new OverlayDevice(backing, overlayStore, blockSize: 4096, owns: false);
        var stats = ImageCopier.Copy(source, target, new CopyOptions { TargetBacking = backing });
        Assert.Equal(All(source), All(target));
        Assert.Equal(2L * 4096, stats.BytesWritten);           // two 4 KiB blocks hold the changed bytes
        Assert.Equal(Chunk, stats.BytesZeroed);                // the zeroed chunk over backing data
        Assert.True(target.GetStatus(0, Chunk).Depth > 0, "ranges equal to the backing stay unallocated");
    }

    [Fact]
    public void ProgressReachesTotal()
    {
        using var source = Sparse(8L << 20, 7, 0, 40 * Chunk);
        using var target = new MemoryDevice(source.Length);
        long last = -1, total = 0;
        ImageCopier.Copy(source, target, new CopyOptions { Progress = (d, t) => { Assert.True(d >= 0 && d <= t); last = d; total = t; } });
        Assert.Equal(source.Length, total);
        Assert.Equal(total, last);
    }

    [Fact]
    public void CompressionNeedsACompressingTarget()
    {
        using var source = new MemoryDevice(4096);
        using var target = new MemoryDevice(4096);
        Assert.Throws<NotSupportedException>(() => ImageCopier.Copy(source, target, new CopyOptions { Compress = true }));
    }

    [Fact]
    public void CompressedCopyUsesAlignedUnitsInParallel()
    {
        using var source = Sparse(4L << 20, 8, 0, 3 * Chunk, 60 * Chunk);
        source.Write(source.Length - 10, new byte[] { 1, 2, 3 });
        using var target = new CompressingDevice(source.Length, unit: 2 * Chunk);
        ImageCopier.Copy(source, target, new CopyOptions { Compress = true });
        Assert.Equal(All(source), All(target));
        Assert.All(target.Units, u => Assert.Equal(0, u % (2 * Chunk)));
        Assert.Equal(4, target.Units.Count); // units 0, 1 (holds chunk 3), 30 (chunk 60) and the last one
    }

    [Fact]
    public void TargetSmallerThanSourceIsRejected()
    {
        using var source = new MemoryDevice(8192);
        using var target = new MemoryDevice(4096);
        Assert.Throws<BadArgumentException>(() => ImageCopier.Copy(source, target));
        Assert.Throws<BadArgumentException>(() => ImageCopier.Copy(source, new MemoryDevice(8192), new CopyOptions { SparseSize = 1000 }));
    }

    [Fact]
    public void ReadFailureSurfacesAsTheOriginalException()
    {
        using var source = new FailingDevice(new MemoryDevice(new byte[1 << 20]));
        using var target = new MemoryDevice(1 << 20);
        var e = Assert.Throws<CorruptImageException>(() => ImageCopier.Copy(source, target, new CopyOptions { ChunkSize = 4096 }));
        Assert.Equal("boom", e.Message);
    }

    /// <summary>A device storing compressed writes as plain data but recording each unit written.</summary>
    private sealed class CompressingDevice(long length, int unit) : BlockDevice, Discemu.Formats.ICompressedWriter
    {
        private readonly MemoryDevice _inner = new(length);
        private readonly List<long> _units = [];

        public List<long> Units { get { lock (_units) return [.. _units]; } }

        public int CompressedUnit => unit;

        public override long Length => _inner.Length;

        public override DeviceCapabilities Capabilities => _inner.Capabilities;

        public void WriteCompressed(long offset, ReadOnlySpan<byte> data)
        {
            Assert.Equal(0, offset % unit);
            Assert.True(data.Length == unit || offset + data.Length == Length);
            lock (_units) _units.Add(offset);
            _inner.Write(offset, data);
        }

        protected override void ReadCore(long offset, Span<byte> buffer) => _inner.Read(offset, buffer);

        protected override void WriteCore(long offset, ReadOnlySpan<byte> data) => _inner.Write(offset, data);

        protected override BlockStatus GetStatusCore(long offset, long maxLength) => _inner.GetStatus(offset, maxLength);
    }

    private sealed class FailingDevice(BlockDevice inner) : BlockDevice
    {
        public override long Length => inner.Length;

        public override DeviceCapabilities Capabilities => DeviceCapabilities.Status;

        protected override void ReadCore(long offset, Span<byte> buffer)
        {
            if (offset >= 512 * 1024) throw new CorruptImageException("boom");
            inner.Read(offset, buffer);
        }

        protected override BlockStatus GetStatusCore(long offset, long maxLength) => inner.GetStatus(offset, maxLength);
    }
}
