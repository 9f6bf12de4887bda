using System.Buffers.Binary;
using Discemu.Block;

namespace Discemu.Partitions.Mbr;

/// <summary>
/// An MBR ("DOS") partition table: four primary records in LBA 0, one of which may be an extended partition
/// whose chain of EBRs holds the logical partitions (numbered 5 and up in chain order, as Linux numbers them).
/// </summary>
public sealed partial class MbrTable : PartitionTable
{
    /// <summary>A logical partition and the EBR that describes it (LBAs are absolute).</summary>
    private sealed class Logical(long ebrLba, long startLba, long sectorCount, byte type, byte bootIndicator)
    {
        public long EbrLba { get; set; } = ebrLba;
        public long StartLba { get; } = startLba;
        public long SectorCount { get; } = sectorCount;
        public byte Type { get; set; } = type;
        public byte BootIndicator { get; set; } = bootIndicator;
        public bool Bootable => BootIndicator == MbrConstants.BootActive;
        public long EndLba => StartLba + SectorCount;
    }

    private readonly byte[] _sector0;
    private readonly MbrRecord[] _primary = new MbrRecord[MbrConstants.RecordCount];
    private readonly List<Logical> _logicals = [];
    private readonly List<string> _readProblems = [];
    private readonly List<string> _warnings = [];
    private IReadOnlyList<Partition>? _partitions;

    internal MbrTable(BlockDevice device, int sectorSize, string? path, byte[] sector0, bool readChain = true) : base(device, sectorSize, path)
    {
        _sector0 = sector0;
        for (int i = 0; i < MbrConstants.RecordCount; i++) _primary[i] = MbrRecord.ReadAt(sector0, i);
        Geometry = InferGeometry();
        int extended = 0;
        for (int i = 0; i < MbrConstants.RecordCount; i++)
        {
            if (!_primary[i].IsExtended) continue;
            if (++extended == 1 && readChain) ReadChain(i);
            else if (extended == 2) _warnings.Add($"More than one extended partition: only the logical partitions of partition {ExtendedSlot + 1} are read.");
        }
    }

    /// <inheritdoc/>
    public override PartitionTableFormat Format => MbrFormat.Instance;

    /// <summary>The 32-bit disk signature at offset 440.</summary>
    public uint DiskSignature => BinaryPrimitives.ReadUInt32LittleEndian(_sector0.AsSpan(MbrConstants.DiskSignatureOffset));

    /// <inheritdoc/>
    public override string DiskId => $"0x{DiskSignature:x8}";

    /// <summary>The geometry CHS fields are written with: inferred from the existing records' ending CHS when they
    /// agree with their LBAs, else 255 heads and 63 sectors per track.</summary>
    public MbrGeometry Geometry { get; set; }

    /// <summary>The boot code (the first 440 bytes of LBA 0), preserved by every edit.</summary>
    public ReadOnlyMemory<byte> BootCode => _sector0.AsMemory(0, MbrConstants.BootCodeLength);

    /// <inheritdoc/>
    public override long UsableStart => SectorSize;

    /// <inheritdoc/>
    public override long UsableEnd => Math.Max(SectorSize, Math.Min(SectorCount, MbrConstants.MaxLba32) * SectorSize);

    /// <inheritdoc/>
    public override IReadOnlyList<string> Warnings => _warnings;

    /// <summary>The slot (0–3) of the extended partition whose logical partitions are read, or null.</summary>
    private int? ExtendedSlot
    {
        get
        {
            for (int i = 0; i < MbrConstants.RecordCount; i++)
                if (_primary[i].IsExtended) return i;
            return null;
        }
    }

    /// <inheritdoc/>
    public override IReadOnlyList<Partition> Partitions => _partitions ??= BuildPartitions();

    private List<Partition> BuildPartitions()
    {
        var list = new List<Partition>();
        for (int i = 0; i < MbrConstants.RecordCount; i++)
        {
            var r = _primary[i];
            if (!r.IsUsed) continue;
            list.Add(new Partition
            {
                Number = i + 1,
                Kind = r.IsExtended ? PartitionKind.Extended : PartitionKind.Primary,
                Start = r.StartLba * (long)SectorSize,
                Length = r.SectorCount * (long)SectorSize,
                Type = PartitionType.FromMbrCode(r.Type),
                Bootable = r.BootIndicator == MbrConstants.BootActive,
            });
        }
        for (int i = 0; i < _logicals.Count; i++)
        {
            var l = _logicals[i];
            list.Add(new Partition
            {
                Number = 5 + i,
                Kind = PartitionKind.Logical,
                Start = l.StartLba * SectorSize,
                Length = l.SectorCount * SectorSize,
                Type = PartitionType.FromMbrCode(l.Type),
                Bootable = l.Bootable,
            });
        }
        return list;
    }

    private MbrGeometry InferGeometry()
    {
        foreach (var r in _primary)
        {
            if (!r.IsUsed || r.EndChs.Cylinder >= ChsAddress.MaxCylinder || r.EndChs.Sector < 1 || r.EndChs.Head < 1) continue;
            var g = new MbrGeometry(r.EndChs.Head + 1, r.EndChs.Sector);
            if (r.EndChs.ToLba(g) == (long)r.StartLba + r.SectorCount - 1) return g;
        }
        return MbrGeometry.Default;
    }

    /// <summary>Reads the EBR chain of the extended partition in <paramref name="slot"/>: bounded in length, loops refused.</summary>
    private void ReadChain(int slot)
    {
        long extStart = _primary[slot].StartLba, extEnd = extStart + _primary[slot].SectorCount;
        var visited = new HashSet<long>();
        var sector = new byte[SectorSize];
        long ebr = extStart;
        while (true)
        {
            if (_logicals.Count >= MbrConstants.MaxLogicalPartitions)
                throw new CorruptImageException($"The EBR chain holds more than {MbrConstants.MaxLogicalPartitions} logical partitions.", Path);
            if (!visited.Add(ebr)) throw new CorruptImageException($"The EBR chain loops back to sector {ebr}.", Path);
            if (ebr >= SectorCount) throw new CorruptImageException($"The EBR at sector {ebr} lies beyond the end of the disk.", Path);
            Device.Read(ebr * SectorSize, sector);
            if (!MbrConstants.HasBootSignature(sector))
            {
                if (ebr == extStart && sector.AsSpan(0, MbrConstants.SectorLength).IndexOfAnyExcept((byte)0) < 0) return; // never written: no logical partitions
                throw new CorruptImageException($"The EBR at sector {ebr} has no 0x55AA signature.", Path);
            }
            var data = MbrRecord.ReadAt(sector, 0);
            var link = MbrRecord.ReadAt(sector, 1);
            if (data.IsUsed)
            {
                if (data.IsExtended) _readProblems.Add($"The EBR at sector {ebr} describes an extended partition as its logical partition.");
                _logicals.Add(new Logical(ebr, ebr + data.StartLba, data.SectorCount, data.Type, data.BootIndicator));
            }
            if (!link.IsUsed) return;
            if (!link.IsExtended)
            {
                _readProblems.Add($"The EBR at sector {ebr} links to the next one with type 0x{link.Type:x2}, not an extended type; the chain ends there.");
                return;
            }
            long next = extStart + link.StartLba;
            if (next <= extStart || next >= extEnd)
                throw new CorruptImageException($"The EBR at sector {ebr} links to sector {next}, outside the extended partition ({extStart}..{extEnd}).", Path);
            ebr = next;
        }
    }
}
