using Discemu.Block;
using static Discemu.Formats.Vmdk.VmdkConstants;

namespace Discemu.Formats.Vmdk;

public sealed partial class VmdkFormat
{
    /// <summary>
    /// Computes the bytes a new VMDK needs (qemu-img 7.2 cannot measure VMDK, so this is Discemu's own
    /// answer): sparse subformats need their metadata (header, descriptor, both grain directories and
    /// every preallocated grain table, padded to a grain) plus one grain per 64 KiB grain the source has
    /// data in (as qemu-img measure counts: by allocation status, without looking for zeros inside data) (every grain when fully allocated, or with a backing file); flat subformats need the whole
    /// disk plus the descriptor file (counted as one 4 KiB block); streamOptimized gives an upper bound (every grain stored with the
    /// worst-case size of its zlib stream), since how well the data compresses is not known in advance.
    /// </summary>
    /// <exception cref="BadArgumentException">An option is unknown or invalid, or the size is too large.</exception>
    public override MeasureResult Measure(long virtualSize, BlockDevice? source, CreateOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var p = VmdkCreateParameters.Parse(options, null, null);
        options.ThrowOnUnused(Name);
        long size = p.CheckSize(source?.Length ?? virtualSize);
        long grain = DefaultGrainSectors * Sector;
        long allGrains = (size + grain - 1) / grain;
        long dataGrains = source is null ? 0 : p.BackingFile is not null ? allGrains : CountDataGrains(source, grain);
        long sectors = size / Sector;
        long descriptorFile = DescriptorFileBytes(p, size);
        switch (p.Subformat)
        {
            case VmdkSubformat.MonolithicFlat:
            case VmdkSubformat.TwoGbMaxExtentFlat:
                return new MeasureResult(size + descriptorFile, size + descriptorFile);
            case VmdkSubformat.MonolithicSparse:
            {
                long overhead = new VmdkSparseLayout(sectors, EmbeddedDescriptorSectors, p.ZeroedGrain).OverheadSectors * Sector;
                return new MeasureResult(overhead + dataGrains * grain, overhead + allGrains * grain);
            }
            case VmdkSubformat.TwoGbMaxExtentSparse:
            {
                long overhead = descriptorFile;
                long extentSectors = SplitExtentBytes / Sector;
                for (long left = sectors; ; left -= extentSectors)
                {
                    overhead += new VmdkSparseLayout(Math.Min(left, extentSectors), 0, p.ZeroedGrain).OverheadSectors * Sector;
                    if (left <= extentSectors) break;
                }
                return new MeasureResult(overhead + dataGrains * grain, overhead + allGrains * grain);
            }
            default:
            {
                long slot = (GrainMarkerHeader + VmdkCompression.Bound((int)grain) + Sector - 1) / Sector * Sector;
                long tables = (allGrains + DefaultGtes - 1) / DefaultGtes;
                long fixedPart = DefaultGrainSectors * Sector + tables * (Sector + DefaultGtes * 4)
                    + Sector + (tables * 4 + Sector - 1) / Sector * Sector + 3 * Sector;
                return new MeasureResult(fixedPart + dataGrains * slot, fixedPart + allGrains * slot);
            }
        }
    }

    /// <summary>The size of the separate descriptor file of the subformats that have one (0 for the others).</summary>
    private static long DescriptorFileBytes(VmdkCreateParameters p, long size)
    {
        if (p.Subformat is VmdkSubformat.MonolithicSparse or VmdkSubformat.StreamOptimized) return 0;
        var lines = new List<VmdkExtentLine>();
        long extentSectors = p.Subformat is VmdkSubformat.MonolithicFlat ? Math.Max(size / Sector, 1) : SplitExtentBytes / Sector;
        long left = size / Sector;
        int index = 1;
        do
        {
            lines.Add(new VmdkExtentLine(VmdkAccess.ReadWrite, Math.Min(left, extentSectors), p.Flat ? "FLAT" : "SPARSE", $"image-s{index++:000}.vmdk", 0));
            left -= extentSectors;
        }
        while (left > 0);
        // Its length depends on the file names, so it is counted as the whole 4 KiB block it occupies on a file system.
        long bytes = System.Text.Encoding.UTF8.GetByteCount(VmdkDescriptorBuilder.Build(p.CreateType, 0, NoParentCid, p.BackingFile, lines, size, p.DiskDatabase));
        return (bytes + 4095) / 4096 * 4096;
    }

    /// <summary>Grains of <paramref name="grain"/> bytes the source has data in (zero ranges and holes are skipped).</summary>
    private static long CountDataGrains(BlockDevice source, long grain)
    {
        long count = 0, length = source.Length, offset = 0;
        while (offset < length)
        {
            var status = source.GetStatus(offset, length - offset);
            long next = offset + status.Length;
            if (!status.IsZero && status.HasData)
            {
                long first = offset / grain, last = (next - 1) / grain;
                count += last - first + 1;
                next = Math.Min(length, (last + 1) * grain);
            }
            offset = next;
        }
        return count;
    }
}
