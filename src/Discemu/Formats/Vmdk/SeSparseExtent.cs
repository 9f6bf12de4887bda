using System.Buffers.Binary;
using Discemu.Block;
using static Discemu.Formats.Vmdk.VmdkConstants;

namespace Discemu.Formats.Vmdk;

/// <summary>
/// The constant header of a seSparse extent (ESXi 6.5+ space-efficient sparse snapshots; layout as
/// described with qemu's read support in 2019): 64-bit little-endian fields, offsets and sizes in sectors.
/// Grains are 8 sectors, grain tables 64 sectors (4096 entries).
/// </summary>
internal readonly record struct SeSparseHeader
{
    /// <summary>Bytes of each header.</summary>
    public const int Size = 512;

    public ulong Capacity { get; init; }
    public ulong GrainSectors { get; init; }
    public ulong GrainTableSectors { get; init; }
    public ulong VolatileHeaderOffset { get; init; }
    public ulong GrainDirOffset { get; init; }
    public ulong GrainDirSectors { get; init; }
    public ulong GrainTablesOffset { get; init; }
    public ulong GrainTablesSectors { get; init; }
    public ulong GrainsOffset { get; init; }
    public ulong GrainsSectors { get; init; }

    /// <summary>True when the bytes start with the constant-header magic.</summary>
    public static bool HasMagic(ReadOnlySpan<byte> data) => data.Length >= 8 && BinaryPrimitives.ReadUInt64LittleEndian(data) == SeSparseConstMagic;

    /// <summary>Parses and validates the constant header.</summary>
    /// <exception cref="CorruptImageException">The magic or a field is invalid.</exception>
    /// <exception cref="UnsupportedFeatureException">The version or flags are unknown.</exception>
    public static SeSparseHeader Read(ReadOnlySpan<byte> data, string? path)
    {
        if (data.Length < Size || !HasMagic(data)) throw new CorruptImageException("Not a seSparse extent (bad magic or short header).", path);
        var fields = new ulong[26];
        for (int i = 0; i < fields.Length; i++) fields[i] = BinaryPrimitives.ReadUInt64LittleEndian(data[(i * 8)..]);
        ulong F(int index) => fields[index];
        if (F(1) != SeSparseVersion) throw new UnsupportedFeatureException($"seSparse version 0x{F(1):x} is not supported.", path);
        var h = new SeSparseHeader
        {
            Capacity = F(2),
            GrainSectors = F(3),
            GrainTableSectors = F(4),
            VolatileHeaderOffset = F(10),
            GrainDirOffset = F(16),
            GrainDirSectors = F(17),
            GrainTablesOffset = F(18),
            GrainTablesSectors = F(19),
            GrainsOffset = F(24),
            GrainsSectors = F(25),
        };
        if (F(5) != 0) throw new UnsupportedFeatureException($"seSparse flags 0x{F(5):x} are not supported.", path);
        if (h.GrainSectors != SeSparseGrainSectors) throw new CorruptImageException($"seSparse grain size {h.GrainSectors} is not 8 sectors.", path);
        if (h.GrainTableSectors != SeSparseGrainTableSectors) throw new CorruptImageException($"seSparse grain table size {h.GrainTableSectors} is not 64 sectors.", path);
        const ulong limit = (ulong)(MaxVirtualBytes / Sector);
        foreach (ulong v in (ReadOnlySpan<ulong>)[h.Capacity, h.VolatileHeaderOffset, h.GrainDirOffset, h.GrainDirSectors, h.GrainTablesOffset, h.GrainTablesSectors, h.GrainsOffset, h.GrainsSectors])
            if (v > limit) throw new CorruptImageException("A seSparse header field is out of range.", path);
        return h;
    }
}

/// <summary>
/// A seSparse extent, read-only. Directory entries: 0 = no table, else 0x1000000000000000 | table index.
/// Table entries (the top nibble is the type): 0 = unallocated (the parent shows through), 1 = unmapped
/// and 2 = zero (both read as zeros), 3 = allocated, with the grain index split over bits 0-47 (high part)
/// and 48-59 (low 12 bits).
/// </summary>
internal sealed class SeSparseExtent : VmdkExtent
{
    private const ulong GdAllocatedTag = 0x1000000000000000, GdTagMask = 0xFFFFFFFF00000000;
    private const int GtEntries = 4096;
    private const long GrainBytesConst = 8 * Sector;

    private readonly object _lock = new();
    private readonly FileDevice _file;
    private readonly SeSparseHeader _header;
    private readonly ulong[] _gd;
    private readonly Dictionary<long, ulong[]> _gtCache = [];

    private SeSparseExtent(VmdkExtentLine line, string path, FileDevice file, SeSparseHeader header, ulong[] gd) : base(line, path)
    {
        _file = file;
        _header = header;
        _gd = gd;
    }

    /// <inheritdoc/>
    public override bool CanWrite => false;

    /// <inheritdoc/>
    public override int? GrainBytes => (int)GrainBytesConst;

    /// <summary>Opens a seSparse extent (read-only).</summary>
    /// <exception cref="CorruptImageException">A header or the directory is invalid.</exception>
    /// <exception cref="UnsupportedFeatureException">The journal needs replaying, or the version is unknown.</exception>
    public static SeSparseExtent Open(VmdkExtentLine line, string path)
    {
        var file = FileDevice.Open(path, writable: false);
        try
        {
            long fileLength = file.Length;
            var raw = new byte[SeSparseHeader.Size];
            if (fileLength < raw.Length) throw new CorruptImageException("The seSparse extent is shorter than its header.", path);
            file.Read(0, raw);
            var h = SeSparseHeader.Read(raw, path);
            if (line.Sectors > (long)h.Capacity) throw new CorruptImageException($"The extent line gives {line.Sectors} sectors but the seSparse capacity is {h.Capacity}.", path);
            long volatileAt = (long)h.VolatileHeaderOffset * Sector;
            if (volatileAt > fileLength - SeSparseHeader.Size) throw new CorruptImageException("The seSparse volatile header lies outside the file.", path);
            file.Read(volatileAt, raw);
            if (BinaryPrimitives.ReadUInt64LittleEndian(raw) != SeSparseVolatileMagic) throw new CorruptImageException("Bad seSparse volatile header magic.", path);
            if (BinaryPrimitives.ReadUInt64LittleEndian(raw.AsSpan(24)) != 0)
                throw new UnsupportedFeatureException("The seSparse journal must be replayed (by ESXi) before the disk can be read.", path);
            long entries = (long)h.GrainDirSectors * Sector / 8;
            long needed = ((long)h.Capacity + GtEntries * 8L - 1) / (GtEntries * 8L);
            if (entries < needed) throw new CorruptImageException("The seSparse grain directory is too small for the capacity.", path);
            entries = needed;
            long offset = (long)h.GrainDirOffset * Sector;
            if (entries * 8 > fileLength || offset > fileLength - entries * 8) throw new CorruptImageException("The seSparse grain directory lies outside the file.", path);
            var gdRaw = new byte[entries * 8];
            file.Read(offset, gdRaw);
            var gd = new ulong[entries];
            for (long i = 0; i < entries; i++) gd[i] = BinaryPrimitives.ReadUInt64LittleEndian(gdRaw.AsSpan((int)(i * 8)));
            return new SeSparseExtent(line, path, file, h, gd);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private ulong[]? GetGtLocked(long gdIndex)
    {
        if (gdIndex >= _gd.Length) return null;
        ulong e = _gd[gdIndex];
        if (e == 0) return null;
        if ((e & GdTagMask) != GdAllocatedTag) throw new CorruptImageException($"seSparse grain directory entry {gdIndex} (0x{e:x}) is invalid.", Path);
        if (_gtCache.TryGetValue(gdIndex, out var table)) return table;
        ulong index = e & 0xFFFFFFFF;
        if ((index + 1) * SeSparseGrainTableSectors > _header.GrainTablesSectors)
            throw new CorruptImageException($"seSparse grain table {index} lies outside the grain table area.", Path);
        long offset = (long)(_header.GrainTablesOffset + index * SeSparseGrainTableSectors) * Sector;
        if (offset > _file.Length - GtEntries * 8L) throw new CorruptImageException($"seSparse grain table {index} lies outside the file.", Path);
        var raw = new byte[GtEntries * 8];
        _file.Read(offset, raw);
        table = new ulong[GtEntries];
        for (int i = 0; i < GtEntries; i++) table[i] = BinaryPrimitives.ReadUInt64LittleEndian(raw.AsSpan(i * 8));
        if (_gtCache.Count >= 512) _gtCache.Clear();
        _gtCache[gdIndex] = table;
        return table;
    }

    /// <summary>Decodes a grain table entry into a run kind and (for allocated grains) the grain's file offset.</summary>
    private (ExtentRunKind Kind, long Host) Decode(ulong e, long grain)
    {
        switch (e >> 60)
        {
            case 0 when e == 0: return (ExtentRunKind.Unallocated, -1);
            case 1:
            case 2:
                return (ExtentRunKind.Zero, -1);
            case 3:
                ulong index = ((e & 0x0FFF000000000000) >> 48) | ((e & 0x0000FFFFFFFFFFFF) << 12);
                if (index >= _header.GrainsSectors / SeSparseGrainSectors)
                    throw new CorruptImageException($"seSparse grain {grain} points past the grain area.", Path);
                return (ExtentRunKind.Data, (long)(_header.GrainsOffset + index * SeSparseGrainSectors) * Sector);
            default:
                throw new CorruptImageException($"seSparse grain table entry 0x{e:x} for grain {grain} is invalid.", Path);
        }
    }

    /// <inheritdoc/>
    public override ExtentRun Map(long offset, long maxLength, bool mergeCompressed)
    {
        const long coverage = GrainBytesConst * GtEntries;
        long pos = offset, end = offset + maxLength;
        var kind = ExtentRunKind.Unallocated;
        long host = -1;
        lock (_lock)
        {
            while (pos < end)
            {
                var table = GetGtLocked(pos / coverage);
                long grain = pos / GrainBytesConst;
                var (k, h) = table is null ? (ExtentRunKind.Unallocated, -1L) : Decode(table[grain % GtEntries], grain);
                if (h >= 0) h += pos % GrainBytesConst;
                long stepEnd = table is null ? Math.Min(end, (pos / coverage + 1) * coverage) : Math.Min(end, (grain + 1) * GrainBytesConst);
                if (pos == offset) { kind = k; host = h; }
                else if (k != kind || (k == ExtentRunKind.Data && h != host + (pos - offset))) break;
                pos = stepEnd;
            }
        }
        return new ExtentRun(kind, pos - offset, host);
    }

    /// <inheritdoc/>
    public override void ReadHost(long hostOffset, Span<byte> dest) => VmdkIO.ReadClamped(_file, hostOffset, dest);

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing) _file.Dispose();
    }
}
