using System.Runtime.ExceptionServices;
using Discemu.Block;
using Discemu.Operations;
using static Discemu.Formats.Vmdk.VmdkConstants;

namespace Discemu.Formats.Vmdk;

/// <summary>
/// Writes a new streamOptimized VMDK the way VMware's tools lay one out: header version 3 with the
/// compressed and markers flags and the grain directory "at end", the embedded descriptor, then
/// compressed grains each behind a grain marker (LBA and size), each grain table behind a grain table
/// marker once its grains are written, the grain directory behind its marker, the footer marker and
/// a copy of the header that locates the directory, and the end-of-stream marker.
/// </summary>
/// <remarks>
/// <para>Writes must come in increasing offset order (within the 1 MiB chunk being filled they may
/// rewrite). Filled chunks are compressed on every core by worker threads and written to the file in
/// order; a fixed number of chunk buffers is in flight, so memory stays flat whatever the disk size.</para>
/// <para><see cref="BlockDevice.Flush"/> (and disposing) writes the trailer, so the file is a complete
/// image after every flush; later writes continue where the data ended and the next flush writes the
/// trailer again. Reads see everything written so far.</para>
/// </remarks>
internal sealed partial class VmdkStreamWriter : DiskImage
{
    /// <summary>Grain size of new stream-optimized images: 128 sectors, as VMware and qemu write.</summary>
    public const int GrainBytes = DefaultGrainSectors * Sector;

    /// <summary>Grains per chunk (a whole number of chunks fills a grain table).</summary>
    public const int ChunkGrains = 16;

    /// <summary>Bytes per chunk.</summary>
    public const int ChunkBytes = GrainBytes * ChunkGrains;

    /// <summary>Bytes the output of one compressed grain (head, data, padding) can take.</summary>
    private static readonly int GrainSlot = (GrainMarkerHeader + VmdkCompression.Bound(GrainBytes) + Sector - 1) / Sector * Sector;

    /// <summary>How far the file is grown ahead of the data (trimmed when the trailer is written).</summary>
    private const long GrowStep = 64L << 20;

    private readonly FileDevice _file;
    private readonly long _size;
    private readonly SparseExtentHeader _header;
    private readonly VmdkDescriptor _descriptor;
    private readonly object _writeLock = new();
    private readonly object _emitLock = new();
    private readonly EmitState _state;
    private readonly bool _hasParent;
    private Chunk? _current;
    private long _minChunk;

    private VmdkStreamWriter(string path, FileDevice file, long size, SparseExtentHeader header, VmdkDescriptor descriptor)
    {
        Path = path;
        _file = file;
        _size = size;
        _header = header;
        _descriptor = descriptor;
        _hasParent = descriptor.ParentFileNameHint is not null;
        _state = new EmitState((long)header.Overhead * Sector, new uint[header.GdEntries]);
        int workers = Math.Max(1, Environment.ProcessorCount);
        _pipeline = new Pipeline(this, workers, workers * 2 + 2);
    }

    /// <summary>Creates the file (header, descriptor, and the trailer of an empty disk) and returns the writer.</summary>
    /// <exception cref="ImageAccessException">The file cannot be created.</exception>
    public static VmdkStreamWriter Create(string path, long size, string descriptorText)
    {
        var header = new SparseExtentHeader
        {
            Version = 3,
            Flags = FlagValidNewline | FlagCompressed | FlagMarkers,
            Capacity = (ulong)(size / Sector),
            GrainSectors = DefaultGrainSectors,
            DescriptorOffset = 1,
            DescriptorSectors = EmbeddedDescriptorSectors,
            GtesPerGt = DefaultGtes,
            RgdOffset = 0,
            GdOffset = GdAtEnd,
            Overhead = DefaultGrainSectors,
            CompressAlgorithm = CompressionDeflate,
        };
        var descriptor = VmdkDescriptor.FromText(descriptorText);
        var first = new byte[(1 + EmbeddedDescriptorSectors) * Sector];
        header.Write(first);
        VmdkImage.DescriptorBytes(descriptorText, EmbeddedDescriptorSectors * Sector, path).CopyTo(first, Sector);
        var file = FileDevice.Create(path, (long)header.Overhead * Sector);
        try
        {
            file.Write(0, first);
            var writer = new VmdkStreamWriter(path, file, size, header, descriptor);
            lock (writer._emitLock) writer.WriteTrailerLocked(durable: false);
            return writer;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public override ImageFormat Format => VmdkFormat.Instance;

    /// <inheritdoc/>
    public override string Path { get; }

    /// <inheritdoc/>
    public override long Length => _size;

    /// <inheritdoc/>
    public override DeviceCapabilities Capabilities => DeviceCapabilities.Write | DeviceCapabilities.FastZero | DeviceCapabilities.Status;

    /// <inheritdoc/>
    public override int? ClusterSize => GrainBytes;

    /// <inheritdoc/>
    public override string? BackingFileName => _descriptor.ParentFileNameHint;

    /// <inheritdoc/>
    public override long? ActualSize => _file.AllocatedBytes;

    /// <inheritdoc/>
    public override IReadOnlyList<KeyValuePair<string, object?>> FormatSpecific =>
    [
        new("cid", (long)_descriptor.Cid),
        new("parent-cid", (long)_descriptor.ParentCid),
        new("create-type", _descriptor.CreateType),
        new("extents", new List<object?>
        {
            new List<KeyValuePair<string, object?>>
            {
                new("compressed", true), new("virtual-size", _size), new("filename", Path), new("cluster-size", GrainBytes), new("format", "SPARSE"),
            },
        }),
    ];

    private UnsupportedFeatureException OrderError(long offset)
        => new($"A streamOptimized VMDK is written front to back: offset {offset} lies before data already compressed (chunk {_minChunk}).", Path);

    /// <inheritdoc/>
    protected override void WriteCore(long offset, ReadOnlySpan<byte> data)
    {
        lock (_writeLock)
        {
            _pipeline.ThrowIfFailed();
            while (!data.IsEmpty)
            {
                var chunk = ChunkFor(offset / ChunkBytes);
                int within = (int)(offset % ChunkBytes);
                int n = Math.Min(data.Length, ChunkBytes - within);
                data[..n].CopyTo(chunk.Input.AsSpan(within));
                chunk.Touch(within, n);
                offset += n;
                data = data[n..];
            }
        }
    }

    /// <summary>The chunk being filled for chunk number <paramref name="index"/>: the current one, or a fresh one after submitting the current.</summary>
    private Chunk ChunkFor(long index)
    {
        if (_current is { } c && c.Index == index) return c;
        if (index < _minChunk) throw OrderError(index * ChunkBytes);
        if (_current is not null) _pipeline.Submit(_current);
        _current = null;
        _minChunk = index;
        var fresh = _pipeline.TakeFree();
        fresh.Reset(index);
        _current = fresh;
        return fresh;
    }

    /// <inheritdoc/>
    protected override void WriteZeroesCore(long offset, long length, bool mayUnmap)
    {
        lock (_writeLock)
        {
            _pipeline.ThrowIfFailed();
            long end = offset + length;
            while (offset < end)
            {
                long index = offset / ChunkBytes;
                long chunkEnd = Math.Min(end, (index + 1) * ChunkBytes);
                int within = (int)(offset % ChunkBytes), n = (int)(chunkEnd - offset);
                if (_current is { } c && c.Index == index)
                {
                    c.Input.AsSpan(within, n).Clear();
                    if (_hasParent) c.Touch(within, n);
                }
                else if (index < _minChunk) throw OrderError(offset);
                else if (_hasParent) ChunkFor(index).Touch(within, n); // zeros over the parent must be stored
                // Without a parent a chunk not started yet reads as zeros already: nothing to store.
                offset = chunkEnd;
            }
        }
    }

    /// <inheritdoc/>
    protected override void FlushCore()
    {
        lock (_writeLock)
        {
            _pipeline.Drain();
            lock (_emitLock) WriteTrailerLocked(durable: true);
        }
    }

    /// <summary>
    /// Writes the trailer after the data emitted so far: the chunk being filled (provisionally: it is
    /// written again when it is complete), the last grain table, the grain directory, the footer and
    /// the end-of-stream marker; the file ends there. Caller holds both locks, with the pipeline drained.
    /// </summary>
    private void WriteTrailerLocked(bool durable)
    {
        var s = _state.Clone();
        if (_current is { Dirty: true } c)
        {
            Compress(c);
            EmitInto(s, c);
        }
        WriteGrainTable(s);
        long gdSectors = (s.Gd.LongLength * 4 + Sector - 1) / Sector;
        var gd = new byte[(1 + gdSectors) * Sector];
        VmdkMarker.WriteMetadata(gd, (ulong)gdSectors, MarkerGrainDirectory);
        for (long i = 0; i < s.Gd.LongLength; i++) System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(gd.AsSpan((int)(Sector + i * 4)), s.Gd[i]);
        long gdSector = s.FilePos / Sector + 1;
        WriteAt(s.FilePos, gd);
        s.FilePos += gd.Length;
        var tail = new byte[3 * Sector];
        VmdkMarker.WriteMetadata(tail, 1, MarkerFooter);
        (_header with { GdOffset = (ulong)gdSector }).Write(tail.AsSpan(Sector));
        // The end-of-stream marker is an all-zero sector.
        WriteAt(s.FilePos, tail);
        s.FilePos += tail.Length;
        if (_file.Length != s.FilePos) _file.Resize(s.FilePos);
        if (durable) _file.Flush();
    }

    /// <summary>Writes to the file, growing it ahead of the data in large steps.</summary>
    private void WriteAt(long offset, ReadOnlySpan<byte> data)
    {
        long end = offset + data.Length;
        if (end > _file.Length) _file.Resize(Math.Max(end, _file.Length + GrowStep));
        _file.Write(offset, data);
    }

    /// <summary>Compresses every non-zero grain of <paramref name="c"/> into its output: head, zlib data, padding to a sector.</summary>
    private void Compress(Chunk c)
    {
        int outPos = 0;
        for (int i = 0; i < ChunkGrains; i++)
        {
            long grain = c.Index * ChunkGrains + i;
            c.GrainSector[i] = -1;
            if (grain * GrainBytes >= _size) continue;
            var input = c.Input.AsSpan(i * GrainBytes, GrainBytes);
            // Grains never written are not stored; zero grains neither, unless a parent would show through them.
            if ((c.Touched & (1 << i)) == 0 || (!_hasParent && SparseIO.IsZero(input))) continue;
            int length = VmdkCompression.Deflate(input, c.Output.AsSpan(outPos + GrainMarkerHeader));
            VmdkMarker.WriteGrainHead(c.Output.AsSpan(outPos), (ulong)(grain * DefaultGrainSectors), (uint)length);
            int total = (GrainMarkerHeader + length + Sector - 1) / Sector * Sector;
            c.Output.AsSpan(outPos + GrainMarkerHeader + length, total - GrainMarkerHeader - length).Clear();
            c.GrainSector[i] = outPos / Sector;
            outPos += total;
        }
        c.OutputLength = outPos;
    }

    /// <summary>Appends a compressed chunk at <paramref name="s"/>'s position and records its grains (closing the previous grain table first when the chunk starts another).</summary>
    private void EmitInto(EmitState s, Chunk c)
    {
        if (c.OutputLength == 0) return;
        long gtIndex = c.Index * ChunkGrains / DefaultGtes;
        if (gtIndex != s.GtIndex)
        {
            WriteGrainTable(s);
            s.GtIndex = gtIndex;
        }
        if ((s.FilePos + c.OutputLength) / Sector > uint.MaxValue)
            throw new UnsupportedFeatureException("The streamOptimized VMDK would pass 2 TiB of compressed data (grain offsets are 32-bit sectors).", Path);
        WriteAt(s.FilePos, c.Output.AsSpan(0, c.OutputLength));
        for (int i = 0; i < ChunkGrains; i++)
        {
            if (c.GrainSector[i] < 0) continue;
            long grain = c.Index * ChunkGrains + i;
            s.Gt[grain % DefaultGtes] = (uint)(s.FilePos / Sector + c.GrainSector[i]);
            s.GtHasEntries = true;
        }
        s.FilePos += c.OutputLength;
    }

    /// <summary>Writes the open grain table (behind its marker) when it has entries, and records it in the directory.</summary>
    private void WriteGrainTable(EmitState s)
    {
        if (s.GtIndex >= 0 && s.GtHasEntries)
        {
            var buffer = new byte[Sector + DefaultGtes * 4];
            VmdkMarker.WriteMetadata(buffer, DefaultGtes * 4 / Sector, MarkerGrainTable);
            for (int i = 0; i < DefaultGtes; i++) System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(Sector + i * 4), s.Gt[i]);
            WriteAt(s.FilePos, buffer);
            s.Gd[s.GtIndex] = (uint)(s.FilePos / Sector + 1);
            s.FilePos += buffer.Length;
        }
        Array.Clear(s.Gt);
        s.GtHasEntries = false;
    }

    /// <summary>Where emitted data ends, the open grain table and the directory.</summary>
    private sealed class EmitState(long filePos, uint[] gd)
    {
        public long FilePos = filePos;
        public long GtIndex = -1;
        public uint[] Gt = new uint[DefaultGtes];
        public bool GtHasEntries;
        public uint[] Gd = gd;

        public EmitState Clone() => new(FilePos, (uint[])Gd.Clone()) { GtIndex = GtIndex, Gt = (uint[])Gt.Clone(), GtHasEntries = GtHasEntries };
    }

    /// <summary>A chunk of <see cref="ChunkGrains"/> grains: the guest bytes and their compressed form.</summary>
    private sealed class Chunk
    {
        public readonly byte[] Input = GC.AllocateUninitializedArray<byte>(ChunkBytes);
        public readonly byte[] Output = GC.AllocateUninitializedArray<byte>(GrainSlot * ChunkGrains);
        public readonly int[] GrainSector = new int[ChunkGrains];
        public long Index;
        public long Sequence;
        public int OutputLength;
        public int Touched;

        /// <summary>True when something was written into the chunk.</summary>
        public bool Dirty => Touched != 0;

        /// <summary>Marks the grains a write of <paramref name="length"/> bytes at <paramref name="within"/> touches.</summary>
        public void Touch(int within, int length)
        {
            for (int g = within / GrainBytes; g <= (within + length - 1) / GrainBytes; g++) Touched |= 1 << g;
        }

        public void Reset(long index)
        {
            Index = index;
            Touched = 0;
            OutputLength = 0;
            Array.Clear(Input);
        }
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (!disposing) return;
        try
        {
            // The trailer completes the image; like qemu-img's default cache mode, closing does not force it to disk.
            if (!_pipeline.Failed)
            {
                lock (_writeLock)
                {
                    _pipeline.Drain();
                    lock (_emitLock) WriteTrailerLocked(durable: false);
                }
            }
        }
        finally
        {
            _pipeline.Dispose();
            _file.Dispose();
        }
    }
}
