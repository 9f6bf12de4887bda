using Discemu.Block;
using static Discemu.Formats.Vhd.VhdConstants;

namespace Discemu.Formats.Vhd;

public sealed partial class VhdFormat
{
    /// <inheritdoc/>
    public override bool CanCreate => true;

    /// <inheritdoc/>
    public override IReadOnlyList<CreateOptionInfo> CreateOptions =>
    [
        new("subformat", "dynamic|fixed", "Dynamic (sparse, default) or fixed (the disk then the footer). A backing file makes a differencing disk."),
        new("force_size", "on|off", "on (default): the disk is exactly the size asked; off: rounded up to a whole CHS geometry, as qemu-img does by default."),
        new("azure", "on|off", "Fixed disk for Azure: the size is rounded up to a whole MiB."),
        new("preallocation", "off|falloc|full", "Fixed disks: allocate the file's space up front (default off: sparse)."),
        new("backing_file", "string", "Parent of a differencing disk (same as -b)."),
        new("backing_fmt", "string", "Accepted for compatibility; VHD does not record the parent's format."),
    ];

    /// <inheritdoc/>
    /// <exception cref="ImageAccessException">The file cannot be created, or the parent cannot be opened.</exception>
    public override DiskImage Create(ImageCreateRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var o = request.Options;
        string? subformat = o.GetString("subformat");
        bool forceSize = o.GetBool("force_size", true);
        bool azure = o.GetBool("azure", false);
        string prealloc = o.GetChoice("preallocation", "off", "off", "falloc", "full");
        string? backing = request.BackingFile ?? o.GetString("backing_file");
        _ = request.BackingFormat ?? o.GetString("backing_fmt");
        long size = request.Size;
        if (o.Contains("size")) size = o.GetSize("size", size);
        o.ThrowOnUnused(Name);

        if (subformat is not null and not ("dynamic" or "fixed"))
            throw new BadArgumentException($"Invalid subformat '{subformat}': expected dynamic or fixed.");
        if (backing is { Length: 0 }) backing = null;
        bool isFixed = subformat == "fixed" || (subformat is null && azure);
        if (azure)
        {
            if (!isFixed) throw new BadArgumentException("azure=on needs subformat=fixed (Azure takes fixed VHDs only).");
            if (!forceSize) throw new BadArgumentException("azure=on keeps the exact size: force_size=off cannot be used with it.");
        }
        if (backing is not null && isFixed) throw new BadArgumentException("A fixed VHD cannot have a backing file: differencing disks are dynamic.");
        if (!isFixed && prealloc != "off") throw new BadArgumentException("Preallocation is only possible for fixed VHDs.");
        if (size < 0 && backing is not null)
        {
            using var parent = request.Opener.Open(DiskImage.ResolveRelative(request.Path, backing), new ImageOpenOptions { Format = request.BackingFormat, OpenBacking = false });
            size = parent.Length;
        }
        if (size < 0) throw new BadArgumentException("The image size must be given (or come from a backing file).");
        if (azure) size = checked((size + (1 << 20) - 1) & ~((1L << 20) - 1));
        VhdGeometry geometry;
        if (forceSize)
        {
            size = checked((size + SectorSize - 1) / SectorSize * SectorSize);
            geometry = VhdGeometry.ForSectors(size / SectorSize);
        }
        else (geometry, size) = VhdGeometry.RoundUpToGeometry(size);
        if (size > MaxVirtualSize) throw new BadArgumentException("The image size is too large for file format 'vpc' (at most 2040 GiB).");

        var footer = new VhdFooter
        {
            Features = FeatureReserved,
            FormatVersion = Version1,
            DataOffset = isFixed ? NoOffset : FooterSize,
            TimeStamp = Now(),
            CreatorApplication = CreatorQemuExact,
            CreatorVersion = DiscemuCreatorVersion,
            CreatorHostOs = HostWindows,
            OriginalSize = size,
            CurrentSize = size,
            Geometry = geometry,
            DiskType = isFixed ? DiskTypeFixed : backing is null ? DiskTypeDynamic : DiskTypeDifferencing,
            UniqueId = Guid.NewGuid(),
        };
        return isFixed ? CreateFixed(request.Path, footer, prealloc) : CreateSparse(request, footer, backing);
    }

    private static VhdFixedImage CreateFixed(string path, VhdFooter footer, string prealloc)
    {
        long size = footer.CurrentSize;
        var file = FileDevice.Create(path, size + FooterSize);
        try
        {
            if (prealloc == "falloc" && size > 0 && !Util.LinuxNative.Allocate(file.Handle, 0, size)) prealloc = "full";
            if (prealloc == "full")
            {
                var zeros = new byte[1 << 20];
                for (long pos = 0; pos < size; pos += zeros.Length) file.Write(pos, zeros.AsSpan(0, (int)Math.Min(zeros.Length, size - pos)));
            }
            file.Write(size, footer.ToBytes());
            return new VhdFixedImage(path, file, true, footer);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Lays out a dynamic or differencing disk: footer copy, dynamic header, block allocation table (all
    /// unallocated), the parent locators' data, then the footer. The copy at offset 0 is written last, so an
    /// interrupted create never leaves a file that looks like a VHD.
    /// </summary>
    private static VhdSparseImage CreateSparse(ImageCreateRequest request, VhdFooter footer, string? backing)
    {
        string path = request.Path;
        long entries = (footer.CurrentSize + DefaultBlockSize - 1) / DefaultBlockSize;
        long tableOffset = FooterSize + DynamicHeaderSize;
        var table = new byte[(entries * 4 + SectorSize - 1) / SectorSize * SectorSize];
        table.AsSpan().Fill(0xFF);
        long end = tableOffset + table.Length;
        var locators = new VhdParentLocator[LocatorCount];
        var locatorData = new List<(long Offset, byte[] Data)>();
        var header = new VhdDynamicHeader
        {
            NextOffset = NoOffset,
            TableOffset = tableOffset,
            HeaderVersion = Version1,
            MaxTableEntries = (uint)entries,
            BlockSize = DefaultBlockSize,
            ParentName = "",
            Locators = locators,
        };
        if (backing is not null)
        {
            var (id, stamp) = VhdSparseImage.ParentIdentity(DiskImage.ResolveRelative(path, backing));
            var data = VhdSparseImage.LocatorData(path, backing);
            for (int i = 0; i < data.Count; i++)
            {
                var area = new byte[(data[i].Data.Length + SectorSize - 1) / SectorSize * SectorSize];
                data[i].Data.CopyTo(area, 0);
                locators[i] = new VhdParentLocator(data[i].Code, (uint)area.Length, (uint)data[i].Data.Length, end);
                locatorData.Add((end, area));
                end += area.Length;
            }
            header = header with { ParentUniqueId = id, ParentTimeStamp = stamp, ParentName = VhdSparseImage.StoredParentName(backing) };
        }
        var footerBytes = footer.ToBytes();
        using (var file = FileDevice.Create(path, end + FooterSize))
        {
            file.Write(tableOffset, table);
            foreach (var (offset, data) in locatorData) file.Write(offset, data);
            file.Write(FooterSize, header.ToBytes());
            file.Write(end, footerBytes);
            file.Write(0, footerBytes);
        }
        return (VhdSparseImage)Instance.Open(new ImageOpenRequest(path, true, request.Opener)
        {
            ChainPaths = new HashSet<string>([System.IO.Path.GetFullPath(path)], StringComparer.Ordinal),
        });
    }
}
