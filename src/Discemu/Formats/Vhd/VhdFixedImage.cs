using Discemu.Block;
using static Discemu.Formats.Vhd.VhdConstants;

namespace Discemu.Formats.Vhd;

/// <summary>
/// An opened fixed VHD: the virtual disk byte for byte at the start of the file, then the 512-byte footer.
/// Holes in the host file are reported as zeros; write-zeroes and discard punch holes.
/// </summary>
public sealed class VhdFixedImage : DiskImage, IVhdImage, ICheckableImage
{
    private readonly object _lock = new();
    private readonly bool _writable;
    private VhdFooter _footer;
    private long _size;

    internal VhdFixedImage(string path, FileDevice file, bool writable, VhdFooter footer)
    {
        Path = path;
        File = file;
        _writable = writable;
        _footer = footer;
        _size = footer.VirtualSize;
        if (writable && _size > file.Length - FooterSize)
            throw new UnsupportedFeatureException($"The disk size from the CHS geometry ({_size} bytes) is larger than the data the file holds ({file.Length - FooterSize} bytes); it can only be opened read-only.", path);
    }

    internal FileDevice File { get; }

    /// <summary>The footer that describes the disk.</summary>
    internal VhdFooter Footer { get { lock (_lock) return _footer; } }

    VhdFooter IVhdImage.Footer => Footer;

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
    public override long? ActualSize => File.AllocatedBytes;

    /// <inheritdoc/>
    public override IReadOnlyList<KeyValuePair<string, object?>> FormatSpecific => VhdImageInfo.Describe(Footer);

    /// <inheritdoc/>
    protected override void ReadCore(long offset, Span<byte> buffer) => VhdImageInfo.ReadHost(File, offset, buffer);

    /// <inheritdoc/>
    protected override void WriteCore(long offset, ReadOnlySpan<byte> data) => File.Write(offset, data);

    /// <inheritdoc/>
    protected override void WriteZeroesCore(long offset, long length, bool mayUnmap) => File.WriteZeroes(offset, length, mayUnmap);

    /// <summary>Discard punches a hole, so the range reads as zeros.</summary>
    protected override void DiscardCore(long offset, long length) => File.WriteZeroes(offset, length, mayUnmap: true);

    /// <inheritdoc/>
    protected override void FlushCore() => File.Flush();

    /// <inheritdoc/>
    protected override BlockStatus GetStatusCore(long offset, long maxLength)
    {
        long dataEnd = File.Length - FooterSize;
        if (offset >= dataEnd)
        {
            // Only a disk sized by a CHS geometry larger than the file reaches here: the footer and what
            // follows it read through, as qemu-img reads them.
            return new BlockStatus(maxLength, BlockStatusFlags.Data | BlockStatusFlags.Allocated, 0, offset);
        }
        return VhdImageInfo.HostStatus(File, offset, Math.Min(maxLength, dataEnd - offset));
    }

    /// <inheritdoc/>
    /// <exception cref="BadArgumentException">The size is not a multiple of 512 or larger than 2040 GiB.</exception>
    protected override void ResizeCore(long newLength)
    {
        if (newLength % SectorSize != 0) throw new BadArgumentException($"The size {newLength} is not a multiple of 512 bytes.", Path);
        if (newLength > MaxVirtualSize) throw new BadArgumentException("The image size is too large for file format 'vpc' (at most 2040 GiB).", Path);
        lock (_lock)
        {
            long oldLength = _size;
            if (newLength == oldLength) return;
            var footer = _footer.WithSize(newLength);
            long dataEnd = File.Length - FooterSize;
            // What the disk did not show before must read as zeros; it lay outside the disk, so clear it first.
            if (newLength > oldLength) VhdImageInfo.ZeroHost(File, oldLength, Math.Min(newLength, dataEnd) - oldLength, punch: true);
            // The new footer goes in before the file is cut or the old footer cleared: until then the old
            // footer at the end still describes a whole image.
            RandomAccess.Write(File.Handle, footer.ToBytes(), newLength);
            File.Resize(newLength + FooterSize);
            if (newLength > dataEnd) VhdImageInfo.ZeroHost(File, dataEnd, Math.Min(FooterSize, newLength - dataEnd), punch: true);
            _footer = footer;
            Volatile.Write(ref _size, newLength);
        }
    }

    /// <summary>
    /// A fixed disk has only its footer to check (qemu-img has no check for VHD): it must be intact at the end of
    /// the file, and the data before it must hold the whole disk. <see cref="CheckRepair.All"/> rewrites a damaged footer.
    /// </summary>
    /// <exception cref="NotSupportedException">A repair was asked for on an image opened read-only.</exception>
    public ImageCheckResult Check(CheckRepair repair)
    {
        if (repair != CheckRepair.None && !CanWrite) throw new NotSupportedException("Repairing needs the image opened for writing.");
        var result = new ImageCheckResult();
        lock (_lock)
        {
            long fileLength = File.Length;
            var tail = new byte[FooterSize];
            VhdImageInfo.ReadHost(File, Math.Max(0, fileLength - FooterSize), tail);
            if (!tail.AsSpan().SequenceEqual(_footer.ToBytes()))
            {
                result.Messages.Add("ERROR the footer at the end of the file is missing, damaged or differs from the one in use");
                if ((repair & CheckRepair.All) == CheckRepair.All)
                {
                    File.Write(fileLength - FooterSize, _footer.ToBytes());
                    File.Flush();
                    result.CorruptionsFixed++;
                }
                else result.Corruptions++;
            }
            if (_size > fileLength - FooterSize)
            {
                result.Messages.Add($"ERROR the disk ({_size} bytes) is larger than the data in the file ({fileLength - FooterSize} bytes)");
                result.Corruptions++;
            }
            result.ImageEndOffset = fileLength;
        }
        return result;
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing) File.Dispose();
    }
}
