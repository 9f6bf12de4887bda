using System.Buffers.Binary;
using Discemu.Block;
using static Discemu.Formats.Vhdx.VhdxConstants;

namespace Discemu.Formats.Vhdx;

/// <summary>
/// An opened VHDX image (fixed, dynamic or differencing; 512 or 4096-byte logical sectors). Reads and
/// writes through the BAT; metadata changes (BAT entries, sector bitmaps, metadata items, region
/// tables) go through the log; a log left by a crash is replayed on open (in memory when read-only).
/// </summary>
/// <remarks>
/// Data writes into present blocks need no lock. Allocations, writes into partially present blocks
/// and metadata commits hold the allocation lock; the in-memory BAT and sector bitmap pages are
/// guarded by the metadata lock. Readers take only the metadata lock, and only for bitmap pages.
/// </remarks>
public sealed partial class VhdxImage : DiskImage, ICheckableImage, IBackingChangeable, IEmptyableImage
{
    private readonly object _allocLock = new();
    private readonly object _metaLock = new();
    private readonly bool _writable;
    private readonly VhdxHostFile _file;
    private VhdxHeader _header;
    private int _headerSlot;
    private string? _otherHeaderProblem;
    private VhdxRegionTable _regions = null!;
    private string? _regionTableProblem;
    private VhdxRegion _batRegion;
    private VhdxRegion _metadataRegion;
    private VhdxMetadata _metadata = null!;
    private byte[] _metadataImage = [];
    private VhdxLayout _layout = null!;
    private ulong[] _bat = [];
    private long _size;
    private long _fileEnd;
    private string _logState = "clean";
    private int _replayedEntries;
    private DiskImage? _parent;
    private string? _parentName;
    private bool? _linkageMatches;
    private bool _structureOverlap;

    private VhdxImage(string path, VhdxHostFile file, bool writable)
    {
        Path = path;
        _file = file;
        _writable = writable;
    }

    /// <summary>The host file (tests reach the fault-injection hook through it).</summary>
    internal VhdxHostFile HostFile => _file;

    /// <summary>The current header.</summary>
    internal VhdxHeader Header { get { lock (_metaLock) return _header; } }

    /// <summary>The disk geometry.</summary>
    internal VhdxLayout Layout => Volatile.Read(ref _layout);

    /// <summary>The parsed metadata.</summary>
    internal VhdxMetadata Metadata => _metadata;

    /// <inheritdoc/>
    public override ImageFormat Format => VhdxFormat.Instance;

    /// <inheritdoc/>
    public override string Path { get; }

    /// <inheritdoc/>
    public override long Length => Volatile.Read(ref _size);

    /// <inheritdoc/>
    public override DeviceCapabilities Capabilities => _writable
        ? DeviceCapabilities.Write | DeviceCapabilities.FastZero | DeviceCapabilities.Discard | DeviceCapabilities.Resize | DeviceCapabilities.Status
        : DeviceCapabilities.Status;

    /// <inheritdoc/>
    public override DiskImage? Backing => _parent;

    /// <inheritdoc/>
    public override string? BackingFileName => _parentName;

    /// <inheritdoc/>
    public override int? ClusterSize => (int)Layout.BlockSize;

    /// <inheritdoc/>
    public override bool IsDirty => _logState != "clean";

    /// <inheritdoc/>
    public override long? ActualSize => _file.Device.AllocatedBytes;

    /// <summary>True when the image has a parent (a differencing image).</summary>
    public bool IsDifferencing => _metadata.HasParent;

    /// <summary>The logical sector size the virtual disk exposes (512 or 4096).</summary>
    public int LogicalSectorSize => Layout.LogicalSectorSize;

    /// <summary>The physical sector size the virtual disk reports (512 or 4096).</summary>
    public int PhysicalSectorSize => _metadata.PhysicalSectorSize;

    /// <summary>"fixed", "dynamic" or "differencing".</summary>
    public string Subformat => _metadata.HasParent ? "differencing" : _metadata.LeaveBlockAllocated ? "fixed" : "dynamic";

    /// <inheritdoc/>
    public override IReadOnlyList<KeyValuePair<string, object?>> FormatSpecific
    {
        get
        {
            var h = Header;
            var layout = Layout;
            var list = new List<KeyValuePair<string, object?>>
            {
                new("type", Subformat),
                new("block-size", layout.BlockSize),
                new("logical-sector-size", layout.LogicalSectorSize),
                new("physical-sector-size", _metadata.PhysicalSectorSize),
                new("chunk-ratio", layout.ChunkRatio),
                new("log-offset", h.LogOffset),
                new("log-size", (long)h.LogLength),
                new("log", _logState),
                new("virtual-disk-id", _metadata.VirtualDiskId.ToString("D")),
                new("data-write-guid", h.DataWriteGuid.ToString("D")),
                new("leave-blocks-allocated", _metadata.LeaveBlockAllocated),
                new("creator", Creator),
            };
            if (_replayedEntries > 0) list.Add(new("log-entries-replayed", _replayedEntries));
            if (_metadata.ParentLocator is { } locator)
            {
                list.Add(new("parent-locator", locator.Entries.Select(e => (object?)new Dictionary<string, object?> { ["key"] = e.Key, ["value"] = e.Value }).ToList()));
                if (_linkageMatches is { } m) list.Add(new("parent-linkage-matches", m));
            }
            return list;
        }
    }

    /// <summary>The creator string of the file identifier.</summary>
    public string Creator { get; private set; } = "";

    /// <summary>Opens an image for <paramref name="request"/>.</summary>
    internal static VhdxImage Open(ImageOpenRequest request)
    {
        var device = FileDevice.Open(request.Path, request.Writable);
        var file = new VhdxHostFile(device);
        var image = new VhdxImage(request.Path, file, request.Writable);
        try
        {
            image.Load(request);
            return image;
        }
        catch
        {
            image._parent?.Dispose();
            file.Dispose();
            throw;
        }
    }

    private void Load(ImageOpenRequest request)
    {
        long fileLength = _file.Length;
        var identifier = new byte[FileIdentifierSize];
        _file.Read(0, identifier);
        if (fileLength < HeaderSectionSize || BinaryPrimitives.ReadUInt64LittleEndian(identifier) != FileSignature)
            throw new CorruptImageException("Not a VHDX image (no 'vhdxfile' signature, or shorter than its header section).", Path);
        var creator = identifier.AsSpan(CreatorOffset, CreatorLength);
        Creator = System.Text.Encoding.Unicode.GetString(creator).Split('\0')[0];
        ReadHeaders(fileLength);
        ReplayLog(fileLength);
        ReadRegions();
        ReadMetadataRegion();
        LoadBat();
        if (_metadata.HasParent && request.OpenBacking) OpenParent(request);
        if (_writable && _structureOverlap)
            throw new CorruptImageException("A payload block overlaps the log, BAT or metadata region; the image can only be opened read-only.", Path);
    }

    private void ReadHeaders(long fileLength)
    {
        var buffer = new byte[HeaderSize];
        _file.Read(Header1Offset, buffer);
        bool ok1 = VhdxHeader.TryRead(buffer, out var h1, out string why1);
        _file.Read(Header2Offset, buffer);
        bool ok2 = VhdxHeader.TryRead(buffer, out var h2, out string why2);
        if (!ok1 && !ok2) throw new CorruptImageException($"Neither VHDX header is valid (header 1: {why1}; header 2: {why2}).", Path);
        _headerSlot = ok1 && (!ok2 || h1.SequenceNumber > h2.SequenceNumber) ? 0 : 1;
        _header = _headerSlot == 0 ? h1 : h2;
        if (!ok1) _otherHeaderProblem = $"header 1 is invalid ({why1})";
        else if (!ok2) _otherHeaderProblem = $"header 2 is invalid ({why2})";
        _header.Validate(fileLength, Path);
    }

    private void ReadRegions()
    {
        var buffer = new byte[RegionTableSize];
        _file.Read(RegionTable1Offset, buffer);
        bool ok1 = VhdxRegionTable.TryRead(buffer, out var t1, out string why1);
        var copy1 = (byte[])buffer.Clone();
        _file.Read(RegionTable2Offset, buffer);
        bool ok2 = VhdxRegionTable.TryRead(buffer, out var t2, out string why2);
        if (!ok1 && !ok2) throw new CorruptImageException($"Neither region table is valid (table 1: {why1}; table 2: {why2}).", Path);
        _regions = (ok1 ? t1 : t2)!;
        if (!ok1) _regionTableProblem = $"region table 1 is invalid ({why1})";
        else if (!ok2) _regionTableProblem = $"region table 2 is invalid ({why2})";
        else if (!copy1.AsSpan().SequenceEqual(buffer)) _regionTableProblem = "the two region tables differ";
        foreach (var r in _regions.Regions)
            if (r.Required && r.Id != BatRegion && r.Id != MetadataRegion)
                throw new UnsupportedFeatureException($"The image needs region {r.Id}, which Discemu does not know.", Path);
        _batRegion = _regions.Find(BatRegion) ?? throw new CorruptImageException("The region table has no BAT region.", Path);
        _metadataRegion = _regions.Find(MetadataRegion) ?? throw new CorruptImageException("The region table has no metadata region.", Path);
        long logEnd = _header.LogOffset + _header.LogLength;
        foreach (var r in _regions.Regions)
            if (_header.LogLength > 0 && r.FileOffset < logEnd && _header.LogOffset < r.End)
                throw new CorruptImageException($"Region {r.Id} overlaps the log.", Path);
        long fileLength = _file.Length;
        if (_batRegion.End > fileLength || _metadataRegion.End > fileLength)
            throw new CorruptImageException("The BAT or metadata region lies beyond the end of the file.", Path);
    }

    private void ReadMetadataRegion()
    {
        var table = new byte[MetadataTableSize];
        if (_metadataRegion.Length < MetadataTableSize) throw new CorruptImageException("The metadata region is smaller than its table.", Path);
        _file.Read(_metadataRegion.FileOffset, table);
        long used = VhdxMetadata.UsedLength(table, _metadataRegion.Length, Path);
        if (used > VhdxMetadata.MaxUsedLength) throw new UnsupportedFeatureException($"The metadata items span {used} bytes (Discemu reads at most 16 MiB).", Path);
        var image = new byte[AlignUp(used, LogSectorSize)];
        if (image.Length > _metadataRegion.Length) Array.Resize(ref image, (int)_metadataRegion.Length);
        _file.Read(_metadataRegion.FileOffset, image);
        _metadata = VhdxMetadata.Read(image, _metadataRegion.Length, Path);
        _metadataImage = image;
        _layout = new VhdxLayout(_metadata.BlockSize, _metadata.LogicalSectorSize, _metadata.VirtualSize);
        _size = _metadata.VirtualSize;
    }

    private void LoadBat()
    {
        var layout = _layout;
        long needed = layout.MinEntries;
        if (needed * 8 > _batRegion.Length)
            throw new CorruptImageException($"The BAT region ({_batRegion.Length} bytes) is too small for {needed} entries.", Path);
        long entries = Math.Min(_batRegion.Length / 8, AlignUp(Math.Max(needed, layout.FullEntries), LogSectorSize / 8));
        if (entries * 8 > MaxBatBytes) throw new UnsupportedFeatureException($"The BAT has {entries} entries (Discemu keeps at most 1 GiB of BAT in memory).", Path);
        var bat = new ulong[entries];
        var raw = new byte[Math.Min(entries * 8, 4 * MiB)];
        for (long done = 0; done < entries;)
        {
            int n = (int)Math.Min(raw.Length / 8, entries - done);
            _file.Read(_batRegion.FileOffset + done * 8, raw.AsSpan(0, n * 8));
            for (int i = 0; i < n; i++) bat[done + i] = BinaryPrimitives.ReadUInt64LittleEndian(raw.AsSpan(i * 8));
            done += n;
        }
        _bat = bat;
        ValidateBat();
        _fileEnd = AlignUp(Math.Max(_file.Length, StructuresEnd()), MiB);
    }

    /// <summary>Checks every entry the disk uses: known states, no partially present blocks outside differencing images, blocks after the header section.</summary>
    private void ValidateBat()
    {
        var layout = _layout;
        bool diff = _metadata.HasParent;
        for (long b = 0; b < layout.PayloadBlocks; b++)
        {
            ulong e = _bat[layout.PayloadIndex(b)];
            int state = VhdxLayout.State(e);
            if (state is 4 or 5) throw new CorruptImageException($"Payload block {b} has the reserved state {state}.", Path);
            if (state == PayloadPartiallyPresent && !diff)
                throw new CorruptImageException($"Payload block {b} is partially present in an image without a parent.", Path);
            if (VhdxLayout.IsPresent(state))
            {
                long offset = VhdxLayout.Offset(e);
                if (offset < HeaderSectionSize) throw new CorruptImageException($"Payload block {b} lies in the header section (offset 0x{offset:x}).", Path);
                if (OverlapsStructure(offset, layout.BlockSize)) _structureOverlap = true;
            }
        }
        if (!diff) return;
        for (long c = 0; c < layout.BitmapBlocks; c++)
        {
            long index = layout.BitmapIndex(c);
            if (index >= _bat.Length) break;
            ulong e = _bat[index];
            int state = VhdxLayout.State(e);
            if (state is not (BitmapNotPresent or BitmapPresent)) throw new CorruptImageException($"Sector bitmap block {c} has the invalid state {state}.", Path);
            if (state == BitmapPresent)
            {
                long offset = VhdxLayout.Offset(e);
                if (offset < HeaderSectionSize) throw new CorruptImageException($"Sector bitmap block {c} lies in the header section.", Path);
                if (OverlapsStructure(offset, BitmapBlockSize)) _structureOverlap = true;
            }
        }
    }

    /// <summary>True when [offset, offset+length) overlaps the log, a region or the header section.</summary>
    private bool OverlapsStructure(long offset, long length)
    {
        if (offset < HeaderSectionSize) return true;
        if (_header.LogLength > 0 && offset < _header.LogOffset + _header.LogLength && _header.LogOffset < offset + length) return true;
        foreach (var r in _regions.Regions)
            if (offset < r.End && r.FileOffset < offset + length) return true;
        return false;
    }

    /// <summary>The end of the last structure the headers and region table name (log, regions).</summary>
    private long StructuresEnd()
    {
        long end = HeaderSectionSize;
        if (_header.LogLength > 0) end = Math.Max(end, _header.LogOffset + _header.LogLength);
        foreach (var r in _regions.Regions) end = Math.Max(end, r.End);
        return end;
    }

    /// <summary>The BAT entry at <paramref name="index"/> (entries past the loaded table read as not present).</summary>
    private ulong EntryAt(ulong[] bat, long index) => index < bat.Length ? Volatile.Read(ref bat[index]) : 0;

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (!disposing) return;
        try
        {
            if (_writable && !(_file.Faults?.Crashed ?? false)) CloseForWriting();
        }
        finally
        {
            _file.Dispose();
            _parent?.Dispose();
        }
    }
}
