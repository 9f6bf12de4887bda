using System.IO.Hashing;
using Discemu.Block;

namespace Discemu.Partitions.Gpt;

/// <summary>
/// A GUID Partition Table: a protective MBR at LBA 0, the primary header at LBA 1 followed by its partition entry
/// array, and a backup array and header at the end of the disk. A table whose primary copy is damaged is read
/// from the backup (and <see cref="PartitionTable.Check"/> says so and can rewrite the damaged copy).
/// </summary>
public sealed partial class GptTable : PartitionTable
{
    /// <summary>One copy as read: its header and entry array, or why it was refused.</summary>
    private readonly record struct Copy(GptHeader Header, byte[]? Array, string? Problem, long Lba)
    {
        public bool Valid => Problem is null;
    }

    private GptHeader _header;
    private long _primaryEntriesLba;
    private long _backupLba;
    private long _backupEntriesLba;
    private GptEntry[] _entries = [];
    private byte[] _array = [];
    private byte[] _mbr = new byte[Mbr.MbrConstants.SectorLength];
    private IReadOnlyList<Partition>? _partitions;

    private GptTable(BlockDevice device, int sectorSize, string? path) : base(device, sectorSize, path) { }

    /// <summary>Why the primary copy was refused (null when it is valid).</summary>
    public string? PrimaryProblem { get; private set; }

    /// <summary>Why the backup copy was refused (null when it is valid).</summary>
    public string? BackupProblem { get; private set; }

    /// <summary>How the two copies differ when both are valid (null when they agree).</summary>
    public string? CopiesDisagree { get; private set; }

    /// <summary>True when the protective MBR also lists other partitions (a hybrid MBR).</summary>
    public bool IsHybridMbr { get; private set; }

    /// <summary>True when LBA 0 holds a protective MBR (a 0xEE record).</summary>
    public bool HasProtectiveMbr { get; private set; }

    /// <summary>The disk GUID.</summary>
    public Guid DiskGuid => _header.DiskGuid;

    /// <summary>Entries in the partition entry array (the most partitions the table can hold).</summary>
    public int EntryCount => (int)_header.EntryCount;

    /// <summary>The LBA of the backup header.</summary>
    public long BackupHeaderLba => _backupLba;

    /// <inheritdoc/>
    public override PartitionTableFormat Format => GptFormat.Instance;

    /// <inheritdoc/>
    public override string DiskId => DiskGuid.ToString("D").ToUpperInvariant();

    /// <inheritdoc/>
    public override long UsableStart => (long)_header.FirstUsableLba * SectorSize;

    /// <inheritdoc/>
    public override long UsableEnd => ((long)_header.LastUsableLba + 1) * SectorSize;

    /// <inheritdoc/>
    public override IReadOnlyList<string> Warnings
    {
        get
        {
            var w = new List<string>();
            if (PrimaryProblem is not null) w.Add($"The primary GPT is damaged ({PrimaryProblem}); the table was read from the backup.");
            if (BackupProblem is not null) w.Add($"The backup GPT is damaged ({BackupProblem}).");
            if (CopiesDisagree is not null) w.Add($"The primary and backup GPTs disagree ({CopiesDisagree}); the primary is used.");
            if (!HasProtectiveMbr) w.Add("LBA 0 holds no protective MBR.");
            if (IsHybridMbr) w.Add($"Hybrid MBR: the protective MBR also lists {HybridDescription()}.");
            return w;
        }
    }

    /// <inheritdoc/>
    public override IReadOnlyList<Partition> Partitions => _partitions ??= BuildPartitions();

    private List<Partition> BuildPartitions()
    {
        var list = new List<Partition>();
        for (int i = 0; i < _entries.Length; i++)
        {
            var e = _entries[i];
            if (!e.IsUsed) continue;
            long first = (long)Math.Min(e.FirstLba, GptConstants.MaxLba), last = (long)Math.Min(e.LastLba, GptConstants.MaxLba);
            list.Add(new Partition
            {
                Number = i + 1,
                Start = first * SectorSize,
                Length = last >= first ? (last - first + 1) * SectorSize : 0,
                Type = PartitionType.FromGuid(e.Type),
                Name = e.Name,
                Bootable = (e.Attributes & GptAttributes.LegacyBiosBootable) != 0,
                Attributes = e.Attributes,
                UniqueId = e.Unique,
            });
        }
        return list;
    }

    /// <summary>Reads the table: the primary copy when valid, else the backup.</summary>
    /// <exception cref="CorruptImageException">Neither copy is valid.</exception>
    internal static GptTable Read(BlockDevice device, int sectorSize, string? path)
    {
        var table = new GptTable(device, sectorSize, path);
        table.Load();
        return table;
    }

    private void Load()
    {
        _partitions = null;
        long n = SectorCount;
        if (n < 3) throw new CorruptImageException($"The disk ({Device.Length} bytes) is too small for a GPT with {SectorSize}-byte sectors.", Path);
        Device.Read(0, _mbr);
        ReadProtectiveMbr();
        var primary = ReadCopy(1, n);
        // The backup is where the primary says (even a damaged primary's pointer is worth a look: a grown disk
        // keeps its backup at the old end), else at the last LBA.
        var places = new List<long>();
        if (primary.Valid && (long)primary.Header.AlternateLba is var alt and > 1 && alt < n) places.Add(alt);
        else if (UnverifiedAlternateLba(n) is { } guess) places.Add(guess);
        if (!places.Contains(n - 1)) places.Add(n - 1);
        var backup = ReadCopy(places[0], n);
        for (int i = 1; i < places.Count && !backup.Valid; i++)
            if (ReadCopy(places[i], n) is { Valid: true } c) backup = c;
        if (!primary.Valid && !backup.Valid)
            throw new CorruptImageException($"Neither GPT copy is valid: the primary has {primary.Problem}; the backup has {backup.Problem}.", Path);
        var use = primary.Valid ? primary : backup;
        PrimaryProblem = primary.Problem;
        BackupProblem = backup.Problem;
        CopiesDisagree = primary.Valid && backup.Valid ? Compare(primary, backup) : null;
        _header = use.Header;
        _array = use.Array!;
        int arraySectors = ArraySectors(_header);
        _primaryEntriesLba = primary.Valid ? (long)primary.Header.EntriesLba : 2;
        _backupLba = backup.Valid ? backup.Lba : primary.Valid && (long)primary.Header.AlternateLba is > 1 and var a ? a : n - 1;
        _backupEntriesLba = backup.Valid ? (long)backup.Header.EntriesLba : _backupLba - arraySectors;
        _entries = new GptEntry[_header.EntryCount];
        for (int i = 0; i < _entries.Length; i++)
            _entries[i] = GptEntry.Read(_array.AsSpan(i * (int)_header.EntrySize, GptConstants.EntrySize));
    }

    /// <summary>Sectors the entry array occupies (at least the 16 KiB the spec reserves when the entries fit in it).</summary>
    internal int ArraySectors(GptHeader h) => (int)((Math.Max(h.ArrayBytes, GptConstants.MinArrayBytes) + SectorSize - 1) / SectorSize);

    /// <summary>Reads and validates the header at <paramref name="lba"/> and its entry array.</summary>
    private Copy ReadCopy(long lba, long n)
    {
        var sector = new byte[SectorSize];
        Device.Read(lba * SectorSize, sector);
        if (!GptHeader.TryRead(sector, out var h, out string problem)) return new Copy(h, null, problem, lba);
        bool isPrimary = lba == 1;
        long arrayLba = (long)h.EntriesLba, arrayEnd = arrayLba + (h.ArrayBytes + SectorSize - 1) / SectorSize;
        string? fault =
            (long)h.MyLba != lba ? $"a header at LBA {lba} that says it is at LBA {h.MyLba}"
            : arrayEnd > n ? $"a partition entry array (LBA {arrayLba}..{arrayEnd - 1}) beyond the end of the disk"
            : isPrimary && (arrayLba < 2 || arrayEnd > (long)h.FirstUsableLba) ? $"a partition entry array (LBA {arrayLba}..{arrayEnd - 1}) overlapping the header or the usable area"
            : !isPrimary && (arrayLba <= (long)h.LastUsableLba || arrayEnd > lba) ? $"a partition entry array (LBA {arrayLba}..{arrayEnd - 1}) overlapping the usable area or the header"
            : null;
        if (fault is not null) return new Copy(h, null, fault, lba);
        var array = new byte[h.ArrayBytes];
        Device.Read(arrayLba * SectorSize, array);
        if (Crc32.HashToUInt32(array) != h.EntriesCrc) return new Copy(h, null, "a partition entry array CRC32 mismatch", lba);
        return new Copy(h, array, null, lba);
    }

    /// <summary>The backup pointer of a primary header that has the signature but failed validation, when it lies on the disk.</summary>
    private long? UnverifiedAlternateLba(long n)
    {
        var sector = new byte[SectorSize];
        Device.Read(SectorSize, sector);
        if (!GptHeader.HasSignature(sector)) return null;
        ulong alt = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(sector.AsSpan(32));
        return alt > 1 && alt < (ulong)n ? (long)alt : null;
    }

    private static string? Compare(Copy p, Copy b)
    {
        var diffs = new List<string>();
        if (p.Header.DiskGuid != b.Header.DiskGuid) diffs.Add("disk GUID");
        if (p.Header.FirstUsableLba != b.Header.FirstUsableLba || p.Header.LastUsableLba != b.Header.LastUsableLba) diffs.Add("usable range");
        if (p.Header.EntryCount != b.Header.EntryCount || p.Header.EntrySize != b.Header.EntrySize) diffs.Add("entry array size");
        else if (!p.Array.AsSpan().SequenceEqual(b.Array)) diffs.Add("partition entries");
        if ((long)p.Header.AlternateLba != b.Lba) diffs.Add($"the primary's backup pointer (LBA {p.Header.AlternateLba}, backup found at {b.Lba})");
        if (b.Header.AlternateLba != 1) diffs.Add($"the backup's primary pointer (LBA {b.Header.AlternateLba})");
        return diffs.Count == 0 ? null : string.Join(", ", diffs);
    }

    private void ReadProtectiveMbr()
    {
        HasProtectiveMbr = false;
        IsHybridMbr = false;
        if (!Mbr.MbrConstants.HasBootSignature(_mbr)) return;
        bool other = false;
        for (int i = 0; i < Mbr.MbrConstants.RecordCount; i++)
        {
            var r = Mbr.MbrRecord.ReadAt(_mbr, i);
            if (!r.IsUsed) continue;
            if (r.Type == PartitionTypes.MbrGptProtective) HasProtectiveMbr = true;
            else other = true;
        }
        IsHybridMbr = HasProtectiveMbr && other;
    }

    private string HybridDescription()
    {
        var parts = new List<string>();
        for (int i = 0; i < Mbr.MbrConstants.RecordCount; i++)
        {
            var r = Mbr.MbrRecord.ReadAt(_mbr, i);
            if (r.IsUsed && r.Type != PartitionTypes.MbrGptProtective)
                parts.Add($"MBR partition {i + 1} (type 0x{r.Type:x2}, sectors {r.StartLba}..{(long)r.StartLba + r.SectorCount - 1})");
        }
        return string.Join(", ", parts);
    }
}
