using System.Buffers.Binary;
using Discemu.Block;
using static Discemu.Formats.Vmdk.VmdkConstants;

namespace Discemu.Formats.Vmdk;

internal sealed partial class VmdkStreamWriter
{
    /// <summary>The grain table entry of an emitted grain (0: not stored). Caller holds the write lock, with the pipeline drained.</summary>
    private uint EmittedEntry(long grain)
    {
        lock (_emitLock)
        {
            long gtIndex = grain / DefaultGtes;
            if (gtIndex == _state.GtIndex) return _state.Gt[grain % DefaultGtes];
            if (gtIndex >= _state.Gd.LongLength || _state.Gd[gtIndex] == 0) return 0;
            Span<byte> entry = stackalloc byte[4];
            _file.Read((long)_state.Gd[gtIndex] * Sector + grain % DefaultGtes * 4, entry);
            return BinaryPrimitives.ReadUInt32LittleEndian(entry);
        }
    }

    /// <inheritdoc/>
    protected override void ReadCore(long offset, Span<byte> buffer)
    {
        lock (_writeLock)
        {
            _pipeline.Drain();
            var grainBuffer = new byte[GrainBytes];
            while (!buffer.IsEmpty)
            {
                long grain = offset / GrainBytes;
                int within = (int)(offset % GrainBytes);
                int n = Math.Min(buffer.Length, GrainBytes - within);
                var part = buffer[..n];
                if (_current is { } c && c.Index == grain / ChunkGrains)
                    c.Input.AsSpan((int)(offset % ChunkBytes), n).CopyTo(part);
                else if (EmittedEntry(grain) is var e && e != 0)
                {
                    int produced = SparseExtent.ReadCompressedGrain(_file, _header, (long)e * Sector, grain, grainBuffer, Path);
                    Array.Clear(grainBuffer, produced, GrainBytes - produced);
                    grainBuffer.AsSpan(within, n).CopyTo(part);
                }
                else part.Clear();
                offset += n;
                buffer = buffer[n..];
            }
        }
    }

    /// <inheritdoc/>
    protected override BlockStatus GetStatusCore(long offset, long maxLength)
    {
        lock (_writeLock)
        {
            _pipeline.Drain();
            long end = offset + maxLength;
            BlockStatusFlags? flags = null;
            long pos = offset;
            while (pos < end)
            {
                long grain = pos / GrainBytes;
                var f = _current is { } c && c.Index == grain / ChunkGrains ? BlockStatusFlags.Data | BlockStatusFlags.Allocated
                    : EmittedEntry(grain) != 0 ? BlockStatusFlags.Data | BlockStatusFlags.Allocated | BlockStatusFlags.Compressed
                    : BlockStatusFlags.None;
                if (flags is null) flags = f;
                else if (flags != f) break;
                pos = Math.Min(end, (grain + 1) * GrainBytes);
            }
            return new BlockStatus(pos - offset, flags ?? BlockStatusFlags.None);
        }
    }
}
