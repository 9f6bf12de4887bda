using static Discemu.FileSystems.Fat.FatConstants;

namespace Discemu.FileSystems.Fat;

/// <summary>The volume label: the root directory's label entry and the boot sector's BS_VolLab (and its FAT32 backup), kept equal.</summary>
internal sealed partial class FatFileSystem
{
    private static readonly byte[] NoName = "NO NAME    "u8.ToArray();

    /// <inheritdoc/>
    public void SetLabel(string? label)
    {
        CheckWritable();
        byte[]? bytes = null;
        if (!string.IsNullOrEmpty(label))
        {
            string upper = label.ToUpperInvariant();
            if (upper.Length > ShortNameLength || upper.StartsWith(' ') || upper.Any(c => c != ' ' && !ShortNames.IsShortChar(c)))
                throw new BadArgumentException($"'{label}' is not a valid FAT label (up to 11 letters, digits, spaces and $%'-_@~`!(){{}}^#&, not starting with a space).");
            bytes = ShortNames.Pad(upper.Length > 8 ? upper[..8] : upper, upper.Length > 8 ? upper[8..] : "");
        }
        lock (_sync)
        {
            var root = ReadDir(_root.FirstCluster);
            if (bytes is null)
            {
                if (root.VolumeLabelSlot >= 0)
                {
                    int slot = root.VolumeLabelSlot;
                    root.Bytes[slot * DirEntrySize] = DeletedMarker;
                    WriteSlots(root, slot, 1);
                }
            }
            else if (root.VolumeLabelSlot >= 0)
            {
                int slot = root.VolumeLabelSlot;
                var span = root.Bytes.AsSpan(slot * DirEntrySize, DirEntrySize);
                var e = Stamp(FatDirectoryEntry.Read(span) with { Name = bytes }, new EntryTimes(DateTimeOffset.UtcNow), false);
                e.Write(span);
                WriteSlots(root, slot, 1);
            }
            else
            {
                int slot = FindFreeRun(root, 1, "/");
                Stamp(new FatDirectoryEntry { Name = bytes, Attributes = AttrVolumeId }, null, creating: true).Write(root.Bytes.AsSpan(slot * DirEntrySize, DirEntrySize));
                int count = 1;
                if (_endAfterRun && slot + 1 < root.Length / DirEntrySize && root.Bytes[(slot + 1) * DirEntrySize] != EndMarker)
                {
                    root.Bytes.AsSpan((slot + 1) * DirEntrySize, DirEntrySize).Clear();
                    count++;
                }
                WriteSlots(root, slot, count);
            }
            WriteBootLabel(bytes ?? NoName);
            _label = ReadLabel();
        }
    }

    /// <summary>Writes BS_VolLab in the boot sector and, on FAT32, its backup (only when the extended boot signature is present).</summary>
    private void WriteBootLabel(byte[] label)
    {
        if (_boot.ExtendedSignature != ExtendedBootSignature) return;
        int bps = _boot.BytesPerSector;
        var sector = new byte[BootSectorLength];
        foreach (long at in _boot.HasBackupBoot ? new[] { 0L, (long)_boot.BackupBootSector * bps } : [0L])
        {
            FlushNewClusters();
            _device.Read(at, sector);
            label.CopyTo(sector, _boot.VolumeLabelOffset);
            _device.Write(at, sector);
        }
        _boot = _boot with { VolumeLabel = label };
    }
}
