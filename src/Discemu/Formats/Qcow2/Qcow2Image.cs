using System.Buffers.Binary;
using System.Text;
using Discemu.Block;
using static Discemu.Formats.Qcow2.Qcow2Constants;

namespace Discemu.Formats.Qcow2;

/// <summary>
/// An opened QCOW2 image (version 2 or 3): reads and writes through the L1/L2 tables, allocates
/// with refcounts, reads compressed and extended-L2 clusters, follows backing chains and lists
/// internal snapshots (listed, read, created, applied and deleted).
/// </summary>
/// <remarks>
/// Metadata (L1, cached L2 tables, refcounts) is guarded by one lock; data I/O of clusters runs
/// outside it. Guest clusters that are being allocated are marked in flight so that concurrent
/// writers of the same cluster wait for each other while other clusters proceed.
/// </remarks>
public sealed partial class Qcow2Image : DiskImage, IEditableSnapshotImage, ICompressedWriter, IBackingChangeable
{
    /// <summary>Bytes of L2 tables kept in memory (settable by tests to exercise write-back).</summary>
    internal static long L2CacheBudget { get; set; } = 32L << 20;

    private const ulong KnownIncompatible = IncompatDirty | IncompatCorrupt | IncompatExternalDataFile | IncompatCompressionType | IncompatExtendedL2;

    private readonly object _lock = new();
    private readonly bool _writable;
    private readonly Qcow2Layout _layout;
    private readonly Qcow2L2Cache _l2Cache;
    private readonly HashSet<long> _inFlight = [];
    private readonly byte[] _rawHeader;
    private readonly List<Qcow2HeaderExtension> _extensions;
    private Qcow2Header _header;
    private int _headerAreaLength;
    private string? _backingName;
    private string? _backingFormat;
    private DiskImage? _backing;
    private ulong[] _l1;
    private bool _l1Dirty;
    private long _size;
    private bool _dirtyBitSetByUs;

    private Qcow2Image(string path, FileDevice file, bool writable, Qcow2Header header, byte[] firstCluster)
    {
        Path = path;
        File = file;
        _writable = writable;
        _header = header;
        _size = header.Size;
        _layout = new Qcow2Layout(header.ClusterBits, header.ExtendedL2, header.RefcountOrder, header.Version);
        _l2Cache = new Qcow2L2Cache(header.ClusterSize, L2CacheBudget);
        _rawHeader = firstCluster.AsSpan(0, header.HeaderLength).ToArray();
        _extensions = Qcow2HeaderExtension.ReadAll(firstCluster, header, path);
        _l1 = [];
        _refTable = [];
        _snapshots = [];
    }

    /// <summary>The host file (the checker reads and repairs through it).</summary>
    internal FileDevice File { get; }

    /// <summary>The parsed header as currently written.</summary>
    internal Qcow2Header Header { get { lock (_lock) return _header; } }

    /// <summary>The geometry of the image.</summary>
    internal Qcow2Layout Layout => _layout;

    /// <inheritdoc/>
    public override ImageFormat Format => Qcow2Format.Instance;

    /// <inheritdoc/>
    public override string Path { get; }

    /// <inheritdoc/>
    public override long Length => Volatile.Read(ref _size);

    /// <inheritdoc/>
    public override DeviceCapabilities Capabilities => _writable
        ? DeviceCapabilities.Write | DeviceCapabilities.FastZero | DeviceCapabilities.Discard | DeviceCapabilities.Resize | DeviceCapabilities.Status
        : DeviceCapabilities.Status;

    /// <inheritdoc/>
    public override DiskImage? Backing => _backing;

    /// <inheritdoc/>
    public override string? BackingFileName { get { lock (_lock) return _backingName; } }

    /// <inheritdoc/>
    public override string? BackingFormatName { get { lock (_lock) return _backingFormat; } }

    /// <inheritdoc/>
    public override int? ClusterSize => _layout.ClusterSize;

    /// <inheritdoc/>
    public override bool IsDirty { get { lock (_lock) return _header.Dirty && !_dirtyBitSetByUs; } }

    /// <inheritdoc/>
    public override long? ActualSize => File.AllocatedBytes;

    /// <inheritdoc/>
    public int CompressedUnit => _layout.ClusterSize;

    /// <inheritdoc/>
    public override IReadOnlyList<KeyValuePair<string, object?>> FormatSpecific
    {
        get
        {
            var h = Header;
            var list = new List<KeyValuePair<string, object?>>
            {
                new("compat", h.Version >= 3 ? "1.1" : "0.10"),
                new("compression-type", Qcow2Compression.Name(h.CompressionType)),
            };
            if (h.Version >= 3)
            {
                list.Add(new("lazy-refcounts", h.LazyRefcounts));
                list.Add(new("refcount-bits", h.RefcountBits));
                list.Add(new("corrupt", (h.IncompatibleFeatures & IncompatCorrupt) != 0));
                list.Add(new("extended-l2", h.ExtendedL2));
            }
            else list.Add(new("refcount-bits", h.RefcountBits));
            return list;
        }
    }

    /// <summary>Opens an image for <paramref name="request"/>.</summary>
    internal static Qcow2Image Open(ImageOpenRequest request)
    {
        var file = FileDevice.Open(request.Path, request.Writable);
        Qcow2Image? image = null;
        try
        {
            image = Load(request, file);
            return image;
        }
        catch
        {
            if (image is not null) image.Dispose();
            else file.Dispose();
            throw;
        }
    }

    private static Qcow2Image Load(ImageOpenRequest request, FileDevice file)
    {
        string path = request.Path;
        long fileLength = file.Length;
        Span<byte> fixedPart = stackalloc byte[V3HeaderLength];
        int have = (int)Math.Min(fileLength, fixedPart.Length);
        file.Read(0, fixedPart[..have]);
        var header = Qcow2Header.Read(fixedPart[..have], path);
        int firstLength = (int)Math.Min(fileLength, header.ClusterSize);
        if (firstLength < header.HeaderLength) throw new CorruptImageException("The file is shorter than its header.", path);
        var firstCluster = new byte[header.ClusterSize];
        file.Read(0, firstCluster.AsSpan(0, firstLength));
        var image = new Qcow2Image(path, file, request.Writable, header, firstCluster);
        image.Initialize(request, firstCluster, fileLength);
        return image;
    }

    private void Initialize(ImageOpenRequest request, byte[] firstCluster, long fileLength)
    {
        var h = _header;
        CheckFeatures(h);
        foreach (var ext in _extensions)
        {
            switch (ext.Type)
            {
                case ExtBackingFormat:
                    _backingFormat = Encoding.UTF8.GetString(ext.Data);
                    break;
                case ExtExternalDataFile:
                    throw new UnsupportedFeatureException("QCOW2 images with an external data file are not supported yet.", Path);
                case ExtFullDiskEncryption:
                    throw new UnsupportedFeatureException("Encrypted QCOW2 images are not supported yet.", Path);
            }
        }
        _extensions.RemoveAll(e => e.Type == ExtBackingFormat);
        _headerAreaLength = h.HeaderLength + _extensions.Sum(e => e.DiskLength) + 8 + (_backingFormat is null ? 0 : 8 + ((Encoding.UTF8.GetByteCount(_backingFormat) + 7) & ~7));
        if (h.BackingFileOffset != 0)
        {
            if (h.BackingFileOffset + h.BackingFileSize > (ulong)fileLength || h.BackingFileOffset + h.BackingFileSize > (ulong)firstCluster.Length)
                throw new CorruptImageException("The backing file name lies outside the first cluster.", Path);
            _backingName = Encoding.UTF8.GetString(firstCluster, (int)h.BackingFileOffset, (int)h.BackingFileSize);
            _headerAreaLength = Math.Max(_headerAreaLength, (int)(h.BackingFileOffset + h.BackingFileSize));
        }
        if (_backingName is { Length: 0 }) _backingName = null;

        LoadL1(fileLength);
        LoadRefcountTable(fileLength);
        LoadSnapshots(fileLength);
        InitializeAllocator(fileLength);

        if (_backingName is not null && request.OpenBacking)
            _backing = request.Opener.OpenBacking(request, _backingName, _backingFormat);

        if (_writable) PrepareForWriting();
    }

    private void CheckFeatures(in Qcow2Header h)
    {
        if (h.CryptMethod != CryptNone)
            throw new UnsupportedFeatureException($"Encrypted QCOW2 images (method {(h.CryptMethod == CryptAes ? "aes" : h.CryptMethod == CryptLuks ? "luks" : h.CryptMethod.ToString())}) are not supported yet.", Path);
        ulong unknown = h.IncompatibleFeatures & ~KnownIncompatible;
        if (unknown != 0)
            throw new UnsupportedFeatureException($"Unsupported QCOW2 incompatible features: {DescribeFeatures(unknown)}.", Path);
        if ((h.IncompatibleFeatures & IncompatExternalDataFile) != 0)
            throw new UnsupportedFeatureException("QCOW2 images with an external data file are not supported yet.", Path);
        if (h.ExtendedL2 && h.ClusterBits < 14)
            throw new CorruptImageException("Extended L2 entries need clusters of at least 16 KiB.", Path);
        if ((h.IncompatibleFeatures & IncompatCorrupt) != 0 && _writable)
            throw new CorruptImageException("The image is marked corrupt; it can only be opened read-only (or repaired with check -r).", Path);
    }

    private string DescribeFeatures(ulong bits)
    {
        var names = new List<string>();
        var table = _extensions.FirstOrDefault(e => e.Type == ExtFeatureNameTable)?.Data ?? [];
        for (int bit = 0; bit < 64; bit++)
        {
            if ((bits >> bit & 1) == 0) continue;
            string? name = null;
            for (int i = 0; i + 48 <= table.Length; i += 48)
            {
                if (table[i] == 0 && table[i + 1] == bit)
                {
                    var raw = table.AsSpan(i + 2, 46);
                    int nul = raw.IndexOf((byte)0);
                    name = Encoding.UTF8.GetString(nul < 0 ? raw : raw[..nul]);
                    break;
                }
            }
            names.Add(name is null ? $"bit {bit}" : $"'{name}' (bit {bit})");
        }
        return string.Join(", ", names);
    }

    private void LoadL1(long fileLength)
    {
        var h = _header;
        long needed = _layout.L1EntriesFor(h.Size);
        if (h.L1Size < needed) throw new CorruptImageException($"The L1 table ({h.L1Size} entries) is too small for the virtual size.", Path);
        if (h.L1Size == 0) { _l1 = []; return; }
        long bytes = checked((long)h.L1Size * 8);
        if (h.L1TableOffset == 0 || h.L1TableOffset > fileLength - bytes)
            throw new CorruptImageException("The L1 table lies outside the file.", Path);
        var raw = new byte[bytes];
        File.Read(h.L1TableOffset, raw);
        _l1 = new ulong[h.L1Size];
        Qcow2Layout.DecodeWords(raw, _l1);
    }

    /// <summary>Reads an extent of the host file; bytes past its end read as zeros.</summary>
    internal void ReadHost(long offset, Span<byte> buffer)
    {
        long length = File.Length;
        if (offset >= length) { buffer.Clear(); return; }
        int n = (int)Math.Min(buffer.Length, length - offset);
        File.Read(offset, buffer[..n]);
        buffer[n..].Clear();
    }

    /// <summary>Validates an L2 table offset from an L1 entry.</summary>
    private long CheckL2Offset(long offset)
    {
        if ((offset & _layout.ClusterMask) != 0)
            throw new CorruptImageException($"L2 table offset 0x{offset:x} is not cluster-aligned.", Path);
        if (offset < _layout.ClusterSize || offset > File.Length - _layout.ClusterSize)
            throw new CorruptImageException($"L2 table offset 0x{offset:x} lies outside the file.", Path);
        return offset;
    }

    /// <summary>Loads (or finds cached) the L2 table at <paramref name="offset"/>. Caller holds the lock.</summary>
    private Qcow2L2Table GetL2(long offset)
    {
        var table = _l2Cache.TryGet(offset);
        if (table is not null) return table;
        CheckL2Offset(offset);
        var raw = System.Buffers.ArrayPool<byte>.Shared.Rent(_layout.ClusterSize);
        try
        {
            File.Read(offset, raw.AsSpan(0, _layout.ClusterSize));
            var words = new ulong[_layout.ClusterSize / 8];
            Qcow2Layout.DecodeWords(raw.AsSpan(0, _layout.ClusterSize), words);
            table = new Qcow2L2Table(offset, words);
        }
        finally { System.Buffers.ArrayPool<byte>.Shared.Return(raw); }
        AddToCache(table);
        return table;
    }

    private void AddToCache(Qcow2L2Table table)
    {
        if (_l2Cache.NeedsWriteback) WriteBackMetadata();
        _l2Cache.Add(table);
    }

    /// <summary>Drops the in-memory L2 and refcount caches so a repair can rewrite metadata on disk; reloads L1 and refcount table.</summary>
    internal void InvalidateCaches()
    {
        lock (_lock)
        {
            _l2Cache.Clear();
            _refBlocks.Clear();
            _pendingFrees.Clear();
            var raw = new byte[V3HeaderLength];
            ReadHost(0, raw);
            _header = Qcow2Header.Read(raw, Path);
            long fileLength = File.Length;
            LoadL1(fileLength);
            LoadRefcountTable(fileLength);
            InitializeAllocator(fileLength);
            _l1Dirty = false;
        }
    }

    /// <summary>Writes the header, its extensions and the backing file name into the first cluster.</summary>
    private void WriteHeaderArea()
    {
        var h = _header;
        var area = new byte[_layout.ClusterSize];
        _rawHeader.CopyTo(area, 0);
        var fixedPart = new byte[Math.Max(h.HeaderLength, V3HeaderLength)];
        h.Write(fixedPart);
        int known = h.Version >= 3 ? Math.Min(h.HeaderLength, V3MinHeaderLength + 1) : V2HeaderLength;
        fixedPart.AsSpan(0, known).CopyTo(area);
        var exts = new List<Qcow2HeaderExtension>();
        if (_backingFormat is not null) exts.Add(new Qcow2HeaderExtension(ExtBackingFormat, Encoding.UTF8.GetBytes(_backingFormat)));
        exts.AddRange(_extensions);
        int needed = h.HeaderLength + exts.Sum(e => e.DiskLength) + 8;
        byte[] name = _backingName is null ? [] : Encoding.UTF8.GetBytes(_backingName);
        if (needed + name.Length > area.Length)
            throw new BadArgumentException("The header, its extensions and the backing file name do not fit in the first cluster.", Path);
        int end = h.HeaderLength + Qcow2HeaderExtension.WriteAll(exts, area.AsSpan(h.HeaderLength));
        if (name.Length > 0)
        {
            name.CopyTo(area, end);
            h = h with { BackingFileOffset = (ulong)end, BackingFileSize = (uint)name.Length };
        }
        else h = h with { BackingFileOffset = 0, BackingFileSize = 0 };
        BinaryPrimitives.WriteUInt64BigEndian(area.AsSpan(8), h.BackingFileOffset);
        BinaryPrimitives.WriteUInt32BigEndian(area.AsSpan(16), h.BackingFileSize);
        _header = h;
        int total = end + name.Length;
        int writeLength = Math.Min(area.Length, Math.Max(total, _headerAreaLength));
        File.Write(0, area.AsSpan(0, writeLength));
        _headerAreaLength = total;
    }

    /// <summary>Sets the incompatible feature bits and writes just that header field.</summary>
    private void WriteIncompatibleFeatures(ulong bits)
    {
        _header = _header with { IncompatibleFeatures = bits };
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(b, bits);
        File.Write(72, b);
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (!disposing) return;
        try
        {
            if (_writable) CloseForWriting();
        }
        finally
        {
            File.Dispose();
            _backing?.Dispose();
        }
    }
}
