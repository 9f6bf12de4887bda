using System.Buffers;
using Discemu.Block;

namespace Discemu.Formats.Dmg;

public sealed partial class DmgImage
{
    /// <summary>The chunk containing <paramref name="offset"/>, or the index of the first chunk after it when it falls in a gap.</summary>
    private int FindChunk(long offset)
    {
        int lo = 0, hi = _chunks.Length - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_chunks[mid].Start <= offset) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        if (found < 0) return 0;
        return offset < _chunks[found].End ? found : found + 1;
    }

    /// <inheritdoc/>
    protected override void ReadCore(long offset, Span<byte> buffer)
    {
        int i = FindChunk(offset);
        while (!buffer.IsEmpty)
        {
            if (i >= _chunks.Length || offset < _chunks[i].Start)
            {
                // Not covered by any chunk: reads as zeros.
                long gapEnd = i < _chunks.Length ? _chunks[i].Start : _length;
                int g = (int)Math.Min(buffer.Length, gapEnd - offset);
                buffer[..g].Clear();
                buffer = buffer[g..];
                offset += g;
                continue;
            }
            var c = _chunks[i];
            long within = offset - c.Start;
            int n = (int)Math.Min(buffer.Length, c.Length - within);
            var dest = buffer[..n];
            switch (c.Type)
            {
                case DmgChunkType.Zero:
                case DmgChunkType.Ignore:
                    dest.Clear();
                    break;
                case DmgChunkType.Raw:
                    _file.Read(c.DataOffset + within, dest);
                    break;
                default:
                    if (within == 0 && n == c.Length && !_cache.Contains(i)) Decompress(c, dest);
                    else _cache.Get(i, c.Length, () => DecompressNew(c)).AsSpan((int)within, n).CopyTo(dest);
                    break;
            }
            buffer = buffer[n..];
            offset += n;
            i++;
        }
    }

    private byte[] DecompressNew(DmgChunk c)
    {
        var data = new byte[c.Length];
        Decompress(c, data);
        return data;
    }

    /// <summary>Reads a compressed chunk from the file and decompresses it into <paramref name="dest"/> (its whole length).</summary>
    private void Decompress(DmgChunk c, Span<byte> dest)
    {
        byte[] stored = ArrayPool<byte>.Shared.Rent((int)c.DataLength);
        try
        {
            _file.Read(c.DataOffset, stored.AsSpan(0, (int)c.DataLength));
            DmgCodec.Decompress(c.Type, stored, (int)c.DataLength, dest, Path);
        }
        finally { ArrayPool<byte>.Shared.Return(stored); }
    }

    private static BlockStatusFlags FlagsOf(DmgChunkType type) => type switch
    {
        DmgChunkType.Zero => BlockStatusFlags.Zero | BlockStatusFlags.Allocated,
        DmgChunkType.Ignore => BlockStatusFlags.Zero,
        DmgChunkType.Raw => BlockStatusFlags.Data | BlockStatusFlags.Allocated,
        _ => BlockStatusFlags.Data | BlockStatusFlags.Allocated | BlockStatusFlags.Compressed,
    };

    /// <summary>
    /// Zero chunks read as (allocated) zeros, ignore chunks and gaps as unallocated zeros, raw chunks as data at
    /// their place in the file, compressed chunks as compressed data. Neighbouring chunks of the same kind are
    /// reported as one run.
    /// </summary>
    protected override BlockStatus GetStatusCore(long offset, long maxLength)
    {
        long end = offset + maxLength;
        int i = FindChunk(offset);
        if (i >= _chunks.Length || offset < _chunks[i].Start)
        {
            long gapEnd = i < _chunks.Length ? _chunks[i].Start : _length;
            // A gap followed by ignore chunks is one unallocated zero run.
            while (gapEnd < end && i < _chunks.Length && _chunks[i].Start == gapEnd && _chunks[i].Type == DmgChunkType.Ignore)
            {
                gapEnd = _chunks[i].End;
                i++;
                if (i < _chunks.Length && _chunks[i].Start > gapEnd) gapEnd = _chunks[i].Start;
                else if (i >= _chunks.Length) gapEnd = _length;
            }
            return new BlockStatus(Math.Min(gapEnd, end) - offset, BlockStatusFlags.Zero);
        }
        var c = _chunks[i];
        var flags = FlagsOf(c.Type);
        long runEnd = c.End;
        long host = c.Type == DmgChunkType.Raw ? c.DataOffset + (offset - c.Start) : -1;
        for (int j = i + 1; runEnd < end && j < _chunks.Length; j++)
        {
            var next = _chunks[j];
            bool joins = next.Start == runEnd && FlagsOf(next.Type) == flags
                && (next.Type != DmgChunkType.Raw || next.DataOffset == _chunks[j - 1].DataOffset + _chunks[j - 1].Length);
            if (!joins) break;
            runEnd = next.End;
        }
        return new BlockStatus(Math.Min(runEnd, end) - offset, flags, 0, host);
    }
}
