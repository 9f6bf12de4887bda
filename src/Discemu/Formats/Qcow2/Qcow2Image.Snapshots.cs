using System.Buffers.Binary;
using System.Text;
using Discemu.Block;
using static Discemu.Formats.Qcow2.Qcow2Constants;

namespace Discemu.Formats.Qcow2;

/// <summary>One entry of the snapshot table.</summary>
internal sealed record Qcow2Snapshot(long L1Offset, uint L1Size, SnapshotInfo Info);

public sealed partial class Qcow2Image
{
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
        Span<byte> fixedPart = stackalloc byte[Qcow2Metadata.SnapshotEntryFixedLength];
        for (uint i = 0; i < h.SnapshotCount; i++)
        {
            if (pos > fileLength - fixedPart.Length) throw new CorruptImageException("The snapshot table runs past the end of the file.", Path);
            File.Read(pos, fixedPart);
            int length = Qcow2SnapshotEntry.DiskLengthOf(fixedPart, Path);
            if (pos + length - h.SnapshotsOffset > Qcow2Metadata.MaxSnapshotTableBytes) throw new CorruptImageException("The snapshot table is too large.", Path);
            // The last entry's padding to 8 bytes may lie past the end of the file.
            var entry = new byte[(int)Math.Min(length, fileLength - pos)];
            File.Read(pos, entry);
            var e = Qcow2SnapshotEntry.Read(entry, Path);
            long vmState = CheckedSize(e.VmStateSize);
            long diskSize = e.DiskSize is { } d ? CheckedSize(d) : h.Size;
            if (e.L1Size > MaxL1Entries) throw new CorruptImageException($"Snapshot '{e.Name}' has an L1 table of {e.L1Size} entries.", Path);
            if (e.L1Size > 0 && (e.L1Offset <= 0 || (e.L1Offset & _layout.ClusterMask) != 0 || e.L1Offset > fileLength - e.L1Size * 8L))
                throw new CorruptImageException($"Snapshot '{e.Name}' has an invalid L1 table offset 0x{e.L1Offset:x}.", Path);
            var date = DateTimeOffset.FromUnixTimeSeconds(e.Seconds).AddTicks(Math.Min(e.Nanoseconds, 999_999_999u) / 100);
            var clock = TimeSpan.FromTicks((long)Math.Min(e.VmClock / 100, (ulong)TimeSpan.MaxValue.Ticks));
            _snapshots.Add(new Qcow2Snapshot(e.L1Offset, e.L1Size, new SnapshotInfo(e.Id, e.Name, vmState, date, clock, diskSize, e.Icount)));
            pos += length;
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
