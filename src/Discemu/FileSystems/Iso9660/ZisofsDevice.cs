using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using Discemu.Block;

namespace Discemu.FileSystems.Iso9660;

/// <summary>
/// The uncompressed content of a zisofs file (libisofs doc/zisofs_format.txt): a 16-byte header (magic,
/// uncompressed size, header size / 4, log2 of the block size), ceil(size / block) + 1 little-endian block
/// pointers, then one zlib stream per block (a zero-length block reads as zeros). Blocks are inflated on
/// demand, each bounded to exactly its uncompressed size; the pointer table is read once (at most 512 KiB
/// for the largest file zisofs allows). Read-only and safe for concurrent reads.
/// </summary>
internal sealed class ZisofsDevice : BlockDevice
{
    public const int HeaderLength = 16;
    private static ReadOnlySpan<byte> Magic => [0x37, 0xE4, 0x53, 0x96, 0xC9, 0xDB, 0xD6, 0x07];

    private readonly BlockDevice _stored;
    private readonly bool _ownsStored;
    private readonly string? _path;
    private readonly int _blockLog;
    private readonly long _length;
    private readonly uint[] _pointers;
    private CachedBlock? _last; // the most recently inflated block, shared by sequential readers

    /// <summary>
    /// Validates the header and pointers of <paramref name="stored"/> (the file's stored bytes) against the ZF entry;
    /// with <paramref name="ownsStored"/> the device is disposed with this one.
    /// </summary>
    /// <exception cref="CorruptImageException">The header, sizes or pointers are invalid.</exception>
    /// <exception cref="UnsupportedFeatureException">The ZF entry names another algorithm than "pz".</exception>
    public ZisofsDevice(BlockDevice stored, ZisofsInfo zf, string? path, bool ownsStored = false)
    {
        _stored = stored;
        _ownsStored = ownsStored;
        _path = path;
        if (zf.Algorithm != "pz") throw new UnsupportedFeatureException($"Compression algorithm '{zf.Algorithm}' (zisofs2) is not supported.", path);
        if (zf.BlockLog2 is < 15 or > 17) throw new CorruptImageException($"A zisofs block size of 2^{zf.BlockLog2} is not 32, 64 or 128 KiB.", path);
        if (zf.HeaderSizeWords * 4 < HeaderLength) throw new CorruptImageException($"A zisofs header of {zf.HeaderSizeWords * 4} bytes is shorter than 16.", path);
        if (stored.Length < HeaderLength) throw new CorruptImageException("A zisofs file is shorter than its header.", path);
        Span<byte> header = stackalloc byte[HeaderLength];
        stored.Read(0, header);
        if (!header[..8].SequenceEqual(Magic)) throw new CorruptImageException("A file marked zisofs (ZF) lacks the zisofs header.", path);
        uint size = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
        if (size != zf.UncompressedSize || header[12] != zf.HeaderSizeWords || header[13] != zf.BlockLog2)
            throw new CorruptImageException("A zisofs header disagrees with its ZF entry.", path);
        _blockLog = zf.BlockLog2;
        _length = size;
        long blocks = (size + (1L << _blockLog) - 1) >> _blockLog;
        long tableStart = zf.HeaderSizeWords * 4L, tableBytes = (blocks + 1) * 4;
        if (tableStart + tableBytes > stored.Length) throw new CorruptImageException("A zisofs block pointer table runs past the file.", path);
        var table = new byte[tableBytes];
        stored.Read(tableStart, table);
        _pointers = new uint[blocks + 1];
        long maxBlock = 2L << _blockLog; // zlib never grows a block this much
        for (int i = 0; i < _pointers.Length; i++)
        {
            _pointers[i] = BinaryPrimitives.ReadUInt32LittleEndian(table.AsSpan(i * 4));
            if (_pointers[i] > stored.Length || (i == 0 ? _pointers[i] < tableStart + tableBytes : _pointers[i] < _pointers[i - 1]) ||
                (i > 0 && _pointers[i] - _pointers[i - 1] > maxBlock))
                throw new CorruptImageException($"zisofs block pointer {i} (0x{_pointers[i]:x}) is out of order or outside the file.", path);
        }
    }

    /// <inheritdoc/>
    public override long Length => _length;

    /// <inheritdoc/>
    public override DeviceCapabilities Capabilities => DeviceCapabilities.None;

    /// <inheritdoc/>
    protected override void ReadCore(long offset, Span<byte> buffer)
    {
        int blockSize = 1 << _blockLog;
        while (!buffer.IsEmpty)
        {
            long index = offset >> _blockLog;
            int within = (int)(offset & (blockSize - 1));
            int n = Math.Min(buffer.Length, blockSize - within);
            var block = Block(index);
            if (block is null) buffer[..n].Clear();
            else block.AsSpan(within, n).CopyTo(buffer);
            buffer = buffer[n..];
            offset += n;
        }
    }

    /// <summary>The inflated block (null for an all-zero block).</summary>
    private byte[]? Block(long index)
    {
        if (Volatile.Read(ref _last) is { } last && last.Index == index) return last.Data;
        long start = _pointers[index], length = _pointers[index + 1] - start;
        if (length == 0) return null;
        int expected = (int)Math.Min(1L << _blockLog, _length - (index << _blockLog));
        byte[] compressed = ArrayPool<byte>.Shared.Rent((int)length);
        try
        {
            _stored.Read(start, compressed.AsSpan(0, (int)length));
            var data = new byte[1 << _blockLog];
            int got = 0;
            using (var z = new ZLibStream(new MemoryStream(compressed, 0, (int)length, writable: false), CompressionMode.Decompress))
            {
                while (got < expected)
                {
                    int r = z.Read(data, got, expected - got);
                    if (r == 0) break;
                    got += r;
                }
                if (got == expected && z.Read(new byte[1], 0, 1) != 0)
                    throw new CorruptImageException($"zisofs block {index} inflates to more than {expected} bytes.", _path);
            }
            if (got != expected) throw new CorruptImageException($"zisofs block {index} inflates to {got} bytes, not {expected}.", _path);
            Volatile.Write(ref _last, new CachedBlock(index, data));
            return data;
        }
        catch (InvalidDataException e)
        {
            throw new CorruptImageException($"zisofs block {index} is not a valid zlib stream: {e.Message}", _path, e);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(compressed);
        }
    }

    private sealed record CachedBlock(long Index, byte[] Data);

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing && _ownsStored) _stored.Dispose();
    }
}
