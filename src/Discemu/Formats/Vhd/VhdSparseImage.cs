using System.Buffers.Binary;
using Discemu.Block;
using static Discemu.Formats.Vhd.VhdConstants;

namespace Discemu.Formats.Vhd;

/// <summary>
/// An opened dynamic or differencing VHD: a block allocation table (BAT) maps each block of the virtual
/// disk to a place in the file, where a sector bitmap says which sectors this file holds. Unallocated
/// blocks and sectors read as zeros (dynamic) or from the parent (differencing).
/// </summary>
/// <remarks>
/// <para>One lock guards the metadata (BAT, bitmap cache, the end of the file); data I/O runs outside it.
/// Writers of the same block wait for each other (the block is marked busy), other blocks proceed.</para>
/// <para>Crash safety: a new block is appended where the footer was, with an empty bitmap, then the footer
/// is rewritten at the new end of the file, then the BAT entry points at the block; only then is data
/// written, and the sectors' bits are set afterwards (kept in memory, written on flush). A process killed
/// at any point leaves a readable image that shows every sector's old or new content.</para>
/// </remarks>
public sealed partial class VhdSparseImage : DiskImage, IVhdImage, IBackingChangeable, IEmptyableImage, ICheckableImage
{
    private readonly object _lock = new();
    private readonly bool _writable;
    private readonly ImageOpener _opener;
    private readonly long _headerOffset;
    private readonly int _blockSize;
    private readonly int _blockBits;
    private readonly int _bitmapSize;
    private VhdFooter _footer;
    private VhdDynamicHeader _header;
    private uint[] _bat;
    private long _size;
    private long _nextFree;
    private bool _tailDirty;
    private bool _headDirty;

    private VhdSparseImage(string path, FileDevice file, bool writable, ImageOpener opener, VhdFooter footer, long headerOffset, VhdDynamicHeader header, uint[] bat)
    {
        Path = path;
        _opener = opener;
        File = file;
        _writable = writable;
        _footer = footer;
        _headerOffset = headerOffset;
        _header = header;
        _bat = bat;
        _blockSize = header.BlockSize;
        _blockBits = System.Numerics.BitOperations.Log2((uint)_blockSize);
        _bitmapSize = header.BitmapSize;
        _size = footer.VirtualSize;
    }

    /// <summary>The host file.</summary>
    internal FileDevice File { get; }

    /// <summary>The footer that describes the disk.</summary>
    internal VhdFooter Footer { get { lock (_lock) return _footer; } }

    VhdFooter IVhdImage.Footer => Footer;

    internal VhdDynamicHeader Header { get { lock (_lock) return _header; } }

    /// <summary>True for a differencing disk (unallocated sectors come from the parent).</summary>
    private bool IsDifferencing => _footer.DiskType == DiskTypeDifferencing;

    /// <inheritdoc/>
    public override ImageFormat Format => VhdFormat.Instance;

    /// <inheritdoc/>
    public override string Path { get; }

    /// <inheritdoc/>
    public override long Length => Volatile.Read(ref _size);

    /// <inheritdoc/>
    public override DeviceCapabilities Capabilities => _writable
        ? DeviceCapabilities.Write | DeviceCapabilities.FastZero | DeviceCapabilities.Discard | DeviceCapabilities.Resize | DeviceCapabilities.Status
        : DeviceCapabilities.Status;

    /// <inheritdoc/>
    public override int? ClusterSize => _blockSize;

    /// <inheritdoc/>
    public override long? ActualSize => File.AllocatedBytes;

    /// <inheritdoc/>
    public override IReadOnlyList<KeyValuePair<string, object?>> FormatSpecific
    {
        get
        {
            VhdFooter f;
            VhdDynamicHeader h;
            lock (_lock) { f = _footer; h = _header; }
            var list = VhdImageInfo.Describe(f);
            list.Add(new("block-size", h.BlockSize));
            list.Add(new("max-table-entries", (long)h.MaxTableEntries));
            if (f.DiskType == DiskTypeDifferencing)
            {
                list.Add(new("parent-unique-id", h.ParentUniqueId.ToString()));
                list.Add(new("parent-name", h.ParentName));
                var locators = new List<object?>();
                foreach (var c in _candidates) locators.Add(new List<KeyValuePair<string, object?>> { new("source", c.Source), new("path", c.Path) });
                list.Add(new("parent-locators", locators));
            }
            return list;
        }
    }

    /// <summary>Opens the dynamic or differencing disk whose footer <paramref name="footers"/> holds.</summary>
    internal static VhdSparseImage Open(ImageOpenRequest request, FileDevice file, VhdFooterPair footers)
    {
        string path = request.Path;
        var footer = footers.Footer;
        long fileLength = file.Length;
        if (fileLength < DynamicHeaderSize || footer.DataOffset > (ulong)(fileLength - DynamicHeaderSize))
            throw new CorruptImageException($"The dynamic disk header offset 0x{footer.DataOffset:x} lies outside the file.", path);
        long headerOffset = (long)footer.DataOffset;
        var raw = new byte[DynamicHeaderSize];
        file.Read(headerOffset, raw);
        var header = VhdDynamicHeader.Read(raw, path);
        long size = footer.VirtualSize;
        if (header.MaxTableEntries > int.MaxValue / 4)
            throw new CorruptImageException($"The block allocation table of {header.MaxTableEntries} entries is larger than the format allows.", path);
        long tableBytes = header.MaxTableEntries * 4L;
        if (header.TableOffset > fileLength - tableBytes)
            throw new CorruptImageException($"The block allocation table (0x{header.TableOffset:x}, {header.MaxTableEntries} entries) lies outside the file.", path);
        if ((long)header.MaxTableEntries * header.BlockSize < size)
            throw new CorruptImageException($"The block allocation table ({header.MaxTableEntries} blocks of {header.BlockSize} bytes) is too small for the disk size {size}.", path);
        var tableRaw = new byte[tableBytes];
        file.Read(header.TableOffset, tableRaw);
        var bat = new uint[header.MaxTableEntries];
        for (int i = 0; i < bat.Length; i++) bat[i] = BinaryPrimitives.ReadUInt32BigEndian(tableRaw.AsSpan(i * 4));
        var image = new VhdSparseImage(path, file, request.Writable, request.Opener, footer, headerOffset, header, bat);
        image.Initialize(request, footers, fileLength);
        return image;
    }

    private void Initialize(ImageOpenRequest request, VhdFooterPair footers, long fileLength)
    {
        _nextFree = Math.Max(UsedEnd(fileLength), footers.TailValid ? fileLength - FooterSize : (fileLength + SectorSize - 1) / SectorSize * SectorSize);
        // A missing or differing footer at the end (a write cut short) or a damaged copy is rewritten on the next flush.
        _headDirty = !footers.Agree;
        _tailDirty = !footers.Agree || _nextFree != fileLength - FooterSize;
        if (IsDifferencing) FindParent(request);
    }

    /// <summary>One past the last byte any structure of the file uses (header, BAT, locator data, blocks inside the file).</summary>
    private long UsedEnd(long fileLength)
    {
        var h = _header;
        long end = Math.Max(FooterSize, _headerOffset + DynamicHeaderSize);
        end = Math.Max(end, h.TableOffset + RoundUp(h.MaxTableEntries * 4L));
        if (IsDifferencing)
            foreach (var l in h.Locators)
                if (l.InUse && l.DataOffset >= 0 && l.DataLength <= MaxLocatorLength && l.DataOffset + l.DataLength <= fileLength)
                    end = Math.Max(end, l.DataOffset + RoundUp(l.DataLength));
        long slot = _bitmapSize + (long)_blockSize;
        foreach (uint e in _bat)
        {
            if (e == Unallocated) continue;
            long start = e * (long)SectorSize;
            if (start + _bitmapSize <= fileLength) end = Math.Max(end, start + slot);
        }
        return end;
    }

    private static long RoundUp(long n) => (n + SectorSize - 1) / SectorSize * SectorSize;

    /// <summary>Where block <paramref name="block"/> (BAT entry <paramref name="entry"/>) starts; its bitmap must lie inside the file.</summary>
    private long BlockStart(long block, uint entry)
    {
        long start = entry * (long)SectorSize;
        if (start < FooterSize || start > File.Length - _bitmapSize)
            throw new CorruptImageException($"Block {block} of the block allocation table points at sector {entry}, outside the file.", Path);
        return start;
    }

    /// <summary>Reads host bytes (zeros past the end of the file).</summary>
    private void ReadHost(long offset, Span<byte> buffer) => VhdImageInfo.ReadHost(File, offset, buffer);

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (!disposing) return;
        try
        {
            if (_writable) lock (_lock) WriteBackMetadata();
        }
        finally
        {
            File.Dispose();
            _backing?.Dispose();
        }
    }
}
