using System.Buffers.Binary;
using Discemu.Block;
using static Discemu.Formats.Vhdx.VhdxConstants;

namespace Discemu.Formats.Vhdx;

public sealed partial class VhdxFormat
{
    /// <inheritdoc/>
    public override bool CanCreate => true;

    /// <inheritdoc/>
    public override IReadOnlyList<CreateOptionInfo> CreateOptions =>
    [
        new("subformat", "dynamic|fixed", "Dynamic (blocks allocated on write, default) or fixed (every block allocated up front)."),
        new("block_size", "size", "Block size, a power of two from 1M to 256M; 0 picks one from the disk size (default)."),
        new("log_size", "size", "Log size, a multiple of 1M (default 1M)."),
        new("block_state_zero", "on|off", "Mark the blocks of a new dynamic image ZERO rather than NOT_PRESENT (default on, as qemu-img)."),
        new("logical_sector_size", "512|4096", "Sector size the virtual disk exposes (default 512, or the parent's)."),
        new("physical_sector_size", "512|4096", "Physical sector size the virtual disk reports (default: the logical sector size)."),
        new("preallocation", "off|falloc|full", "Host space for a fixed image: sparse (default), allocated, or written with zeros."),
        new("backing_file", "string", "Parent image: the new image is a differencing disk (same as -b)."),
        new("backing_fmt", "string", "Parent image format (same as -F)."),
    ];

    /// <summary>The validated creation parameters.</summary>
    private sealed record Parameters(bool Fixed, long BlockSize, long LogSize, bool BlockStateZero, int LogicalSectorSize, int PhysicalSectorSize, string Preallocation, string? Backing, string? BackingFormat)
    {
        public static Parameters Parse(CreateOptions o, string? backingFile, string? backingFormat)
        {
            string sub = o.GetChoice("subformat", "dynamic", "dynamic", "fixed");
            long blockSize = o.GetSize("block_size", 0);
            long logSize = o.GetSize("log_size", MiB);
            bool zero = o.GetBool("block_state_zero", true);
            int logical = o.GetInt("logical_sector_size", 0);
            int physical = o.GetInt("physical_sector_size", 0);
            string prealloc = o.GetChoice("preallocation", "off", "off", "falloc", "full");
            string? backing = backingFile ?? o.GetString("backing_file");
            string? backingFmt = backingFormat ?? o.GetString("backing_fmt");
            if (backing is { Length: 0 }) backing = null;
            if (blockSize != 0 && (blockSize < MinBlockSize || blockSize > MaxBlockSize || (blockSize & (blockSize - 1)) != 0))
                throw new BadArgumentException($"Block size must be a power of two from 1M to 256M, got {blockSize}.");
            if (logSize < MiB || logSize % MiB != 0 || logSize > MaxLogLength)
                throw new BadArgumentException($"Log size must be a multiple of 1M from 1M to 256M, got {logSize}.");
            if (logical is not (0 or 512 or 4096)) throw new BadArgumentException($"logical_sector_size must be 512 or 4096, got {logical}.");
            if (physical is not (0 or 512 or 4096)) throw new BadArgumentException($"physical_sector_size must be 512 or 4096, got {physical}.");
            if (prealloc != "off" && sub != "fixed") throw new BadArgumentException("preallocation needs subformat=fixed.");
            if (backing is not null && sub == "fixed") throw new BadArgumentException("A differencing image cannot be fixed.");
            return new Parameters(sub == "fixed", blockSize, logSize, zero, logical, physical, prealloc, backing, backingFmt);
        }
    }

    /// <summary>The block size qemu-img picks when none is given.</summary>
    internal static long AutoBlockSize(long size) => size > 32L * 1024 * 1024 * MiB ? 64 * MiB : size > 100L * 1024 * MiB ? 32 * MiB : size > 1024 * MiB ? 16 * MiB : 8 * MiB;

    /// <inheritdoc/>
    /// <exception cref="ImageAccessException">The file (or the parent, when the size or sector size comes from it) cannot be opened.</exception>
    public override DiskImage Create(ImageCreateRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var o = request.Options;
        var p = Parameters.Parse(o, request.BackingFile, request.BackingFormat);
        long size = request.Size;
        if (o.Contains("size")) size = o.GetSize("size", size);
        o.ThrowOnUnused(Name);

        VhdxParentLocator? locator = null;
        int logical = p.LogicalSectorSize;
        if (p.Backing is not null)
        {
            var parent = DescribeParent(request.Path, p.Backing, p.BackingFormat, request.Opener);
            if (size <= 0 && !o.Contains("size")) size = parent.Length;
            if (parent.LogicalSectorSize is { } parentLogical)
            {
                if (logical != 0 && logical != parentLogical)
                    throw new BadArgumentException($"The parent has {parentLogical}-byte logical sectors; a differencing image must have the same.");
                logical = parentLogical;
            }
            locator = VhdxImage.BuildLocator(request.Path, p.Backing, parent.DataWriteGuid);
        }
        if (logical == 0) logical = 512;
        int physical = p.PhysicalSectorSize != 0 ? p.PhysicalSectorSize : logical;
        if (size < 0) throw new BadArgumentException("The image size must be given (or come from a backing file).");
        if (size > MaxVirtualSize) throw new BadArgumentException("Image size too large; max of 64TB.");
        if (size % logical != 0) throw new BadArgumentException($"The image size must be a multiple of the logical sector size ({logical} bytes).");
        long blockSize = p.BlockSize != 0 ? p.BlockSize : AutoBlockSize(size);

        WriteNewImage(request.Path, size, blockSize, logical, physical, p, locator);
        var image = VhdxImage.Open(new ImageOpenRequest(request.Path, true, request.Opener)
        {
            ChainPaths = new HashSet<string>([System.IO.Path.GetFullPath(request.Path)], StringComparer.Ordinal),
        });
        return image;
    }

    /// <summary>What a new differencing image needs to know of its parent.</summary>
    private sealed record ParentFacts(long Length, int? LogicalSectorSize, Guid DataWriteGuid);

    private static ParentFacts DescribeParent(string childPath, string backing, string? backingFormat, ImageOpener opener)
    {
        string resolved = DiskImage.ResolveRelative(childPath, backing);
        using var parent = opener.Open(resolved, new ImageOpenOptions { Format = backingFormat, OpenBacking = false });
        if (parent is VhdxImage vhdx) return new ParentFacts(parent.Length, vhdx.LogicalSectorSize, vhdx.Header.DataWriteGuid);
        return new ParentFacts(parent.Length, null, Guid.NewGuid());
    }

    /// <summary>
    /// Writes a new image: header section, log, metadata region, BAT, then (fixed) the blocks. The headers
    /// go last, so a process killed during creation leaves a file that is not yet an image.
    /// </summary>
    private static void WriteNewImage(string path, long size, long blockSize, int logical, int physical, Parameters p, VhdxParentLocator? locator)
    {
        bool diff = locator is not null;
        var layout = new VhdxLayout(blockSize, logical, size);
        long entries = layout.EntriesFor(diff);
        long logOffset = HeaderSectionSize;
        long metadataOffset = logOffset + p.LogSize;
        long batOffset = metadataOffset + MiB;
        long batLength = Math.Max(MiB, AlignUp(entries * 8, MiB));
        if (batLength > MaxBatBytes) throw new BadArgumentException($"The BAT would be {batLength} bytes; use a larger block size.");
        long dataStart = batOffset + batLength;
        long fileLength = p.Fixed ? checked(dataStart + layout.PayloadBlocks * blockSize) : dataStart;

        var regions = VhdxRegionTable.Create(
        [
            new VhdxRegion(BatRegion, batOffset, batLength, true),
            new VhdxRegion(MetadataRegion, metadataOffset, MiB, true),
        ]).ToBytes();
        var metadata = VhdxMetadata.Create((uint)blockSize, p.Fixed, size, Guid.NewGuid(), logical, physical, locator).ToBytes(MiB);

        using var file = FileDevice.Create(path, fileLength);
        file.Write(RegionTable1Offset, regions);
        file.Write(RegionTable2Offset, regions);
        file.Write(metadataOffset, metadata);
        WriteInitialBat(file, layout, batOffset, entries, p, dataStart, diff);
        if (p.Fixed && p.Preallocation != "off") Preallocate(file, dataStart, fileLength - dataStart, p.Preallocation);

        var identifier = new byte[CreatorOffset + CreatorLength];
        BinaryPrimitives.WriteUInt64LittleEndian(identifier, FileSignature);
        System.Text.Encoding.Unicode.GetBytes(Creator).CopyTo(identifier, CreatorOffset);
        file.Write(0, identifier);
        var header = new VhdxHeader
        {
            SequenceNumber = 1,
            FileWriteGuid = Guid.NewGuid(),
            DataWriteGuid = Guid.NewGuid(),
            LogGuid = Guid.Empty,
            LogVersion = 0,
            Version = 1,
            LogLength = (uint)p.LogSize,
            LogOffset = logOffset,
        };
        var buffer = new byte[HeaderSize];
        header.Write(buffer);
        file.Write(Header1Offset, buffer);
        (header with { SequenceNumber = 2 }).Write(buffer);
        file.Write(Header2Offset, buffer);
        file.Flush();
    }

    private static string Creator => $"Discemu {typeof(VhdxFormat).Assembly.GetName().Version?.ToString(3) ?? "1.0.0"}";

    /// <summary>Writes the BAT entries that are not zero: ZERO blocks of a dynamic image, or the blocks of a fixed one.</summary>
    private static void WriteInitialBat(FileDevice file, VhdxLayout layout, long batOffset, long entries, Parameters p, long dataStart, bool diff)
    {
        if (!p.Fixed && (!p.BlockStateZero || diff)) return;
        var chunk = new byte[Math.Min(AlignUp(entries * 8, LogSectorSize), 4 * MiB)];
        long index = 0;
        while (index < entries)
        {
            int n = (int)Math.Min(chunk.Length / 8, entries - index);
            Array.Clear(chunk);
            for (int i = 0; i < n; i++)
            {
                long e = index + i;
                long chunkIndex = e / (layout.ChunkRatio + 1);
                long inChunk = e % (layout.ChunkRatio + 1);
                if (inChunk == layout.ChunkRatio) continue; // sector bitmap entry
                long block = chunkIndex * layout.ChunkRatio + inChunk;
                if (block >= layout.PayloadBlocks) continue;
                ulong entry = p.Fixed ? VhdxLayout.Entry(PayloadFullyPresent, dataStart + block * layout.BlockSize) : VhdxLayout.Entry(PayloadZero, 0);
                BinaryPrimitives.WriteUInt64LittleEndian(chunk.AsSpan(i * 8), entry);
            }
            file.Write(batOffset + index * 8, chunk.AsSpan(0, (int)AlignUp(n * 8L, 8)));
            index += n;
        }
    }

    private static void Preallocate(FileDevice file, long offset, long length, string mode)
    {
        if (mode == "falloc" && Util.LinuxNative.Allocate(file.Handle, offset, length)) return;
        var zeros = new byte[4 * MiB];
        for (long done = 0; done < length;)
        {
            int n = (int)Math.Min(zeros.Length, length - done);
            file.Write(offset + done, zeros.AsSpan(0, n));
            done += n;
        }
    }
}
