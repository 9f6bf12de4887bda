using System.Buffers.Binary;
using System.Security.Cryptography;
using Discemu.Block;

namespace Discemu.Partitions.Mbr;

/// <summary>The MBR ("DOS") partitioning scheme: detection, reading and creating tables.</summary>
public sealed class MbrFormat : PartitionTableFormat
{
    /// <summary>The single instance.</summary>
    public static MbrFormat Instance { get; } = new();

    private MbrFormat() { }

    /// <inheritdoc/>
    public override string Name => "mbr";

    /// <inheritdoc/>
    public override string Description => "Master Boot Record (DOS) partition table with extended/logical partitions";

    /// <inheritdoc/>
    public override IReadOnlyList<string> Aliases => ["dos", "msdos"];

    /// <summary>
    /// 50 for a signed LBA 0 whose records look like partitions (boot indicators 0x00/0x80), 40 when they are
    /// all empty, 10 when one is a GPT protective record (GPT claims the disk), 0 for a FAT/NTFS/exFAT boot
    /// sector (a file system without a partition table) or anything else.
    /// </summary>
    public override int Probe(ReadOnlySpan<byte> head, ReadOnlySpan<byte> tail, long diskLength)
    {
        if (!MbrConstants.HasBootSignature(head) || IsVolumeBootRecord(head)) return 0;
        bool any = false;
        for (int i = 0; i < MbrConstants.RecordCount; i++)
        {
            var r = MbrRecord.ReadAt(head, i);
            if (r.BootIndicator is not (0 or MbrConstants.BootActive)) return 0;
            if (!r.IsUsed) continue;
            if (r.Type == PartitionTypes.MbrGptProtective) return 10;
            any = true;
        }
        return any ? 50 : 40;
    }

    /// <summary>True when LBA 0 is a FAT, exFAT or NTFS boot sector rather than an MBR (their records area holds boot code).</summary>
    internal static bool IsVolumeBootRecord(ReadOnlySpan<byte> s)
    {
        if (s.Length < MbrConstants.SectorLength || s[0] is not (0xEB or 0xE9)) return false;
        if (s[3..11].SequenceEqual("NTFS    "u8) || s[3..11].SequenceEqual("EXFAT   "u8)) return true;
        ushort bytesPerSector = BinaryPrimitives.ReadUInt16LittleEndian(s[11..]);
        bool bpb = bytesPerSector is 512 or 1024 or 2048 or 4096 && s[13] != 0 && (s[13] & (s[13] - 1)) == 0;
        return bpb && (s[54..57].SequenceEqual("FAT"u8) || s[82..85].SequenceEqual("FAT"u8));
    }

    /// <inheritdoc/>
    public override PartitionTable Open(BlockDevice device, PartitionTableOpenOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        int sectorSize = CheckSectorSize(options?.SectorSize ?? MbrConstants.SectorLength);
        string? path = options?.Path;
        if (device.Length < sectorSize) throw new CorruptImageException($"The disk ({device.Length} bytes) is smaller than one {sectorSize}-byte sector.", path);
        var sector0 = new byte[sectorSize];
        device.Read(0, sector0);
        if (!MbrConstants.HasBootSignature(sector0)) throw new CorruptImageException("LBA 0 has no MBR boot signature (0x55AA).", path);
        return new MbrTable(device, sectorSize, path, sector0);
    }

    /// <summary>
    /// Writes an empty MBR with a new disk signature and no boot code, then erases GPT headers left at LBA 1
    /// and at the end of the disk so the disk is not read as GPT afterwards.
    /// </summary>
    public override PartitionTable Create(BlockDevice device, PartitionTableCreateOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        options ??= new PartitionTableCreateOptions();
        int sectorSize = CheckSectorSize(options.SectorSize);
        if (device.Length < 2L * sectorSize) throw new BadArgumentException($"The disk ({device.Length} bytes) is too small for a partition table.", options.Path);
        var sector0 = new byte[sectorSize];
        uint signature = options.DiskSignature ?? (uint)RandomNumberGenerator.GetInt32(1, int.MaxValue) << 1 | (uint)RandomNumberGenerator.GetInt32(2);
        BinaryPrimitives.WriteUInt32LittleEndian(sector0.AsSpan(MbrConstants.DiskSignatureOffset), signature);
        var table = new MbrTable(device, sectorSize, options.Path, sector0, readChain: false) { Alignment = options.Alignment };
        table.CommitNew();
        Gpt.GptFormat.EraseHeaders(device);
        device.Flush();
        return table;
    }
}
