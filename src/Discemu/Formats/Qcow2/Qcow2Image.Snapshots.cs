using System.Buffers.Binary;
using System.Text;
using Discemu.Block;
using static Discemu.Formats.Qcow2.Qcow2Constants;

namespace Discemu.Formats.Qcow2;

/// <summary>One entry of the snapshot table.</summary>
internal sealed record Qcow2Snapshot(long L1Offset, uint L1Size, SnapshotInfo Info);

public sealed partial class Qcow2Image
{
    /// <summary>Largest extra data per snapshot entry accepted.</summary>
    private const int MaxSnapshotExtraData = 1024;

    /// <summary>Largest snapshot table accepted (bytes).</summary>
    private const long MaxSnapshotTableBytes = 64L << 20;

    private const int SnapshotFixedLength = 40;

    private List<Qcow2Snapshot> _snapshots;

    /// <summary>The parsed snapshot table.</summary>
    internal IReadOnlyList<Qcow2Snapshot> SnapshotTable { get { lock (_lock) return _snapshots.ToList(); } }

    /// <inheritdoc/>
    public IReadOnlyList<SnapshotInfo> Snapshots { get { lock (_lock) return _snapshots.Select(s => s.Info).ToList(); } }

    /// <summary>Bytes the snapshot table occupies on disk (for reference counting).</summary>
    private long _snapshotTableBytes;

    private void LoadSnapshots(long fileLength)
    {
        var h = _header;
        _snapshots = [];
        _snapshotTableBytes = 0;
        if (h.SnapshotCount == 0) return;
        long pos = h.SnapshotsOffset;
        if (pos == 0 || pos >= fileLength) throw new CorruptImageException("The snapshot table lies outside the file.", Path);
        Span<byte> fixedPart = stackalloc byte[SnapshotFixedLength];
        for (uint i = 0; i < h.SnapshotCount; i++)
        {
            if (pos - h.SnapshotsOffset > MaxSnapshotTableBytes) throw new CorruptImageException("The snapshot table is too large.", Path);
            if (pos > fileLength - SnapshotFixedLength) throw new CorruptImageException("The snapshot table runs past the end of the file.", Path);
            File.Read(pos, fixedPart);
            long l1Offset = (long)BinaryPrimitives.ReadUInt64BigEndian(fixedPart);
            uint l1Size = BinaryPrimitives.ReadUInt32BigEndian(fixedPart[8..]);
            int idLength = BinaryPrimitives.ReadUInt16BigEndian(fixedPart[12..]);
            int nameLength = BinaryPrimitives.ReadUInt16BigEndian(fixedPart[14..]);
            uint seconds = BinaryPrimitives.ReadUInt32BigEndian(fixedPart[16..]);
            uint nanoseconds = BinaryPrimitives.ReadUInt32BigEndian(fixedPart[20..]);
            ulong vmClock = BinaryPrimitives.ReadUInt64BigEndian(fixedPart[24..]);
            uint vmState32 = BinaryPrimitives.ReadUInt32BigEndian(fixedPart[32..]);
            uint extraLength = BinaryPrimitives.ReadUInt32BigEndian(fixedPart[36..]);
            if (extraLength > MaxSnapshotExtraData) throw new CorruptImageException($"Snapshot {i} has {extraLength} bytes of extra data.", Path);
            int variable = (int)extraLength + idLength + nameLength;
            if (pos + SnapshotFixedLength > fileLength - variable) throw new CorruptImageException("The snapshot table runs past the end of the file.", Path);
            var rest = new byte[variable];
            File.Read(pos + SnapshotFixedLength, rest);
            var extra = rest.AsSpan(0, (int)extraLength);
            string id = Encoding.UTF8.GetString(rest, (int)extraLength, idLength);
            string name = Encoding.UTF8.GetString(rest, (int)extraLength + idLength, nameLength);
            long vmState = extra.Length >= 8 ? CheckedSize(BinaryPrimitives.ReadUInt64BigEndian(extra)) : vmState32;
            long diskSize = extra.Length >= 16 ? CheckedSize(BinaryPrimitives.ReadUInt64BigEndian(extra[8..])) : h.Size;
            ulong icount = extra.Length >= 24 ? BinaryPrimitives.ReadUInt64BigEndian(extra[16..]) : ulong.MaxValue;
            if (l1Size > MaxL1Entries) throw new CorruptImageException($"Snapshot '{name}' has an L1 table of {l1Size} entries.", Path);
            if (l1Size > 0 && ((l1Offset & _layout.ClusterMask) != 0 || l1Offset <= 0 || l1Offset > fileLength - l1Size * 8L))
                throw new CorruptImageException($"Snapshot '{name}' has an invalid L1 table offset 0x{l1Offset:x}.", Path);
            var date = DateTimeOffset.FromUnixTimeSeconds(seconds).AddTicks(Math.Min(nanoseconds, 999_999_999u) / 100);
            var clock = TimeSpan.FromTicks((long)Math.Min(vmClock / 100, (ulong)TimeSpan.MaxValue.Ticks));
            _snapshots.Add(new Qcow2Snapshot(l1Offset, l1Size, new SnapshotInfo(id, name, vmState, date, clock, diskSize, icount)));
            pos += (SnapshotFixedLength + variable + 7) & ~7;
        }
        _snapshotTableBytes = pos - h.SnapshotsOffset;
    }

    private long CheckedSize(ulong value)
        => value > long.MaxValue / 2 ? throw new CorruptImageException($"Snapshot size {value} is out of range.", Path) : (long)value;

    /// <summary>Reads a snapshot's L1 table.</summary>
    internal ulong[] ReadSnapshotL1(Qcow2Snapshot snapshot)
    {
        var raw = new byte[snapshot.L1Size * 8L];
        if (raw.Length > 0) File.Read(snapshot.L1Offset, raw);
        var l1 = new ulong[snapshot.L1Size];
        Qcow2Layout.DecodeWords(raw, l1);
        return l1;
    }

    /// <inheritdoc/>
    public BlockDevice OpenSnapshot(string idOrName)
    {
        ArgumentNullException.ThrowIfNull(idOrName);
        Qcow2Snapshot? snapshot;
        lock (_lock)
        {
            snapshot = _snapshots.FirstOrDefault(s => s.Info.Id == idOrName) ?? _snapshots.FirstOrDefault(s => s.Info.Name == idOrName);
        }
        if (snapshot is null) throw new BadArgumentException($"No snapshot with id or name '{idOrName}'.", Path);
        return new Qcow2SnapshotDevice(this, ReadSnapshotL1(snapshot), snapshot.Info.VirtualSize);
    }

    /// <summary>A read-only view of the disk as a snapshot left it.</summary>
    private sealed class Qcow2SnapshotDevice(Qcow2Image image, ulong[] l1, long length) : BlockDevice
    {
        public override long Length => length;

        public override DeviceCapabilities Capabilities => DeviceCapabilities.Status;

        protected override void ReadCore(long offset, Span<byte> buffer) => image.ReadMapped(l1, offset, buffer);

        protected override BlockStatus GetStatusCore(long offset, long maxLength)
        {
            Qcow2Extent x;
            lock (image._lock) x = image.MapLocked(l1, offset, maxLength, mergeCompressed: true);
            return x.Kind switch
            {
                Qcow2ClusterKind.Normal => new BlockStatus(x.Length, BlockStatusFlags.Data | BlockStatusFlags.Allocated, 0, x.HostOffset),
                Qcow2ClusterKind.Zero => new BlockStatus(x.Length, BlockStatusFlags.Zero | BlockStatusFlags.Allocated),
                Qcow2ClusterKind.Compressed => new BlockStatus(x.Length, BlockStatusFlags.Data | BlockStatusFlags.Allocated | BlockStatusFlags.Compressed),
                _ => image.BackingStatus(offset, x.Length),
            };
        }
    }
}
