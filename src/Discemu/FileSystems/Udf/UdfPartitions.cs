namespace Discemu.FileSystems.Udf;

/// <summary>A run of file content: <see cref="Offset"/> on the device, or -1 when the run reads as zeros.</summary>
internal readonly record struct UdfRun(long Offset, long Length);

/// <summary>
/// A partition as the logical volume maps it (ECMA-167 3/10.7, UDF 2.60 2.2.8-2.2.10): turns a range of
/// logical blocks into byte runs on the device.
/// </summary>
internal abstract class UdfPartition
{
    protected UdfPartition(ushort number, int blockSize, string? path)
    {
        Number = number;
        BlockSize = blockSize;
        Path = path;
    }

    /// <summary>The partition number of the partition descriptor it uses.</summary>
    public ushort Number { get; }

    /// <summary>The logical block size.</summary>
    public int BlockSize { get; }

    /// <summary>The image name for errors.</summary>
    protected string? Path { get; }

    /// <summary>What kind of map it is: physical, sparable, virtual or metadata.</summary>
    public abstract string Kind { get; }

    /// <summary>How many logical blocks it has.</summary>
    public abstract long Blocks { get; }

    /// <summary>Appends the device runs holding <paramref name="length"/> bytes from logical block <paramref name="block"/>.</summary>
    /// <exception cref="CorruptImageException">The range lies outside the partition.</exception>
    public abstract void Map(uint block, long length, List<UdfRun> runs);

    /// <summary>Throws unless the range lies inside the partition.</summary>
    protected void CheckRange(uint block, long length)
    {
        long blocks = (length + BlockSize - 1) / BlockSize;
        if (length < 0 || block + blocks > Blocks)
            throw new CorruptImageException($"Blocks {block}..{block + blocks} lie outside {Kind} partition {Number} ({Blocks} blocks).", Path);
    }

    /// <summary>Adds a run, joining it to the previous one when they touch.</summary>
    public static void Append(List<UdfRun> runs, long offset, long length)
    {
        if (length == 0) return;
        if (runs.Count > 0)
        {
            var last = runs[^1];
            if ((last.Offset < 0 && offset < 0) || (last.Offset >= 0 && offset >= 0 && last.Offset + last.Length == offset))
            {
                runs[^1] = last with { Length = last.Length + length };
                return;
            }
        }
        if (runs.Count >= UdfConstants.MaxExtents) throw new CorruptImageException($"A file is split in more than {UdfConstants.MaxExtents} pieces.");
        runs.Add(new UdfRun(offset, length));
    }
}

/// <summary>A type 1 map: the partition descriptor's sectors, block for block.</summary>
internal sealed class UdfPhysicalPartition(UdfPartitionDescriptor descriptor, int sectorSize, int blockSize, long deviceLength, string? path)
    : UdfPartition(descriptor.Number, blockSize, path)
{
    /// <summary>The partition descriptor.</summary>
    public UdfPartitionDescriptor Descriptor { get; } = descriptor;

    /// <summary>The byte offset of block 0.</summary>
    public long Start { get; } = (long)descriptor.Start * sectorSize;

    /// <inheritdoc/>
    public override string Kind => "physical";

    /// <inheritdoc/>
    public override long Blocks { get; } = Math.Min((long)descriptor.Length * sectorSize, Math.Max(0, deviceLength - (long)descriptor.Start * sectorSize)) / blockSize;

    /// <inheritdoc/>
    public override void Map(uint block, long length, List<UdfRun> runs)
    {
        CheckRange(block, length);
        Append(runs, Start + (long)block * BlockSize, length);
    }
}

/// <summary>A sparable map (UDF 2.60 2.2.9): a physical partition whose defective packets are relocated by a sparing table.</summary>
internal sealed class UdfSparablePartition(UdfPhysicalPartition physical, uint packetLength, Dictionary<uint, uint> spared, int sectorSize, string? path)
    : UdfPartition(physical.Number, physical.BlockSize, path)
{
    /// <summary>The packet length in blocks.</summary>
    public uint PacketLength { get; } = packetLength;

    /// <summary>How many packets the sparing table relocates.</summary>
    public int SparedPackets => spared.Count;

    /// <inheritdoc/>
    public override string Kind => "sparable";

    /// <inheritdoc/>
    public override long Blocks => physical.Blocks;

    /// <inheritdoc/>
    public override void Map(uint block, long length, List<UdfRun> runs)
    {
        CheckRange(block, length);
        long pos = (long)block * BlockSize, end = pos + length;
        long packetBytes = (long)PacketLength * BlockSize;
        while (pos < end)
        {
            long packet = pos / packetBytes;
            long within = pos - packet * packetBytes;
            long n = Math.Min(end - pos, packetBytes - within);
            long offset = spared.TryGetValue((uint)(packet * PacketLength), out uint mapped)
                ? (long)mapped * sectorSize + within
                : physical.Start + pos;
            Append(runs, offset, n);
            pos += n;
        }
    }
}

/// <summary>A virtual map (UDF 2.60 2.2.10): each virtual block is looked up in the virtual allocation table.</summary>
internal sealed class UdfVirtualPartition(UdfPhysicalPartition physical, uint[] table, uint vatBlock, string? path)
    : UdfPartition(physical.Number, physical.BlockSize, path)
{
    private const uint Unused = 0xFFFFFFFF;

    /// <summary>Where the VAT's file entry is, in the physical partition.</summary>
    public uint VatBlock { get; } = vatBlock;

    /// <inheritdoc/>
    public override string Kind => "virtual";

    /// <inheritdoc/>
    public override long Blocks => table.Length;

    /// <inheritdoc/>
    public override void Map(uint block, long length, List<UdfRun> runs)
    {
        CheckRange(block, length);
        for (long done = 0; done < length; done += BlockSize, block++)
        {
            uint target = table[block];
            if (target == Unused) throw new CorruptImageException($"Virtual block {block} is not in use in the VAT.", Path);
            var one = new List<UdfRun>(1);
            physical.Map(target, Math.Min(BlockSize, length - done), one);
            Append(runs, one[0].Offset, one[0].Length);
        }
    }
}

/// <summary>A metadata map (UDF 2.60 2.2.10): the blocks of the metadata file (or its mirror).</summary>
internal sealed class UdfMetadataPartition(UdfPartition physical, UdfRun[] content, long contentLength, bool mirror, uint fileBlock, uint mirrorBlock, string? path)
    : UdfPartition(physical.Number, physical.BlockSize, path)
{
    private readonly long[] _starts = Starts(content);

    /// <summary>True when the mirror file is used because the main file is unreadable.</summary>
    public bool UsesMirror { get; } = mirror;

    /// <summary>Where the metadata file entry is.</summary>
    public uint FileBlock { get; } = fileBlock;

    /// <summary>Where the mirror file entry is.</summary>
    public uint MirrorBlock { get; } = mirrorBlock;

    /// <inheritdoc/>
    public override string Kind => "metadata";

    /// <inheritdoc/>
    public override long Blocks => contentLength / BlockSize;

    private static long[] Starts(UdfRun[] runs)
    {
        var starts = new long[runs.Length + 1];
        for (int i = 0; i < runs.Length; i++) starts[i + 1] = starts[i] + runs[i].Length;
        return starts;
    }

    /// <inheritdoc/>
    public override void Map(uint block, long length, List<UdfRun> runs)
    {
        CheckRange(block, length);
        long pos = (long)block * BlockSize, end = pos + length;
        int i = Array.BinarySearch(_starts, pos);
        if (i < 0) i = ~i - 1;
        for (; pos < end; i++)
        {
            var run = content[i];
            long within = pos - _starts[i];
            long n = Math.Min(end - pos, run.Length - within);
            if (n <= 0) continue;
            if (run.Offset < 0) throw new CorruptImageException($"Metadata block {pos / BlockSize} is not recorded.", Path);
            Append(runs, run.Offset + within, n);
            pos += n;
        }
    }
}
