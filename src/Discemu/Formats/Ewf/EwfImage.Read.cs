using System.Buffers;
using System.Buffers.Binary;
using Discemu.Block;

namespace Discemu.Formats.Ewf;

public sealed partial class EwfImage
{
    /// <summary>Media bytes in chunk <paramref name="index"/> (the last one may be short).</summary>
    private int ChunkLength(long index) => (int)Math.Min(_set.ChunkSize, _set.MediaSize - index * _set.ChunkSize);

    /// <inheritdoc/>
    protected override void ReadCore(long offset, Span<byte> buffer)
    {
        int chunkSize = _set.ChunkSize;
        while (!buffer.IsEmpty)
        {
            long index = offset / chunkSize;
            int within = (int)(offset - index * chunkSize);
            int chunkLength = ChunkLength(index);
            int n = Math.Min(buffer.Length, chunkLength - within);
            if (within == 0 && n == chunkLength)
            {
                DecodeChunk(index, buffer[..n]);
            }
            else
            {
                var data = _cache.TryGet(index);
                if (data is null)
                {
                    data = new byte[chunkLength];
                    DecodeChunk(index, data);
                    _cache.Add(index, data);
                }
                data.AsSpan(within, n).CopyTo(buffer);
            }
            buffer = buffer[n..];
            offset += n;
        }
    }

    /// <summary>Reads and decodes chunk <paramref name="index"/> into <paramref name="dest"/>.</summary>
    /// <exception cref="CorruptImageException">The chunk is damaged.</exception>
    private void DecodeChunk(long index, Span<byte> dest)
    {
        var problem = TryDecodeChunk(index, dest);
        if (problem is not null) throw new CorruptImageException($"Chunk {index}: {problem}.", _set.Paths[_set.Chunks.Get(index).Segment]);
    }

    private string? TryDecodeChunk(long index, Span<byte> dest)
    {
        var (segment, offset, stored, kind) = _set.Chunks.Get(index);
        if (kind == EwfChunkKind.Pattern)
        {
            Span<byte> pattern = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(pattern, _set.Patterns.GetValueOrDefault((int)index));
            return EwfChunkCodec.TryDecode(pattern, kind, _set.ChunkSize, dest);
        }
        byte[] buffer = ArrayPool<byte>.Shared.Rent(Math.Max(stored, 1));
        try
        {
            var file = _set.Files[segment];
            if (offset + stored > file.Length) return "its data lies past the end of the segment file";
            file.Read(offset, buffer.AsSpan(0, stored));
            return EwfChunkCodec.TryDecode(buffer.AsSpan(0, stored), kind, _set.ChunkSize, dest);
        }
        finally { ArrayPool<byte>.Shared.Return(buffer); }
    }

    /// <summary>
    /// Every byte is stored data. Compression is per chunk and not reported: there is no host offset to
    /// map a chunk to (the chunks live in several files), as with qemu's non-QCOW2 compressed formats.
    /// </summary>
    protected override BlockStatus GetStatusCore(long offset, long maxLength)
        => new(maxLength, BlockStatusFlags.Data | BlockStatusFlags.Allocated);
}
