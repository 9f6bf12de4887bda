using Discemu.Block;
using Discemu.Formats;
using static Discemu.FileSystems.Fat.FatConstants;

namespace Discemu.FileSystems.Fat;

/// <summary>
/// A read-only consistency check of a FAT12/16/32 volume, like <c>fsck.fat -n</c>: the boot sector (and the
/// FAT32 backup), every FAT copy equal to the first, FAT values in range, every chain free of loops and
/// cross-links, lost clusters (allocated but reached by no entry), directory entries (names, "." and "..",
/// size against chain length, first cluster, long-name sequences and checksums, labels), and the FSInfo free
/// count. Problems are reported in an <see cref="ImageCheckResult"/>: damage as corruptions, lost clusters as
/// leaks. Nothing is written.
/// </summary>
public static partial class FatChecker
{
    /// <summary>Directories nested deeper than this are not followed (a check error).</summary>
    public const int MaxDepth = 256;

    /// <summary>Checks the FAT file system that starts at byte 0 of <paramref name="volume"/>.</summary>
    /// <param name="volume">The volume (a whole disk or one partition).</param>
    /// <returns>The findings; <see cref="ImageCheckResult.ExitCode"/> is 0 when clean.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="volume"/> is null.</exception>
    /// <exception cref="UnsupportedFeatureException">The volume is too large to check in memory.</exception>
    /// <exception cref="ImageAccessException">Reading the device failed.</exception>
    public static ImageCheckResult Check(BlockDevice volume)
    {
        ArgumentNullException.ThrowIfNull(volume);
        var result = new ImageCheckResult();
        var sector = new byte[Math.Min(4096, volume.Length)];
        volume.Read(0, sector);
        if (!FatBootSector.TryRead(sector, out var boot, out string? error))
        {
            Corrupt(result, $"Boot sector: {error}");
            return result;
        }
        long volumeBytes = checked(boot.TotalSectors * boot.BytesPerSector);
        if (volumeBytes > volume.Length)
        {
            Corrupt(result, $"The file system is {volumeBytes} bytes but the device holds only {volume.Length}.");
            return result;
        }
        var run = new Run(volume, boot, result);
        run.CheckBootRegion();
        run.CheckAll();
        return result;
    }

    private static void Corrupt(ImageCheckResult result, string message)
    {
        result.Corruptions++;
        result.Messages.Add($"ERROR: {message}");
    }

    /// <summary>The state of one check.</summary>
    private sealed partial class Run(BlockDevice volume, FatBootSector boot, ImageCheckResult result)
    {
        private const int MaxMessages = 1000;
        private FatTable _fat = null!;
        private int[] _owner = [];
        private readonly List<string> _owners = [""];
        private readonly HashSet<uint> _reportedRange = [];
        private long _fragmented;

        private void Error(string message)
        {
            result.Corruptions++;
            if (result.Messages.Count < MaxMessages) result.Messages.Add($"ERROR: {message}");
        }

        private void Note(string message)
        {
            if (result.Messages.Count < MaxMessages) result.Messages.Add(message);
        }

        /// <summary>FAT32: the backup boot sector equals the first; the FSInfo signatures.</summary>
        public void CheckBootRegion()
        {
            if (!boot.IsFat32Layout) return;
            int bps = boot.BytesPerSector;
            if (boot.HasBackupBoot)
            {
                var main = new byte[bps];
                var backup = new byte[bps];
                volume.Read(0, main);
                volume.Read((long)boot.BackupBootSector * bps, backup);
                if (!main.AsSpan().SequenceEqual(backup)) Error($"The boot sector and its backup (sector {boot.BackupBootSector}) differ.");
            }
            if (boot.HasFsInfo)
            {
                var info = new byte[bps];
                volume.Read((long)boot.FsInfoSector * bps, info);
                if (!FatFsInfo.TryRead(info, out _)) Error($"The FSInfo sector ({boot.FsInfoSector}) has a wrong signature.");
            }
        }

        public void CheckAll()
        {
            _fat = FatTable.Read(volume, boot, boot.ActiveFat);
            CompareCopies();
            ScanValues();
            _owner = new int[_fat.MaxCluster + 1];
            WalkDirectories();
            CountLost();
        }

        /// <summary>Every mirrored FAT must equal the first, byte for byte over the part that holds entries.</summary>
        private void CompareCopies()
        {
            if (!boot.Mirrored || boot.NumberOfFats < 2) return;
            long bytes = FatTypes.FatBytes(boot.Type, boot.ClusterCount + 2);
            var a = new byte[(int)Math.Min(1 << 20, bytes)];
            var b = new byte[a.Length];
            for (int i = 1; i < boot.NumberOfFats; i++)
            {
                for (long at = 0; at < bytes; at += a.Length)
                {
                    int n = (int)Math.Min(a.Length, bytes - at);
                    volume.Read(FatTable.FatStart(boot, 0) + at, a.AsSpan(0, n));
                    volume.Read(FatTable.FatStart(boot, i) + at, b.AsSpan(0, n));
                    int diff = a.AsSpan(0, n).CommonPrefixLength(b.AsSpan(0, n));
                    if (diff < n)
                    {
                        Error($"FAT {i + 1} differs from FAT 1 (first difference at byte {at + diff} of the table).");
                        break;
                    }
                }
            }
        }

        /// <summary>Entries holding 1 or a cluster number past the end (and not a bad or end mark) are corrupt.</summary>
        private void ScanValues()
        {
            uint max = _fat.MaxCluster;
            uint endMin = FatTypes.EndOfChainMin(_fat.Type);
            for (uint c = FirstCluster; c <= max; c++)
            {
                uint v = _fat[c];
                if (v == 1 || v > max && v < endMin && !_fat.IsBad(v))
                {
                    _reportedRange.Add(c);
                    Error($"Cluster {c} points to {v}, out of range (2..{max}).");
                }
            }
        }

        /// <summary>Clusters in use that no chain reached are lost (fsck.fat's "unused clusters").</summary>
        private void CountLost()
        {
            long lost = 0, free = 0, used = 0, chains = 0;
            for (uint c = FirstCluster; c <= _fat.MaxCluster; c++)
            {
                uint v = _fat[c];
                if (v == 0) { free++; continue; }
                if (_fat.IsBad(v)) continue;
                if (_owner[c] != 0) { used++; continue; }
                lost++;
                if (!IsPointedTo(c)) chains++;
            }
            if (lost > 0)
            {
                result.Leaks = (int)Math.Min(int.MaxValue, lost);
                Note($"Leaked cluster: {lost} lost clusters in {Math.Max(1, chains)} chains are allocated but used by no file.");
            }
            result.TotalClusters = boot.ClusterCount;
            result.AllocatedClusters = used + lost;
            result.FragmentedClusters = _fragmented;
            if (boot.HasFsInfo)
            {
                var info = new byte[boot.BytesPerSector];
                volume.Read((long)boot.FsInfoSector * boot.BytesPerSector, info);
                if (FatFsInfo.TryRead(info, out var fsInfo) && fsInfo.FreeCount != FsInfoUnknown && fsInfo.FreeCount != free)
                    Error($"Free cluster summary wrong: FSInfo says {fsInfo.FreeCount}, really {free}.");
            }
        }

        private HashSet<uint>? _pointedTo;

        private bool IsPointedTo(uint cluster)
        {
            if (_pointedTo is null)
            {
                _pointedTo = [];
                for (uint c = FirstCluster; c <= _fat.MaxCluster; c++)
                    if (_owner[c] == 0 && _fat.IsCluster(_fat[c])) _pointedTo.Add(_fat[c]);
            }
            return _pointedTo.Contains(cluster);
        }
    }
}
