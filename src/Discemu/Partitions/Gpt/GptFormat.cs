using Discemu.Block;
using Discemu.Partitions.Mbr;

namespace Discemu.Partitions.Gpt;

/// <summary>The GUID Partition Table scheme: detection, reading (with fallback to the backup copy) and creating tables.</summary>
public sealed class GptFormat : PartitionTableFormat
{
    /// <summary>The single instance.</summary>
    public static GptFormat Instance { get; } = new();

    private GptFormat() { }

    /// <inheritdoc/>
    public override string Name => "gpt";

    /// <inheritdoc/>
    public override string Description => "GUID Partition Table (UEFI)";

    /// <summary>
    /// 100 for a protective MBR and a valid primary header (at LBA 1 of any supported sector size), 90 for a
    /// protective MBR and only a valid backup header, 80 for a protective MBR alone (a damaged GPT: opening it
    /// says why), 60/50 for a valid header without a protective MBR when LBA 0 holds no MBR partitions, else 0.
    /// </summary>
    public override int Probe(ReadOnlySpan<byte> head, ReadOnlySpan<byte> tail, long diskLength)
    {
        bool signed = MbrConstants.HasBootSignature(head);
        bool protective = false, others = false;
        if (signed)
        {
            for (int i = 0; i < MbrConstants.RecordCount; i++)
            {
                var r = MbrRecord.ReadAt(head, i);
                if (!r.IsUsed) continue;
                if (r.Type == PartitionTypes.MbrGptProtective) protective = true;
                else others = true;
            }
        }
        if (DetectSectorSize(head, tail, out bool primary) is not null)
            return protective ? (primary ? 100 : 90) : others ? 0 : primary ? 60 : 50;
        return protective ? 80 : 0;
    }

    /// <summary>The sector size whose LBA 1 (or, failing that, last LBA) holds a valid GPT header, or null.</summary>
    private static int? DetectSectorSize(ReadOnlySpan<byte> head, ReadOnlySpan<byte> tail, out bool primary)
    {
        primary = true;
        foreach (int ss in SectorSizes)
            if (head.Length >= 2 * ss && GptHeader.TryRead(head.Slice(ss, ss), out var h, out _) && h.MyLba == 1) return ss;
        primary = false;
        foreach (int ss in SectorSizes)
            if (tail.Length >= ss && GptHeader.TryRead(tail[^ss..], out var h, out _) && h.AlternateLba == 1) return ss;
        return null;
    }

    /// <summary>Reads the table. The sector size is the option's, else the one whose LBA 1 or last LBA holds a valid header, else 512.</summary>
    public override PartitionTable Open(BlockDevice device, PartitionTableOpenOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        int ss;
        if (options?.SectorSize is { } given) ss = CheckSectorSize(given);
        else
        {
            long length = device.Length;
            var head = new byte[(int)Math.Min(PartitionTableRegistry.HeadLength, length)];
            var tail = new byte[(int)Math.Min(PartitionTableRegistry.TailLength, length)];
            device.Read(0, head);
            device.Read(length - tail.Length, tail);
            ss = DetectSectorSize(head, tail, out _) ?? SignatureSectorSize(head) ?? 512;
        }
        return GptTable.Read(device, ss, options?.Path);
    }

    private static int? SignatureSectorSize(ReadOnlySpan<byte> head)
    {
        foreach (int ss in SectorSizes)
            if (head.Length >= 2 * ss && GptHeader.HasSignature(head[ss..])) return ss;
        return null;
    }

    /// <summary>Writes an empty GPT (128 entries, first usable LBA just after the primary array) and a protective MBR.</summary>
    public override PartitionTable Create(BlockDevice device, PartitionTableCreateOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        return GptTable.CreateNew(device, options ?? new PartitionTableCreateOptions());
    }

    /// <summary>Zeroes GPT headers at LBA 1 and at the last LBA for every supported sector size (used when an MBR replaces a GPT).</summary>
    internal static void EraseHeaders(BlockDevice device)
    {
        long length = device.Length;
        var probe = new byte[8];
        foreach (int ss in SectorSizes)
        {
            foreach (long at in new[] { (long)ss, (length / ss - 1) * ss })
            {
                if (at < ss || at + ss > length) continue;
                device.Read(at, probe);
                if (GptHeader.HasSignature(probe)) device.Write(at, new byte[GptConstants.HeaderSize]);
            }
        }
    }
}
