using Discemu.Block;
using Discemu.Operations;

namespace Discemu.Tests.Operations;

/// <summary>The copier's threading and zero scanning: order of writes, many small ranges, failures, cancellation, flush.</summary>
public sealed class ImageCopierPipelineTests
{
    private static byte[] All(BlockDevice dev)
    {
        var buf = new byte[dev.Length];
        dev.Read(0, buf);
        return buf;
    }

    /// <summary>A source of <paramref name="blocks"/> 512-byte blocks: random data, zeros, or zeros with one non-zero byte at a random place.</summary>
    private static byte[] MixedBlocks(int seed, int blocks)
    {
        var rng = new Random(seed);
        var data = new byte[blocks * 512];
        int i = 0;
        while (i < blocks)
        {
            int run = rng.Next(1, 24);
            int kind = rng.Next(3);
            for (int b = i; b < Math.Min(blocks, i + run); b++)
            {
                var block = data.AsSpan(b * 512, 512);
                if (kind == 0) rng.NextBytes(block);
                else if (kind == 2) block[rng.Next(512)] = (byte)rng.Next(1, 256);
            }
            i += run;
        }
        return data;
    }

    [Theory]
    [InlineData(1, 512, true)]
    [InlineData(2, 4096, true)]
    [InlineData(3, 4096, false)]
    [InlineData(4, 65536, true)]
    [InlineData(5, 8192, false)]
    public void WritesExactlyTheNonZeroBlocks(int seed, int sparse, bool targetIsZero)
    {
        var content = MixedBlocks(seed, 3000);           // ~1.5 MiB, not a multiple of the chunk
        using var source = new MemoryDevice(content);
        using var target = new RecordingDevice(new MemoryDevice(content.Length));
        var stats = ImageCopier.Copy(source, target, new CopyOptions { SparseSize = sparse, ChunkSize = 96 * 1024, TargetIsZero = targetIsZero });
        Assert.Equal(content, All(target));

        long expectedData = 0;
        for (long b = 0; b < content.Length; b += sparse)
        {
            int len = (int)Math.Min(sparse, content.Length - b);
            bool zero = content.AsSpan((int)b, len).IndexOfAnyExcept((byte)0) < 0;
            if (zero) Assert.False(target.DataOverlaps(b, len), $"zero block at {b} was written as data");
            else Assert.True(target.Written(b, len), $"data block at {b} was not written");
            if (!zero) expectedData += len;
            if (zero && !targetIsZero) Assert.True(target.Zeroed(b, len), $"zero block at {b} was not zeroed on an existing target");
        }
        Assert.Equal(expectedData, stats.BytesWritten);
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(8, false)]
    [InlineData(8, true)]
    public void ManySmallRangesAreCopiedAndWrittenInOrderByDefault(int parallel, bool outOfOrder)
    {
        // Statuses alternate every 3000 bytes, so there are many more zero ranges and windows than buffers.
        var content = MixedBlocks(11, 8000);
        using var source = new ChoppyDevice(new MemoryDevice(content), 3000);
        using var target = new RecordingDevice(new MemoryDevice(content.Length));
        ImageCopier.Copy(source, target, new CopyOptions { ParallelRequests = parallel, OutOfOrderWrites = outOfOrder, ChunkSize = 8192, TargetIsZero = false });
        Assert.Equal(content, All(target));
        if (!outOfOrder)
        {
            var offsets = target.Operations.Select(o => o.Offset).ToList();
            Assert.Equal(offsets.Order(), offsets);
        }
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void WriteFailureSurfacesAsTheOriginalException(bool outOfOrder, bool compress)
    {
        var content = MixedBlocks(12, 4000);
        using var source = new MemoryDevice(content);
        using var target = new RecordingDevice(new MemoryDevice(content.Length), failAt: 1 << 20);
        var e = Assert.Throws<IOException>(() => ImageCopier.Copy(source, target, new CopyOptions
        {
            OutOfOrderWrites = outOfOrder,
            Compress = compress,
            ChunkSize = 64 * 1024,
        }));
        Assert.Equal("disk full", e.Message);
    }

    [Fact]
    public void CancellationStopsTheCopy()
    {
        using var source = new MemoryDevice(MixedBlocks(13, 16000));
        using var target = new MemoryDevice(source.Length);
        using var cts = new CancellationTokenSource();
        Assert.ThrowsAny<OperationCanceledException>(() => ImageCopier.Copy(source, target, new CopyOptions
        {
            ChunkSize = 8192,
            Progress = (done, _) => { if (done > 0) cts.Cancel(); },
            CancellationToken = cts.Token,
        }));
    }

    [Theory]
    [InlineData(true, 1)]
    [InlineData(false, 0)]
    public void FlushTargetControlsTheFinalFlush(bool flush, int expected)
    {
        using var source = new MemoryDevice(MixedBlocks(14, 100));
        using var target = new RecordingDevice(new MemoryDevice(source.Length));
        ImageCopier.Copy(source, target, new CopyOptions { FlushTarget = flush });
        Assert.Equal(expected, target.Flushes);
    }

    /// <summary>Reports the inner device's status cut into pieces of at most <paramref name="piece"/> bytes at unaligned places.</summary>
    private sealed class ChoppyDevice(BlockDevice inner, int piece) : BlockDevice
    {
        public override long Length => inner.Length;

        public override DeviceCapabilities Capabilities => DeviceCapabilities.Status;

        protected override void ReadCore(long offset, Span<byte> buffer) => inner.Read(offset, buffer);

        protected override BlockStatus GetStatusCore(long offset, long maxLength)
        {
            long next = (offset / piece + 1) * piece;
            long length = Math.Min(maxLength, next - offset);
            // Every other piece claims to be a hole when its content is all zeros.
            var bytes = new byte[length];
            inner.Read(offset, bytes);
            bool zero = (offset / piece) % 2 == 0 && bytes.AsSpan().IndexOfAnyExcept((byte)0) < 0;
            return new BlockStatus(length, zero ? BlockStatusFlags.Zero : BlockStatusFlags.Data | BlockStatusFlags.Allocated);
        }
    }

    /// <summary>Records writes, write-zeroes and flushes; optionally fails writes at or past an offset.</summary>
    private sealed class RecordingDevice(BlockDevice inner, long failAt = long.MaxValue) : BlockDevice, Discemu.Formats.ICompressedWriter
    {
        private readonly List<(long Offset, long Length, bool Zero)> _ops = [];
        private int _flushes;

        public IReadOnlyList<(long Offset, long Length, bool Zero)> Operations { get { lock (_ops) return [.. _ops]; } }

        public int Flushes => Volatile.Read(ref _flushes);

        public int CompressedUnit => 65536;

        public override long Length => inner.Length;

        public override DeviceCapabilities Capabilities => inner.Capabilities;

        /// <summary>True when data writes cover the whole range.</summary>
        public bool Written(long offset, long length) => Covered(offset, length, zero: false);

        /// <summary>True when some data write touches the range.</summary>
        public bool DataOverlaps(long offset, long length)
        {
            lock (_ops) return _ops.Any(o => !o.Zero && o.Offset < offset + length && o.Offset + o.Length > offset);
        }

        /// <summary>True when write-zeroes cover the whole range.</summary>
        public bool Zeroed(long offset, long length) => Covered(offset, length, zero: true);

        private bool Covered(long offset, long length, bool zero)
        {
            lock (_ops)
            {
                // Walk the ranges of the kind asked for in offset order, extending the covered prefix.
                long pos = offset;
                foreach (var op in _ops.Where(o => o.Zero == zero).OrderBy(o => o.Offset))
                    if (op.Offset <= pos && op.Offset + op.Length > pos) pos = op.Offset + op.Length;
                return pos >= offset + length;
            }
        }

        public void WriteCompressed(long offset, ReadOnlySpan<byte> data) => Write(offset, data);

        protected override void ReadCore(long offset, Span<byte> buffer) => inner.Read(offset, buffer);

        protected override void WriteCore(long offset, ReadOnlySpan<byte> data)
        {
            if (offset + data.Length > failAt) throw new IOException("disk full");
            lock (_ops) _ops.Add((offset, data.Length, false));
            inner.Write(offset, data);
        }

        protected override void WriteZeroesCore(long offset, long length, bool mayUnmap)
        {
            lock (_ops) _ops.Add((offset, length, true));
            inner.WriteZeroes(offset, length, mayUnmap);
        }

        protected override void FlushCore() => Interlocked.Increment(ref _flushes);

        protected override BlockStatus GetStatusCore(long offset, long maxLength) => inner.GetStatus(offset, maxLength);
    }
}
