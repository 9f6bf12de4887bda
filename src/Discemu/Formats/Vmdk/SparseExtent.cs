using System.Buffers;
using System.Buffers.Binary;
using Discemu.Block;
using static Discemu.Formats.Vmdk.VmdkConstants;

namespace Discemu.Formats.Vmdk;

/// <summary>
/// A hosted sparse extent ("KDMV", versions 1 to 3): a grain directory of grain tables of 32-bit
/// sector offsets, an optional redundant directory, zeroed-grain entries (version 2), and compressed
/// grains with or without markers (stream-optimized, with the directory found through the footer
/// when the header says GD_AT_END). Writes allocate grains at the end of the file and update both
/// the grain table and its redundant copy.
/// </summary>
/// <remarks>
/// Metadata (directory, cached grain tables, the allocation point) is guarded by one lock; grain data
/// is read and written outside it. Grains being allocated are marked in flight so writers of the same
/// grain wait for each other.
/// </remarks>
internal sealed partial class SparseExtent : VmdkExtent
{
    /// <summary>Bytes of grain tables kept in memory per extent.</summary>
    private const long GtCacheBudget = 16L << 20;

    private readonly object _lock = new();
    private readonly FileDevice _file;
    private readonly bool _writable;
    private readonly uint[] _gd;
    private readonly uint[]? _rgd;
    private readonly Dictionary<long, uint[]> _gtCache = [];
    private readonly int _gtCacheCapacity;
    private readonly long _grainBytes;
    private readonly long _capacityBytes;

    private SparseExtent(VmdkExtentLine line, string path, FileDevice file, bool writable, SparseExtentHeader header, uint[] gd, uint[]? rgd, long fileLength)
        : base(line, path)
    {
        _file = file;
        _writable = writable;
        Header = header;
        _gd = gd;
        _rgd = rgd;
        _grainBytes = header.GrainBytes;
        _capacityBytes = (long)header.Capacity * Sector;
        _gtCacheCapacity = (int)Math.Max(16, GtCacheBudget / Math.Max(header.GtBytes, 1));
        _nextFree = Math.Max((long)header.Overhead * Sector, AlignSector(fileLength));
    }

    /// <summary>The header in use (the footer's copy for stream-optimized images with the directory at the end).</summary>
    public SparseExtentHeader Header { get; }

    /// <summary>The extent file.</summary>
    public FileDevice File => _file;

    /// <summary>The embedded descriptor, when the header points at one.</summary>
    public VmdkDescriptor? EmbeddedDescriptor { get; private init; }

    /// <summary>True when the header at offset 0 says GD_AT_END and the footer was used.</summary>
    public bool UsedFooter { get; private init; }

    /// <inheritdoc/>
    public override bool CanWrite => _writable;

    /// <inheritdoc/>
    public override int? GrainBytes => (int)_grainBytes;

    /// <inheritdoc/>
    public override bool IsCompressed => Header.Compressed;

    /// <summary>True when the header's unclean-shutdown flag is set.</summary>
    public bool Dirty => Header.UncleanShutdown;

    private static long AlignSector(long n) => (n + Sector - 1) / Sector * Sector;

    /// <summary>Opens a sparse extent file.</summary>
    /// <param name="line">The descriptor line (null: the file is opened on its own; its size comes from the header).</param>
    /// <param name="path">The file.</param>
    /// <param name="writable">Open for writing.</param>
    /// <exception cref="CorruptImageException">The header, directory or footer is invalid.</exception>
    /// <exception cref="UnsupportedFeatureException">The extent cannot be written (version 3 or compressed) but writing was asked for.</exception>
    public static SparseExtent Open(VmdkExtentLine? line, string path, bool writable)
    {
        var file = FileDevice.Open(path, writable);
        try
        {
            return Load(line, path, file, writable);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static SparseExtent Load(VmdkExtentLine? line, string path, FileDevice file, bool writable)
    {
        long fileLength = file.Length;
        var first = new byte[SparseExtentHeader.Size];
        if (fileLength < first.Length) throw new CorruptImageException("The VMDK sparse extent is shorter than its header.", path);
        file.Read(0, first);
        var header = SparseExtentHeader.Read(first, path);
        VmdkDescriptor? descriptor = null;
        // Extents of a multi-extent disk may reserve descriptor space they leave empty (qemu-img does);
        // only a file opened on its own is described by its embedded descriptor.
        if (line is null && header.DescriptorOffset != 0) descriptor = ReadEmbeddedDescriptor(file, header, fileLength, path);
        bool usedFooter = false;
        if (header.GdOffset == GdAtEnd)
        {
            header = ReadFooter(file, header, fileLength, path);
            usedFooter = true;
        }
        if (writable)
        {
            if (header.Compressed || header.HasMarkers)
                throw new UnsupportedFeatureException("Compressed (streamOptimized) VMDK extents are read-only: convert to another subformat to modify the disk.", path);
            if (header.Version == 3)
                throw new UnsupportedFeatureException("VMDK version 3 sparse extents (changed block tracking) can only be opened read-only.", path);
        }
        long capacityBytes = checked((long)header.Capacity * Sector);
        line ??= new VmdkExtentLine(VmdkAccess.ReadWrite, (long)header.Capacity, "SPARSE", System.IO.Path.GetFileName(path), 0);
        if (line.Bytes > capacityBytes)
            throw new CorruptImageException($"The extent line gives {line.Sectors} sectors but the sparse header's capacity is {header.Capacity}.", path);
        if (header.GdOffset == 0) throw new CorruptImageException("The VMDK sparse extent has no grain directory.", path);
        var gd = ReadDirectory(file, header, (long)header.GdOffset, fileLength, "grain directory", path);
        uint[]? rgd = null;
        if (header.HasRedundantGd && header.RgdOffset != 0 && header.RgdOffset != GdAtEnd)
        {
            try { rgd = ReadDirectory(file, header, (long)header.RgdOffset, fileLength, "redundant grain directory", path); }
            catch (CorruptImageException) when (!writable) { rgd = null; }
        }
        else if (writable && header.HasRedundantGd)
            throw new CorruptImageException("The VMDK header announces a redundant grain directory but gives no offset.", path);
        return new SparseExtent(line, path, file, writable, header, gd, rgd, fileLength)
        {
            EmbeddedDescriptor = descriptor,
            UsedFooter = usedFooter,
        };
    }

    private static VmdkDescriptor? ReadEmbeddedDescriptor(FileDevice file, SparseExtentHeader header, long fileLength, string path)
    {
        long offset = checked((long)header.DescriptorOffset * Sector);
        long length = checked((long)header.DescriptorSectors * Sector);
        if (offset >= fileLength) throw new CorruptImageException("The embedded VMDK descriptor lies outside the file.", path);
        var buffer = new byte[Math.Min(length, fileLength - offset)];
        file.Read(offset, buffer);
        if (buffer.AsSpan().IndexOfAnyExcept((byte)0, (byte)' ', (byte)'\n') < 0) return null;
        return VmdkDescriptor.Parse(buffer, path);
    }

    /// <summary>Reads the footer a stream-optimized extent ends with: footer marker, header copy, end-of-stream marker.</summary>
    private static SparseExtentHeader ReadFooter(FileDevice file, SparseExtentHeader header, long fileLength, string path)
    {
        const int trailer = 3 * Sector;
        if (fileLength < SparseExtentHeader.Size + trailer)
            throw new CorruptImageException("The stream-optimized VMDK is too short to hold its footer (truncated?).", path);
        var tail = new byte[trailer];
        file.Read(fileLength - trailer, tail);
        var footerMarker = VmdkMarker.Read(tail, path);
        var eos = VmdkMarker.Read(tail.AsSpan(2 * Sector), path);
        if (footerMarker.IsGrain || footerMarker.Type != MarkerFooter || eos.IsGrain || eos.Type != MarkerEndOfStream || eos.Value != 0)
            throw new CorruptImageException("The stream-optimized VMDK does not end with a footer and an end-of-stream marker (truncated?).", path);
        var footer = SparseExtentHeader.Read(tail.AsSpan(Sector, Sector), path);
        if (footer.GdOffset == GdAtEnd) throw new CorruptImageException("The stream-optimized VMDK footer does not locate the grain directory.", path);
        if (footer.Capacity != header.Capacity || footer.GrainSectors != header.GrainSectors || footer.GtesPerGt != header.GtesPerGt)
            throw new CorruptImageException("The stream-optimized VMDK footer does not match its header.", path);
        return footer;
    }

    private static uint[] ReadDirectory(FileDevice file, SparseExtentHeader header, long sector, long fileLength, string what, string path)
    {
        long entries = header.GdEntries;
        long offset = sector * Sector;
        if (entries * 4 > fileLength || offset > fileLength - entries * 4)
            throw new CorruptImageException($"The {what} ({entries} entries at sector {sector}) lies outside the file.", path);
        var raw = new byte[entries * 4];
        file.Read(offset, raw);
        var gd = new uint[entries];
        for (long i = 0; i < entries; i++) gd[i] = BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan((int)(i * 4)));
        return gd;
    }

    /// <summary>The grain table of directory entry <paramref name="gdIndex"/>, or null when the directory has none. Caller holds the lock.</summary>
    private uint[]? GetGtLocked(long gdIndex)
    {
        if (gdIndex >= _gd.Length) return null;
        uint sector = _gd[gdIndex];
        if (sector == 0) return null;
        if (_gtCache.TryGetValue(gdIndex, out var table)) return table;
        table = ReadGt(sector, gdIndex);
        if (_gtCache.Count >= _gtCacheCapacity) _gtCache.Clear();
        _gtCache[gdIndex] = table;
        return table;
    }

    private uint[] ReadGt(uint sector, long gdIndex)
    {
        long offset = (long)sector * Sector;
        int entries = (int)Header.GtesPerGt;
        if (offset > _file.Length - entries * 4L)
            throw new CorruptImageException($"Grain table {gdIndex} (sector {sector}) lies outside the file.", Path);
        var raw = ArrayPool<byte>.Shared.Rent(entries * 4);
        try
        {
            _file.Read(offset, raw.AsSpan(0, entries * 4));
            var table = new uint[entries];
            for (int i = 0; i < entries; i++) table[i] = BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(i * 4));
            return table;
        }
        finally { ArrayPool<byte>.Shared.Return(raw); }
    }

    /// <summary>The grain table entry of grain <paramref name="grain"/> (0 when it has no table). Caller holds the lock.</summary>
    private uint EntryLocked(long grain)
    {
        long gtes = Header.GtesPerGt;
        var table = GetGtLocked(grain / gtes);
        return table is null ? 0 : table[grain % gtes];
    }

    /// <inheritdoc/>
    public override ExtentRun Map(long offset, long maxLength, bool mergeCompressed)
    {
        lock (_lock) return MapLocked(offset, maxLength, mergeCompressed);
    }

    private ExtentRun MapLocked(long offset, long maxLength, bool mergeCompressed)
    {
        long gb = _grainBytes, gtes = Header.GtesPerGt, coverage = Header.GtCoverage;
        long pos = offset, end = offset + maxLength;
        var kind = ExtentRunKind.Unallocated;
        long host = -1;
        bool first = true;
        while (pos < end)
        {
            long gdIndex = pos / coverage;
            var table = GetGtLocked(gdIndex);
            if (table is null)
            {
                if (!Accept(ExtentRunKind.Unallocated, -1)) break;
                pos = Math.Min(end, (gdIndex + 1) * coverage);
                continue;
            }
            long tableEnd = Math.Min(end, (gdIndex + 1) * coverage);
            while (pos < tableEnd)
            {
                long grain = pos / gb;
                uint e = table[grain % gtes];
                long grainEnd = Math.Min(tableEnd, (grain + 1) * gb);
                ExtentRunKind k;
                long h = -1;
                if (e == 0) k = ExtentRunKind.Unallocated;
                else if (e == ZeroedGrainEntry && Header.ZeroedGrains) k = ExtentRunKind.Zero;
                else if (Header.Compressed) { k = ExtentRunKind.Compressed; h = (long)e * Sector; }
                else { k = ExtentRunKind.Data; h = (long)e * Sector + pos % gb; }
                if (!Accept(k, h)) goto done;
                pos = grainEnd;
            }
        }
    done:
        return new ExtentRun(kind, pos - offset, host);

        bool Accept(ExtentRunKind k, long h)
        {
            if (first)
            {
                first = false;
                kind = k;
                host = h;
                return true;
            }
            if (k != kind) return false;
            if (k == ExtentRunKind.Data && h != host + (pos - offset)) return false;
            if (k == ExtentRunKind.Compressed && !mergeCompressed) return false;
            return true;
        }
    }

    /// <inheritdoc/>
    public override void ReadHost(long hostOffset, Span<byte> dest) => VmdkIO.ReadClamped(_file, hostOffset, dest);

    [ThreadStatic] private static byte[]? t_grain;
    [ThreadStatic] private static object? t_grainOwner;
    [ThreadStatic] private static long t_grainIndex;

    /// <inheritdoc/>
    public override void ReadCompressed(long offset, Span<byte> dest)
    {
        long grain = offset / _grainBytes;
        int within = (int)(offset % _grainBytes);
        var buffer = DecompressGrain(grain);
        buffer.AsSpan(within, dest.Length).CopyTo(dest);
    }

    /// <summary>Inflates grain <paramref name="grain"/> into a per-thread buffer (reused while the same grain is read).</summary>
    private byte[] DecompressGrain(long grain)
    {
        int gb = (int)_grainBytes;
        var cache = t_grain;
        if (cache is not null && cache.Length == gb && ReferenceEquals(t_grainOwner, this) && t_grainIndex == grain) return cache;
        if (cache is null || cache.Length != gb) t_grain = cache = new byte[gb];
        t_grainOwner = null;
        uint entry;
        lock (_lock) entry = EntryLocked(grain);
        if (entry == 0 || (entry == ZeroedGrainEntry && Header.ZeroedGrains))
        {
            Array.Clear(cache);
        }
        else
        {
            int produced = ReadCompressedGrain(_file, Header, (long)entry * Sector, grain, cache, Path);
            long needed = Math.Min(_grainBytes, _capacityBytes - grain * _grainBytes);
            if (produced < needed)
                throw new CorruptImageException($"Compressed grain {grain} inflates to {produced} bytes instead of {needed}.", Path);
            Array.Clear(cache, produced, gb - produced);
        }
        t_grainOwner = this;
        t_grainIndex = grain;
        return cache;
    }

    /// <summary>
    /// Reads and inflates the compressed grain at <paramref name="host"/>: with markers, a 12-byte head
    /// (LBA, size) precedes the data and the LBA must be the grain's; without, the zlib stream starts there.
    /// </summary>
    /// <returns>Bytes produced.</returns>
    internal static int ReadCompressedGrain(FileDevice file, SparseExtentHeader header, long host, long grain, Span<byte> dest, string? path)
    {
        long fileLength = file.Length;
        long gb = header.GrainBytes;
        int limit = VmdkCompression.Bound((int)gb) + (int)gb;
        if (host >= fileLength) throw new CorruptImageException($"Compressed grain {grain} lies outside the file.", path);
        long dataOffset = host;
        int length;
        if (header.HasMarkers)
        {
            Span<byte> head = stackalloc byte[16];
            VmdkIO.ReadClamped(file, host, head);
            var marker = VmdkMarker.Read(head, path);
            if (!marker.IsGrain) throw new CorruptImageException($"Grain {grain} points at a metadata marker, not a grain marker.", path);
            if (marker.Value != (ulong)grain * header.GrainSectors)
                throw new CorruptImageException($"The marker of grain {grain} gives LBA {marker.Value}, not {grain * (long)header.GrainSectors}.", path);
            if (marker.Size > limit) throw new CorruptImageException($"Compressed grain {grain} claims {marker.Size} bytes.", path);
            dataOffset = host + GrainMarkerHeader;
            length = (int)marker.Size;
            if (dataOffset + length > fileLength) throw new CorruptImageException($"Compressed grain {grain} runs past the end of the file.", path);
        }
        else length = (int)Math.Min(limit, fileLength - host);
        var raw = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            file.Read(dataOffset, raw.AsSpan(0, length));
            return VmdkCompression.Inflate(raw.AsSpan(0, length), dest, path);
        }
        finally { ArrayPool<byte>.Shared.Return(raw); }
    }

    /// <inheritdoc/>
    public override void Describe(List<KeyValuePair<string, object?>> facts)
    {
        if (IsCompressed) facts.Add(new("compressed", true));
    }

    /// <inheritdoc/>
    public override void Flush()
    {
        if (_writable) _file.Flush();
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing) _file.Dispose();
    }
}
